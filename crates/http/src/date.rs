//! A cached IMF-fixdate for the `Date` header, refreshed at most once a second.

/// Formats the current time as an HTTP date, re-formatting only when the second changes.
/// Each worker keeps its own so there is no shared lock on the hot path.
#[derive(Debug, Default)]
pub struct HttpDate {
    // The helper fills this in (cached second + formatted bytes).
}

impl HttpDate {
    pub fn new() -> Self {
        Self::default()
    }

    /// The current date as the 29 bytes of an IMF-fixdate.
    pub fn now(&mut self) -> &[u8] {
        todo!("clab-http helper implements this")
    }
}
