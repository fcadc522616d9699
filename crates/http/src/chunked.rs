//! Chunked transfer-coding decoder (RFC 9112 §7.1).
//!
//! ```text
//! chunked-body   = *chunk last-chunk trailer-section CRLF
//! chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! chunk-size     = 1*HEXDIG
//! last-chunk     = 1*("0") [ chunk-ext ] CRLF
//! chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! chunk-ext-name = token
//! chunk-ext-val  = token / quoted-string
//! trailer-section = *( field-line CRLF )
//! ```
//!
//! The decoder is a small explicit state machine over bytes. It keeps its position, so a caller
//! may feed it a growing buffer; [`crate::parse_request`] is stateless and simply starts a fresh
//! decoder on each call. Data chunks are copied as slices, everything else byte by byte.
//!
//! §7.1: "Recipients MUST anticipate potentially large hexadecimal numerals and prevent parsing
//! errors due to integer conversion overflows": a chunk size that does not fit in 64 bits is
//! malformed framing (400), not a large body; a size that fits but crosses `max_body` is 413,
//! decided when the size's digits end (only then is it known which of the two it is).
//! §7.1.1: "A recipient MUST ignore unrecognized chunk extensions." Every extension is
//! unrecognized here, but it must still match the grammar above (anything else is 400: a
//! lenient recipient and a strict one would otherwise disagree about where the size line
//! ends), and the whole line is bounded by [`Limits::MAX_CHUNK_LINE`].
//! §7.1.2: trailer fields are parsed (name, colon, value bytes) and discarded: this codec never
//! merges them into the header section.

use crate::ParseErrorKind::{BadRequest, BodyTooLarge, HeadersTooLarge};
use crate::syntax::{is_field_byte, is_token, parameters_end};
use crate::{Limits, ParseError};

/// Bounds for one chunked body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkLimits {
    /// Largest decoded body (413 past it).
    pub max_body: usize,
    /// Largest encoded body including framing and trailers (413 past it): stops a body of many
    /// tiny chunks from costing far more bytes than its decoded size.
    pub max_wire: usize,
    /// Largest trailer section (431 past it).
    pub max_trailer: usize,
    /// Most trailer fields (431 past it).
    pub max_trailer_fields: usize,
}

/// Where the decoder is inside the chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex digits of a chunk size.
    Size,
    /// After the size, until CR: chunk extensions (judged whole when the CR arrives).
    Ext,
    /// Expecting the LF that ends the chunk-size line.
    SizeLf,
    /// Copying chunk data; the field is how many bytes are still due.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataCr,
    DataLf,
    /// At the start of a trailer line, or the final CRLF.
    TrailerStart,
    /// Inside a trailer field name.
    TrailerName,
    /// Inside a trailer field value, until CR.
    TrailerValue,
    TrailerLf,
    /// Expecting the LF of the final CRLF.
    EndLf,
    Done,
}

/// Result of feeding bytes to the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// The whole chunked body ends `wire_len` bytes into the input; `body_len` bytes decoded.
    Done { wire_len: usize, body_len: usize },
    /// More input needed.
    NeedMore,
}

/// Chunked-body decoder; see the module docs.
#[derive(Debug, Clone)]
pub(crate) struct ChunkedDecoder {
    state: State,
    limits: ChunkLimits,
    /// Bytes of the input already processed.
    pos: usize,
    /// Decoded bytes so far.
    body_len: usize,
    /// Size of the chunk whose size line is being read.
    size: u64,
    digits: usize,
    /// Start of the current chunk-size line, for [`Limits::MAX_CHUNK_LINE`].
    line_start: usize,
    /// Where the chunk extensions of the current size line start (just after the size).
    ext_start: usize,
    /// Start of the trailer section, for `max_trailer`.
    trailer_start: usize,
    trailer_fields: usize,
}

fn bad(why: &'static str) -> ParseError {
    BadRequest(why).into()
}

impl ChunkedDecoder {
    pub(crate) fn new(limits: ChunkLimits) -> Self {
        Self {
            state: State::Size,
            limits,
            pos: 0,
            body_len: 0,
            size: 0,
            digits: 0,
            line_start: 0,
            ext_start: 0,
            trailer_start: 0,
            trailer_fields: 0,
        }
    }

    /// Continue decoding `input`, which must start with the bytes given on earlier calls.
    /// Decoded data is appended to `out` when it is `Some`; with `None` the call only validates
    /// and measures (no allocation), which is what a stateless parser does until the body is
    /// complete.
    pub(crate) fn advance(
        &mut self,
        input: &[u8],
        mut out: Option<&mut Vec<u8>>,
    ) -> Result<Progress, ParseError> {
        while self.pos < input.len() && self.state != State::Done {
            if self.pos >= self.limits.max_wire {
                return Err(BodyTooLarge.into());
            }
            if let State::Data(due) = self.state {
                let avail = input.len() - self.pos;
                let take = usize::try_from(due).map_or(avail, |d| d.min(avail));
                let end = self.pos + take;
                if let Some(out) = out.as_deref_mut() {
                    out.extend_from_slice(&input[self.pos..end]);
                }
                self.pos = end;
                let left = due - take as u64;
                self.state = if left == 0 {
                    State::DataCr
                } else {
                    State::Data(left)
                };
                continue;
            }
            if self.state == State::Ext {
                self.state = self.extensions(input)?;
                continue;
            }
            let b = input[self.pos];
            self.pos += 1;
            self.state = self.step(b)?;
        }
        if self.state == State::Done {
            return Ok(Progress::Done {
                wire_len: self.pos,
                body_len: self.body_len,
            });
        }
        Ok(Progress::NeedMore)
    }

