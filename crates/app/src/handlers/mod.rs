//! One file per concept of the service. Handlers are small `async fn`s generic over
//! [`clab_backend::Backend`]; each returns [`crate::error::AppResult`].

pub(crate) mod accounts;
pub(crate) mod cpu;
pub(crate) mod dashboard;
pub(crate) mod hash;
pub(crate) mod hello;
pub(crate) mod probe;
pub(crate) mod users;
pub(crate) mod users_callbacks;

/// Parse a path id: ASCII digits only (no sign, no spaces), fitting an `i64`. A bad id is a
/// 400: the route exists, the input is wrong.
pub(crate) fn parse_id(raw: &str) -> Result<i64, crate::error::AppError> {
    let bad = || {
        crate::error::AppError::BadRequest(format!(
            "invalid user id {raw:?}: expected a positive integer"
        ))
    };
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    raw.parse::<i64>().map_err(|_| bad())
}

/// The raw value of query parameter `name` (the first one), if present.
pub(crate) fn query_param<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query?.split('&').find_map(|pair| {
        pair.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('='))
    })
}
