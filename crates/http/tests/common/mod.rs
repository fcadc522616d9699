//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code)]

pub mod props;

use clab_http::{Limits, Parsed, Request, parse_request};

/// Parse with default limits; the status code on error.
pub fn parse(buf: &[u8]) -> Result<Parsed, u16> {
    parse_request(buf, &Limits::default()).map_err(|e| e.status())
}

/// Parse a buffer that must hold exactly one complete request.
pub fn complete(buf: &[u8]) -> Request {
    match parse(buf) {
        Ok(Parsed::Complete { request, consumed }) => {
            assert_eq!(consumed, buf.len(), "consumed the whole buffer");
            request
        }
        other => panic!(
            "expected Complete for {:?}, got {other:?}",
            String::from_utf8_lossy(buf)
        ),
    }
}

/// The status code a buffer is refused with.
pub fn status(buf: &[u8]) -> u16 {
    match parse(buf) {
        Err(status) => status,
        Ok(p) => panic!(
            "expected an error for {:?}, got {p:?}",
            String::from_utf8_lossy(buf)
        ),
    }
}

/// Parse every request of a pipelined stream in order.
pub fn parse_all(mut buf: &[u8]) -> Result<Vec<Request>, u16> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        match parse(buf)? {
            Parsed::Complete { request, consumed } => {
                out.push(request);
                buf = &buf[consumed..];
            }
            Parsed::Partial => return Err(0),
        }
    }
    Ok(out)
}
