//! A strict pre-scan of the request head, run before `httparse`.
//!
//! `httparse` is fast and correct about the grammar, but it is lenient where RFC 9112 lets a
//! recipient be (bare LF line endings) and it can only judge a head once it is complete. This
//! scan finds the end of the head and enforces, *on partial input too*, the rules and limits
//! that must not wait for the head to finish:
//!
//! - §2.2: "A sender MUST NOT generate a bare CR (a CR character not immediately followed by
//!   LF) within any protocol elements other than the content. A recipient of such a bare CR
//!   MUST consider that element to be invalid or replace each bare CR with SP". We refuse it
//!   (400). "Although the line terminator for the start-line and fields is the sequence CRLF,
//!   a recipient MAY recognize a single LF as a line terminator": this codec chooses not to
//!   (bare LF → 400), so one request has one framing for every parser on the path.
//! - §2.2: "In the interest of robustness, a server that is expecting to receive and parse a
//!   request-line SHOULD ignore at least one empty line (CRLF) received prior to the
//!   request-line." Leading CRLFs are skipped (and count towards the head limit).
//! - §2.2: "A recipient that receives whitespace between the start-line and the first header
//!   field MUST either reject the message as invalid or ..." — rejected (400).
//! - §5.1: "No whitespace is allowed between the field name and colon. ... A server MUST
//!   reject, with a response status code of 400 (Bad Request), any received request message
//!   that contains whitespace between a header field name and colon."
//! - §5.2: obs-fold (a field line starting with SP or HTAB): "A server that receives an
//!   obs-fold in a request message that is not within a message/http container MUST either
//!   reject the message by sending a 400 (Bad Request) ..." — rejected.
//! - RFC 9110 §5.5: field values are `*( VCHAR / obs-text / SP / HTAB )`: any other control
//!   character (NUL, DEL, ...) is refused (400).
//! - §2.3: `HTTP-version = HTTP-name "/" DIGIT "." DIGIT`, `HTTP-name = %s"HTTP"` (case-
//!   sensitive). Only that exact shape is a version: a well-formed one other than 1.0/1.1
//!   (`HTTP/2.0`, `HTTP/0.9`, `HTTP/3.1`) gets 505 (RFC 9110 §15.6.6); anything else
//!   (`HTTP/3`, `HTTP/1.10`, `http/1.1`, `HTTP/1.1x`) is a malformed request line: 400.
//! - §3: a method longer than [`Limits::MAX_METHOD`] is refused (400; see `method`).
//! - Limits ([`crate::Limits`]): request line over `max_request_line` → 414, head over
//!   `max_head` or more than `max_headers` fields → 431, checked as soon as crossed.
//!
//! The scan judges bytes strictly in order and stops at the first fault, so a prefix that
//! shows a fault is refused exactly as the whole input is (`tests/split.rs`, `tests/fuzz.rs`).

use crate::ParseErrorKind::{BadRequest, HeadersTooLarge, UnsupportedVersion, UriTooLong};
use crate::syntax::{is_field_byte, is_token};
use crate::{Limits, ParseError};

/// A complete head: its length (through the final CRLF) and its number of field lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub len: usize,
    pub fields: usize,
}

/// A byte allowed in the request line: SP and VCHAR (method, target and version are all
/// visible US-ASCII; obs-text has no place there).
fn is_request_line_byte(b: u8) -> bool {
    b.wrapping_sub(b' ') < 0x5f
}

fn bad(why: &'static str) -> ParseError {
    BadRequest(why).into()
}

/// Scan the head at the front of `buf`. `Ok(None)` means incomplete and within every limit.
pub(crate) fn scan(buf: &[u8], limits: &Limits) -> Result<Option<Head>, ParseError> {
    // Only the first max_head bytes can belong to an acceptable head; judging exactly that
    // window makes the verdict independent of how much extra input has arrived.
    let window = &buf[..buf.len().min(limits.max_head)];
    match scan_window(window, limits)? {
        Some(head) => Ok(Some(head)),
        None if buf.len() > limits.max_head => Err(HeadersTooLarge.into()),
        None => Ok(None),
    }
}

