//! Shared test corpora of the codec, public so the `clab attack` checks send over a socket the
//! very bytes the codec's own tests parse in memory (one list, two users): valid requests, the
//! refused and accepted request-smuggling variants (RFC 9112 §11.2), and the seeded mutation
//! the fuzz harness applies. Not part of the codec's API.

/// Valid single requests, each complete only at its last byte.
pub const VALID: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"\r\nGET /x?y=1 HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;name=val\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\nY: u\r\n\r\n",
    b"PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
];

/// More valid requests for the mutation corpus: the rarer forms the grammar allows.
pub const MORE_VALID: &[&[u8]] = &[
    b"GET http://a/p?q HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    b"PATCH /p HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: ,CHUNKED \t\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 ; a = \"b;\\\"c\" ;d\r\nabc\r\n000\r\n\r\n",
    b"DELETE /%2F HTTP/1.1\r\nHost: a\r\nX: \xe9\t v\r\n\r\n",
];

/// The request a smuggler hopes the server will see next.
pub const NEXT: &[u8] = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

/// Refused variants: (bytes, why it must be refused).
#[rustfmt::skip]
pub const REFUSED: &[(&[u8], &str)] = &[
    // Content-Length (RFC 9112 §6.3 rule 5, RFC 9110 §8.6).
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", "repeated CL, equal: refused so no two parsers pick different lines"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "repeated CL, different: the length is ambiguous"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", "CL list of equal values: §6.3 lets a recipient accept it, this codec does not"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,6\r\n\r\nhello!", "CL list of different values"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", "signed CL: not 1*DIGIT, some parsers read it as 5"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\nhello", "negative CL"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello", "hex CL: a prefix-parsing atoi reads 0"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5.0\r\n\r\nhello", "decimal point in CL"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\nhello", "space inside CL: 5 or 55"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \"5\"\r\n\r\nhello", "quoted CL"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\nhello", "CL of 2^64: wraps to 0 in a 64-bit parser; malformed (400), not too large (413)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \x0b5\r\n\r\nhello", "vertical tab before CL: whitespace to some parsers, a control character here"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\x00\r\n\r\nhello", "NUL after CL: a C parser stops at it"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello", "SP before colon (§5.1): one parser sees Content-Length, another an unknown field"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n 5\r\n\r\nhello", "obs-fold in CL (§5.2): an unfolding parser sees 5, another an empty CL"),
    // Content-Length with Transfer-Encoding (§6.1).
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "CL.TE: the classic; §6.1 lets a server drop CL, refusing is the stricter choice"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", "TE.CL: the same in the other order"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: identity\r\n\r\nabc", "CL with a non-chunked TE"),
    // Transfer-Encoding (§6.1, §6.3 rule 4, §7, RFC 9110 §10.1.4).
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", "chunked not final: the body length cannot be determined (§6.3 rule 4)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n", "TE gzip alone: only close-delimited, which a request cannot be"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", "identity alone (no longer a registered coding): not chunked"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", "xchunked: a substring match would call it chunked"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked x\r\n\r\n0\r\n\r\n", "trailing junk after chunked: not a transfer-coding"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n", "parameters on chunked: §7.1 says their presence SHOULD be an error"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", "quoted chunked: not a token"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n", "vertical tab before chunked: trimmed by some parsers, a control character here"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x00\r\n\r\n0\r\n\r\n", "NUL after chunked: a C parser stops at it"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n0\r\n\r\n", "chunked twice (§7: MUST NOT be applied more than once)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "chunked on two lines: a first-line-wins parser differs from a combining one"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", "chunked not final across lines (RFC 9110 §5.3 combines them)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", "SP before colon (§5.1)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n", "HTAB before colon (§5.1)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", "obs-fold in TE (§5.2): chunked to one parser, empty to another"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "a folded line that looks like TE to a parser that does not unfold"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTrans\x00fer-Encoding: chunked\r\n\r\n0\r\n\r\n", "NUL in a field name"),
    (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "TE in HTTP/1.0: framing is faulty (§6.1), a 1.0 proxy ignores TE"),
    // Line endings (§2.2).
    (b"POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n0\n\n", "bare LF line endings: accepted by lenient parsers, so one head has two framings"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\r\n\r\n0\r\n\r\n", "bare CR at the end of a field line"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nX: a\rTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "bare CR inside a field: a CR-as-line-end parser sees TE"),
    // Chunked framing (§7.1).
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nz\r\nhello\r\n0\r\n\r\n", "non-hex chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", "0x prefix: a strtol parser reads 5, a strict one 0"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", "negative chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", "signed chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n", "leading SP before the chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n", "trailing garbage after the chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", "BWS after the size that no extension follows"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n", "size over 2^64: truncates to 5 in a 64-bit parser; malformed (400), not 413"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a b\r\nhello\r\n0\r\n\r\n", "chunk extension outside the §7.1.1 grammar"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"x\r\nhello\"\r\n0\r\n\r\n", "unterminated quoted extension: a quote-aware parser reads past the CRLF"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nhello\r\n0\r\n\r\n", "bare LF ending an extension"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\rhello\r\n0\r\n\r\n", "bare CR after the chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", "bare LF after the chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello0\r\n\r\n", "missing CRLF after chunk data"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", "chunk data longer than its size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", "bare LF after chunk data"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\n", "bare LF ending the chunked body"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n", "no final CRLF: the next request's line is read as a trailer field and refused"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX: y\r\n z\r\n\r\n", "obs-fold in the trailer section"),
];

