//! Encode a response into bytes.

use crate::{HttpDate, Response};

/// Append the bytes of `resp` to `out`: status line, `Server`, `Date`, `Content-Length`, extra
/// headers, `Connection: close` when `!keep_alive || resp.close`, then the body unless
/// `head_only` (a response to HEAD keeps Content-Length but sends no body).
pub fn encode_response(
    resp: &Response,
    head_only: bool,
    keep_alive: bool,
    date: &mut HttpDate,
    out: &mut Vec<u8>,
) {
    let _ = (resp, head_only, keep_alive, date, out);
    todo!("clab-http helper implements this")
}