fn scan_window(window: &[u8], limits: &Limits) -> Result<Option<Head>, ParseError> {
    let mut pos = 0;
    while window[pos..].starts_with(b"\r\n") {
        pos += 2;
    }
    let Some(line_end) = request_line(window, pos, limits)? else {
        return Ok(None);
    };
    version(&window[pos..line_end])?;
    pos = line_end + 2;
    let mut fields = 0;
    loop {
        match window.get(pos..pos + 2) {
            None if window.len() - pos < 2 && window[pos..].iter().all(|&b| b == b'\r') => {
                return Ok(None);
            }
            Some(b"\r\n") => {
                return Ok(Some(Head {
                    len: pos + 2,
                    fields,
                }));
            }
            _ => {}
        }
        match window[pos] {
            b'\r' => return Err(bad("bare CR in header section")),
            b'\n' => return Err(bad("bare LF in header section")),
            b' ' | b'\t' => return Err(bad("obs-fold or whitespace before a field line")),
            _ => {}
        }
        fields += 1;
        if fields > limits.max_headers {
            return Err(HeadersTooLarge.into());
        }
        let Some(colon) = field_name(window, pos)? else {
            return Ok(None);
        };
        let Some(cr) = line_end_at(window, colon + 1, is_field_byte)? else {
            return Ok(None);
        };
        pos = cr + 2;
    }
}

/// The request line starting at `start`: index of its CR, or `None` if incomplete.
///
/// Every verdict depends only on the bytes in order, so a prefix that already shows a fault
/// gets the same verdict as the whole input (the server answers as early as it can, and a
/// split read can never change the answer).
fn request_line(window: &[u8], start: usize, limits: &Limits) -> Result<Option<usize>, ParseError> {
    // Never look further than a line of the maximum length plus its CRLF.
    let cap = window.len().min(
        start
            .saturating_add(limits.max_request_line)
            .saturating_add(2),
    );
    let line = &window[start..cap];
    method(line, limits)?;
    let end = first_not(line, is_request_line_byte);
    // A line byte in position max_request_line + 1 proves the line too long, whatever follows
    // it; a CR there may still begin the CRLF of a line of exactly the maximum length.
    if end.unwrap_or(line.len()) > limits.max_request_line {
        return Err(UriTooLong.into());
    }
    match end {
        Some(i) => Ok(line_end(line, i)?.map(|cr| start + cr)),
        None => Ok(None),
    }
}

/// RFC 9112 §3: "A server that receives a method longer than any that it implements SHOULD
/// respond with a 501 (Not Implemented) status code." Unknown methods are the routes' to
/// answer (405/501), so the codec cannot know which it implements; a method token over
/// [`Limits::MAX_METHOD`] is instead treated as a malformed request line (400), decided as
/// soon as that many token bytes have arrived without the SP that ends a method.
fn method(line: &[u8], limits: &Limits) -> Result<(), ParseError> {
    // Only bytes an acceptable line can hold count: when max_request_line is the smaller
    // limit, 414 is the verdict for every prefix alike.
    let line = &line[..line.len().min(limits.max_request_line)];
    match line.get(..=Limits::MAX_METHOD) {
        Some(first) if first.iter().all(|&b| is_token(b)) => Err(bad("method too long")),
        _ => Ok(()),
    }
}

/// A field name starting at `start`, checked up to its colon: index of the colon, or `None`
/// if the name is still incomplete.
fn field_name(window: &[u8], start: usize) -> Result<Option<usize>, ParseError> {
    for (i, &b) in window.iter().enumerate().skip(start) {
        match b {
            b':' if i == start => return Err(bad("empty field name")),
            b':' => return Ok(Some(i)),
            b' ' | b'\t' => return Err(bad("whitespace between field name and colon")),
            b'\r' | b'\n' => return Err(bad("field line without a colon")),
            b if is_token(b) => {}
            _ => return Err(bad("invalid byte in field name")),
        }
    }
    Ok(None)
}