    /// One byte outside chunk data.
    fn step(&mut self, b: u8) -> Result<State, ParseError> {
        match self.state {
            // A byte other than the CR in position MAX_CHUNK_LINE + 1 makes the line too long.
            State::Size if self.pos - self.line_start > Limits::MAX_CHUNK_LINE && b != b'\r' => {
                Err(bad("chunk-size line too long"))
            }
            State::Size => self.size_byte(b),
            State::SizeLf => {
                expect_lf(b)?;
                Ok(self.chunk_start())
            }
            State::DataCr if b == b'\r' => Ok(State::DataLf),
            State::DataCr => Err(bad("chunk data longer than its size")),
            State::DataLf => {
                expect_lf(b)?;
                self.line_start = self.pos;
                self.size = 0;
                self.digits = 0;
                Ok(State::Size)
            }
            State::TrailerStart => self.trailer_line_start(b),
            State::TrailerName => match b {
                b':' => Ok(State::TrailerValue),
                b if is_token(b) => Ok(State::TrailerName),
                // RFC 9112 §5.1 applies to trailer fields as well: no whitespace before ':'.
                _ => Err(bad("invalid trailer field name")),
            },
            State::TrailerValue => match b {
                b'\r' => Ok(State::TrailerLf),
                b if is_field_byte(b) => self.trailer_limit(State::TrailerValue),
                _ => Err(bad("invalid byte in trailer field")),
            },
            State::TrailerLf => {
                expect_lf(b)?;
                Ok(State::TrailerStart)
            }
            State::EndLf => {
                expect_lf(b)?;
                Ok(State::Done)
            }
            State::Ext | State::Data(_) | State::Done => Ok(self.state),
        }
    }

    fn size_byte(&mut self, b: u8) -> Result<State, ParseError> {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ if self.digits == 0 => return Err(bad("missing chunk size")),
            // BWS or ";" begins the extensions (BWS alone, "5 \r\n", is refused there).
            b' ' | b'\t' | b';' => {
                self.size_complete()?;
                self.ext_start = self.pos - 1;
                return Ok(State::Ext);
            }
            b'\r' => {
                self.size_complete()?;
                return Ok(State::SizeLf);
            }
            _ => return Err(bad("invalid byte in chunk size")),
        };
        self.digits += 1;
        self.size = self
            .size
            .checked_mul(16)
            .and_then(|s| s.checked_add(u64::from(digit)))
            .ok_or_else(|| bad("chunk size does not fit in 64 bits"))?;
        Ok(State::Size)
    }

    /// The size's digits have ended: refuse a size that crosses the body limit before any of
    /// its data arrives.
    fn size_complete(&self) -> Result<(), ParseError> {
        let total = (self.body_len as u64).saturating_add(self.size);
        if total > self.limits.max_body as u64 {
            return Err(BodyTooLarge.into());
        }
        Ok(())
    }

    /// Chunk extensions: find the CR that ends the size line (only field bytes before it,
    /// within [`Limits::MAX_CHUNK_LINE`]), then judge the extensions by their grammar.
    fn extensions(&mut self, input: &[u8]) -> Result<State, ParseError> {
        let limit = input
            .len()
            .min(self.line_start + Limits::MAX_CHUNK_LINE + 1);
        let Some(p) = input[self.pos..limit]
            .iter()
            .position(|&b| !is_field_byte(b))
        else {
            if limit - self.line_start > Limits::MAX_CHUNK_LINE {
                return Err(bad("chunk-size line too long"));
            }
            self.pos = limit;
            return Ok(State::Ext);
        };
        let cr = self.pos + p;
        if input[cr] != b'\r' {
            return Err(bad("invalid byte in chunk extension"));
        }
        let ext = &input[self.ext_start..cr];
        if parameters_end(ext, 0, false) != Some(ext.len()) {
            return Err(bad("malformed chunk extension"));
        }
        self.pos = cr + 1;
        Ok(State::SizeLf)
    }

    /// The chunk-size line is complete: data follows, or the trailer section for size 0.
    fn chunk_start(&mut self) -> State {
        if self.size == 0 {
            self.trailer_start = self.pos;
            return State::TrailerStart;
        }
        // The size was checked against max_body, which fits in usize.
        self.body_len += self.size as usize;
        State::Data(self.size)
    }

    fn trailer_line_start(&mut self, b: u8) -> Result<State, ParseError> {
        match b {
            b'\r' => Ok(State::EndLf),
            // RFC 9112 §5.2: obs-fold is not accepted (a line starting with whitespace).
            b' ' | b'\t' => Err(bad("obs-fold in trailer section")),
            b if is_token(b) => {
                self.trailer_fields += 1;
                if self.trailer_fields > self.limits.max_trailer_fields {
                    return Err(HeadersTooLarge.into());
                }
                self.trailer_limit(State::TrailerName)
            }
            _ => Err(bad("invalid trailer field name")),
        }
    }

    fn trailer_limit(&self, next: State) -> Result<State, ParseError> {
        if self.pos - self.trailer_start > self.limits.max_trailer {
            return Err(HeadersTooLarge.into());
        }
        Ok(next)
    }
}

