//! A cached IMF-fixdate for the `Date` header, refreshed at most once a second.
//!
//! RFC 9110 §6.6.1: "An origin server with a clock MUST generate a Date header field in all
//! 2xx, 3xx, and 4xx responses, and MAY generate a Date header field in 1xx and 5xx responses."
//! The value has one-second resolution, so formatting it once per second is exact.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
const IMF_FIXDATE_LEN: usize = 29;

/// Formats the current time as an HTTP date, re-formatting only when the second changes.
/// Each worker keeps its own so there is no shared lock on the hot path.
#[derive(Debug)]
pub struct HttpDate {
    /// The Unix second `buf` was formatted for; `u64::MAX` before the first call.
    secs: u64,
    buf: [u8; IMF_FIXDATE_LEN],
}

impl Default for HttpDate {
    fn default() -> Self {
        Self {
            secs: u64::MAX,
            buf: *b"Thu, 01 Jan 1970 00:00:00 GMT",
        }
    }
}

impl HttpDate {
    pub fn new() -> Self {
        Self::default()
    }

    /// The current date as the 29 bytes of an IMF-fixdate.
    pub fn now(&mut self) -> &[u8] {
        // A clock before 1970 is a broken clock; the epoch is the least wrong answer.
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if secs != self.secs {
            let text = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
            // Years past 9999 would not fit the fixed width; keep the previous value then.
            if text.len() == IMF_FIXDATE_LEN {
                self.buf.copy_from_slice(text.as_bytes());
            }
            self.secs = secs;
        }
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::HttpDate;

    #[test]
    fn is_an_imf_fixdate() {
        let mut date = HttpDate::new();
        let now = date.now().to_vec();
        assert_eq!(now.len(), 29);
        assert!(now.ends_with(b" GMT"));
        assert_eq!(now[3], b',');
        let text = std::str::from_utf8(&now).unwrap();
        assert!(httpdate::parse_http_date(text).is_ok(), "{text}");
    }
}