/// Find the CRLF that ends the line whose remaining bytes start at `from`; every byte before
/// it must satisfy `allowed` (which must refuse CR and LF). Returns the index of the CR, or
/// `None` if not yet arrived.
fn line_end_at(
    window: &[u8],
    from: usize,
    allowed: impl Fn(u8) -> bool,
) -> Result<Option<usize>, ParseError> {
    match first_not(&window[from..], allowed) {
        Some(p) => line_end(window, from + p),
        None => Ok(None),
    }
}

/// Judge the first byte `window[i]` that a line may not hold: the CR of a CRLF (its index),
/// `None` if the LF has not arrived yet, or an error.
fn line_end(window: &[u8], i: usize) -> Result<Option<usize>, ParseError> {
    match window[i] {
        b'\r' => match window.get(i + 1) {
            None => Ok(None),
            Some(b'\n') => Ok(Some(i)),
            Some(_) => Err(bad("bare CR")),
        },
        b'\n' => Err(bad("bare LF")),
        _ => Err(bad("control character in request head")),
    }
}

/// Index of the first byte of `bytes` that is not `ok`. Eight bytes at a time, a word test
/// (SWAR) accepts blocks of plain visible ASCII or SP, which is almost every byte of a real
/// head; only a block holding something else (CR, LF, HTAB, obs-text, a control) is checked
/// byte by byte with `ok`.
fn first_not(bytes: &[u8], ok: impl Fn(u8) -> bool) -> Option<usize> {
    let mut i = 0;
    while let Some(block) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(block);
        if !all_visible_or_space(u64::from_le_bytes(word))
            && let Some(p) = block.iter().position(|&b| !ok(b))
        {
            return Some(i + p);
        }
        i += 8;
    }
    bytes[i..].iter().position(|&b| !ok(b)).map(|p| i + p)
}

/// Whether every byte of `x` is in `0x20..=0x7e`. The "has a byte less than n" test is exact
/// as a yes/no answer (borrows can only add false hits above a true one).
fn all_visible_or_space(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    let del = x ^ (ONES * 0x7f);
    let has_del = del.wrapping_sub(ONES) & !del & HIGH;
    (x & HIGH) | below_space | has_del == 0
}

/// Check the HTTP-version at the end of a complete request line (RFC 9112 §2.3, §3).
fn version(line: &[u8]) -> Result<(), ParseError> {
    let Some(sp) = line.iter().rposition(|&b| b == b' ') else {
        return Err(bad("request line without a version"));
    };
    match &line[sp + 1..] {
        b"HTTP/1.1" | b"HTTP/1.0" => Ok(()),
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Err(UnsupportedVersion.into())
        }
        _ => Err(bad("malformed HTTP version")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_test_matches_byte_test() {
        // Every byte value in every position of a word, against a plain-ASCII background.
        for pos in 0..8 {
            for b in 0..=255u8 {
                let mut word = *b"abcdefgh";
                word[pos] = b;
                let want = (0x20..=0x7e).contains(&b);
                assert_eq!(
                    all_visible_or_space(u64::from_le_bytes(word)),
                    want,
                    "{b:#x}@{pos}"
                );
            }
        }
    }

    #[test]
    fn first_not_finds_the_first_bad_byte() {
        let line = b"0123456789abcdef\tXYZ\x80\x01tail";
        assert_eq!(first_not(line, is_field_byte), Some(21));
        assert_eq!(first_not(line, is_request_line_byte), Some(16));
        assert_eq!(first_not(b"short", is_field_byte), None);
        assert_eq!(
            first_not(b"0123456789abcdefgh\r\n", is_field_byte),
            Some(18)
        );
    }
}