/// RFC 9112 §2.2: a CR must be followed by LF ("bare CR" is refused).
fn expect_lf(b: u8) -> Result<(), ParseError> {
    if b == b'\n' {
        Ok(())
    } else {
        Err(bad("bare CR in chunked body"))
    }
}

/// Decode a whole chunked body from the front of `input` in two passes: measure without
/// allocating, then copy only once the body is complete. Returns `None` while incomplete.
pub(crate) fn decode(
    input: &[u8],
    limits: ChunkLimits,
) -> Result<Option<(Vec<u8>, usize)>, ParseError> {
    let mut scan = ChunkedDecoder::new(limits);
    let Progress::Done { wire_len, body_len } = scan.advance(input, None)? else {
        return Ok(None);
    };
    let mut body = Vec::with_capacity(body_len);
    ChunkedDecoder::new(limits).advance(&input[..wire_len], Some(&mut body))?;
    Ok(Some((body, wire_len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ChunkLimits = ChunkLimits {
        max_body: 100,
        max_wire: 1000,
        max_trailer: 100,
        max_trailer_fields: 3,
    };

    fn run(input: &[u8]) -> Result<Option<(Vec<u8>, usize)>, ParseError> {
        decode(input, LIMITS)
    }

    #[test]
    fn decodes_chunks_with_extensions_and_trailers() {
        let input = b"4;a=b\r\nWiki\r\n5 ; x\r\npedia\r\n0\r\nT: v\r\n\r\nrest";
        let (body, wire) = run(input).unwrap().unwrap();
        assert_eq!(body, b"Wikipedia");
        assert_eq!(&input[wire..], b"rest");
    }

    #[test]
    fn every_prefix_needs_more() {
        let input = b"4\r\nWiki\r\n0\r\nT: v\r\n\r\n";
        for i in 0..input.len() {
            assert_eq!(run(&input[..i]).unwrap(), None, "prefix {i}");
        }
    }

    #[test]
    fn incremental_feeding_matches_whole() {
        let input = b"a\r\n0123456789\r\n3\r\nabc\r\n0\r\n\r\n";
        let mut dec = ChunkedDecoder::new(LIMITS);
        let mut out = Vec::new();
        for i in 0..input.len() {
            assert_eq!(
                dec.advance(&input[..i], Some(&mut out)).unwrap(),
                Progress::NeedMore
            );
        }
        let done = dec.advance(input, Some(&mut out)).unwrap();
        assert_eq!(
            done,
            Progress::Done {
                wire_len: input.len(),
                body_len: 13
            }
        );
        assert_eq!(out, b"0123456789abc");
    }

    #[test]
    fn rejects_malformed_framing() {
        for bad_input in [
            &b"\r\n"[..],
            b"x\r\n",
            b"4\nWiki\r\n0\r\n\r\n",
            b"4\r\nWikiX\r\n0\r\n\r\n",
            b"4\r\nWiki\r\r0\r\n\r\n",
            b"4 x\r\nWiki\r\n",
            b"4 \r\nWiki\r\n",
            b"0\r\n T: v\r\n\r\n",
            b"0\r\nT : v\r\n\r\n",
            b"0\r\nT: \x01\r\n\r\n",
            b"ffffffffffffffffff\r\n",
        ] {
            let err = run(bad_input).unwrap_err();
            assert!(matches!(err.status(), 400 | 413), "{bad_input:?}: {err:?}");
        }
    }

    #[test]
    fn body_limit_at_boundary_and_one_past() {
        let mut ok = b"64\r\n".to_vec();
        ok.extend_from_slice(&[b'a'; 100]);
        ok.extend_from_slice(b"\r\n0\r\n\r\n");
        assert_eq!(run(&ok).unwrap().unwrap().0.len(), 100);
        // 101 bytes is refused from the size line alone, before any data.
        assert_eq!(run(b"65\r\n").unwrap_err().status(), 413);
        assert_eq!(run(b"64\r\n").unwrap(), None);
    }

    #[test]
    fn trailer_limits() {
        assert!(run(b"0\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n").unwrap().is_some());
        let too_many = run(b"0\r\na: 1\r\nb: 2\r\nc: 3\r\nd").unwrap_err();
        assert_eq!(too_many.status(), 431);
    }
}