/// Accepted on purpose: (bytes, decoded body, why the RFC allows it and why it is safe).
#[rustfmt::skip]
pub const ACCEPTED: &[(&[u8], &[u8], &str)] = &[
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked \r\n\r\n5\r\nhello\r\n0\r\n\r\n", b"hello", "trailing SP is OWS around the value, not part of it (RFC 9110 §5.5)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", b"hello", "HTAB is OWS too"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n", b"hello", "coding names are case-insensitive (RFC 9112 §7)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked,\r\n\r\n5\r\nhello\r\n0\r\n\r\n", b"hello", "empty list elements MUST be ignored (RFC 9110 §5.6.1)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhello", b"hello", "leading zeros are 1*DIGIT, decimal for every parser"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\t\r\n\r\nhello", b"hello", "trailing HTAB is OWS"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n005\r\nhello\r\n0\r\n\r\n", b"hello", "leading zeros in a chunk size are 1*HEXDIG"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 ; a = \"b;\\\"c\"\r\nhello\r\n0\r\n\r\n", b"hello", "extension by the §7.1.1 grammar (BWS, quoted-string with quoted-pair), ignored"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n", b"hello", "a trailer named Content-Length is discarded, never merged into the head (§7.1.2)"),
];

/// Bytes that matter to the grammar, so mutations hit interesting paths often.
pub const ALPHABET: &[u8] = b"\r\n :;,=\"\\\t0123456789abcdefABCDEF/[]%\x00\x0b\x7f\xffHTTP";

/// Fragments a smuggler would splice in: framing fields, codings, odd numbers and line ends.
pub const DICTIONARY: &[&[u8]] = &[
    b"\r\n",
    b"\r\n\r\n",
    b"\n",
    b"\r\n ",
    b"Content-Length: 5\r\n",
    b"Content-Length: ",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: ",
    b"chunked",
    b", chunked",
    b"gzip, ",
    b"Host: a\r\n",
    b"Host: [::1]:80\r\n",
    b"Connection: close\r\n",
    b"0\r\n\r\n",
    b"5\r\nhello\r\n",
    b";a=\"b\"",
    b";x",
    b"ffffffffffffffffff",
    b"18446744073709551616",
    b"HTTP/1.0",
    b"HTTP/2.0",
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
];

/// A fixed-seed xorshift PRNG: every run sees the same inputs, so a failure reproduces.
#[derive(Debug, Clone)]
pub struct XorShift(pub u64);

impl XorShift {
    // A generator, not an iterator: it never ends, and callers draw numbers, not items.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len())]
    }
}

/// Apply one to four random edits: overwrite, delete or insert a byte, splice in a
/// dictionary fragment, or duplicate a slice of the input.
pub fn mutate(rng: &mut XorShift, buf: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(buf.len() + 1);
        match rng.below(6) {
            0 if at < buf.len() => buf[at] = *rng.pick(ALPHABET),
            1 if at < buf.len() => {
                buf.remove(at);
            }
            2 => {
                let fragment = rng.pick(DICTIONARY);
                buf.splice(at..at, fragment.iter().copied());
            }
            3 if at < buf.len() => {
                let end = at + rng.below(buf.len() - at + 1);
                let copy = buf[at..end].to_vec();
                let to = rng.below(buf.len() + 1);
                buf.splice(to..to, copy);
            }
            _ => buf.insert(at, *rng.pick(ALPHABET)),
        }
    }
}
