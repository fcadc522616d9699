//! A tiny hand-written router: match the path's segments to a [`Route`], then the method.
//!
//! No framework on purpose: routing is a `match`, so every model pays the same few
//! nanoseconds for it and the experiments measure scheduling, not a router's cleverness.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::handlers::{accounts, cpu, dashboard, hash, hello, probe, users, users_callbacks};
use clab_backend::Backend;
use clab_http::{Method, Request};

/// `Allow` for the conformance-probe root and `OPTIONS *`: every method the server serves.
pub(crate) const ALLOW_ALL: &str = "GET, HEAD, OPTIONS, POST";
/// `Allow` for read-only routes. HEAD is routed like GET everywhere (the encoder drops the body).
const ALLOW_READ: &str = "GET, HEAD, OPTIONS";
/// `Allow` for POST-only routes.
const ALLOW_POST: &str = "OPTIONS, POST";

/// A known route, with the path parameter it captured (still unparsed: a bad id is a 400 from
/// the handler, not a 404, because the route itself exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// `*` (asterisk-form, RFC 9112 §3.2.4): only meaningful for `OPTIONS`.
    Asterisk,
    Root,
    Plaintext,
    Json,
    Health,
    Echo,
    Hash,
    Cpu,
    User(&'a str),
    Dashboard(&'a str),
    /// `GET /accounts?from=A&to=B`.
    Accounts,
    Account(&'a str),
    AccountMove(&'a str, accounts::Move),
    Transfers,
}

impl<'a> Route<'a> {
    /// Map a request path to a route; `None` is a 404.
    pub(crate) fn resolve(path: &'a str) -> Option<Self> {
        if path == "*" {
            return Some(Self::Asterisk);
        }
        let rest = path.strip_prefix('/')?;
        let mut segments = rest.split('/');
        // `split` always yields at least one item, so `next()` below is `Some` for "/".
        let route = match (
            segments.next()?,
            segments.next(),
            segments.next(),
            segments.next(),
        ) {
            ("", None, _, _) => Self::Root,
            ("plaintext", None, _, _) => Self::Plaintext,
            ("json", None, _, _) => Self::Json,
            ("health", None, _, _) => Self::Health,
            ("echo", None, _, _) => Self::Echo,
            ("hash", None, _, _) => Self::Hash,
            ("cpu", None, _, _) => Self::Cpu,
            ("users", Some(id), None, _) if !id.is_empty() => Self::User(id),
            ("users", Some(id), Some("dashboard"), None) if !id.is_empty() => Self::Dashboard(id),
            ("accounts", None, _, _) => Self::Accounts,
            ("accounts", Some(id), None, _) if !id.is_empty() => Self::Account(id),
            ("accounts", Some(id), Some("withdraw"), None) if !id.is_empty() => {
                Self::AccountMove(id, accounts::Move::Withdraw)
            }
            ("accounts", Some(id), Some("deposit"), None) if !id.is_empty() => {
                Self::AccountMove(id, accounts::Move::Deposit)
            }
            ("transfers", None, _, _) => Self::Transfers,
            _ => return None,
        };
        Some(route)
    }

    /// The methods this route serves, as the value of an `Allow` header.
    pub(crate) fn allow(self) -> &'static str {
        match self {
            Self::Asterisk | Self::Root => ALLOW_ALL,
            Self::Echo | Self::Hash | Self::AccountMove(..) | Self::Transfers => ALLOW_POST,
            Self::Plaintext
            | Self::Json
            | Self::Health
            | Self::Cpu
            | Self::User(_)
            | Self::Dashboard(_)
            | Self::Accounts
            | Self::Account(_) => ALLOW_READ,
        }
    }
}

/// What a method asks for, once HEAD is folded into GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    /// GET or HEAD: the handler always builds the GET response; the server passes
    /// `head_only` to the encoder, which keeps `Content-Length` and drops the body.
    Read,
    Post,
    Options,
    Other,
}

impl Verb {
    fn of(method: &Method) -> Self {
        match method {
            Method::Get | Method::Head => Self::Read,
            Method::Post => Self::Post,
            Method::Options => Self::Options,
            _ => Self::Other,
        }
    }
}

/// Route one request to its handler.
pub(crate) async fn dispatch<B: Backend>(app: &App<B>, req: &Request) -> AppResult {
    let path = req.path();
    let Some(route) = Route::resolve(path) else {
        return Err(AppError::NotFound(format!("no route for {path}")));
    };
    let backend = app.backend();
    match (route, Verb::of(&req.method)) {
        (route, Verb::Options) => Ok(probe::options(route.allow())),
        (Route::Asterisk, _) => Err(AppError::BadRequest(
            "the asterisk-form target is only valid for OPTIONS (RFC 9112 §3.2.4)".into(),
        )),
        (Route::Root, Verb::Read) => Ok(probe::root()),
        (Route::Root, Verb::Post) => Ok(probe::echo_body(req)),
        (Route::Echo, Verb::Post) => Ok(probe::echo_headers(req)),
        (Route::Plaintext, Verb::Read) => Ok(hello::plaintext()),
        (Route::Json, Verb::Read) => Ok(hello::json()),
        (Route::Health, Verb::Read) => Ok(hello::health()),
        // The database routes are boxed: with the async backend one query's future is ~2 KiB
        // (the dashboard's state ~5 KiB), and unboxed arms would make every request's future
        // that big, /plaintext's included (measured by `handle_future_stays_small`). One
        // allocation next to a query is noise; the raw-speed routes stay allocation-free.
        (Route::User(id), Verb::Read) => match app.callbacks() {
            // `--handler-style callbacks` (event-loop): the same route, written with callbacks.
            Some(queries) => Box::pin(users_callbacks::bridged(queries, id)).await,
            None => Box::pin(users::user_with_orders(backend, id)).await,
        },
        (Route::Dashboard(id), Verb::Read) => Box::pin(dashboard::dashboard(backend, id)).await,
        (Route::Hash, Verb::Post) => hash::hash_password(backend, &req.body).await,
        (Route::Cpu, Verb::Read) => cpu::burn(backend, req.query()).await,
        (Route::Accounts, Verb::Read) => Box::pin(accounts::range(backend, req.query())).await,
        (Route::Account(id), Verb::Read) => Box::pin(accounts::balance(backend, id)).await,
        (Route::AccountMove(id, how), Verb::Post) => {
            Box::pin(accounts::move_money(backend, id, how, &req.body)).await
        }
        (Route::Transfers, Verb::Post) => Box::pin(accounts::transfer(backend, &req.body)).await,
        (route, _) => Err(AppError::MethodNotAllowed {
            allow: route.allow(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::Route;
    use crate::handlers::accounts;

    #[test]
    fn resolves_every_route_and_rejects_near_misses() {
        let table: &[(&str, Option<Route<'_>>)] = &[
            ("*", Some(Route::Asterisk)),
            ("/", Some(Route::Root)),
            ("/plaintext", Some(Route::Plaintext)),
            ("/json", Some(Route::Json)),
            ("/health", Some(Route::Health)),
            ("/echo", Some(Route::Echo)),
            ("/hash", Some(Route::Hash)),
            ("/cpu", Some(Route::Cpu)),
            ("/users/7", Some(Route::User("7"))),
            ("/users/abc", Some(Route::User("abc"))),
            ("/users/7/dashboard", Some(Route::Dashboard("7"))),
            ("", None),
            ("plaintext", None),
            ("/plaintext/", None),
            ("/users", None),
            ("/users/", None),
            ("/users//dashboard", None),
            ("/users/7/orders", None),
            ("/users/7/dashboard/x", None),
            ("/accounts", Some(Route::Accounts)),
            ("/accounts/3", Some(Route::Account("3"))),
            (
                "/accounts/3/withdraw",
                Some(Route::AccountMove("3", accounts::Move::Withdraw)),
            ),
            (
                "/accounts/3/deposit",
                Some(Route::AccountMove("3", accounts::Move::Deposit)),
            ),
            ("/transfers", Some(Route::Transfers)),
            ("/accounts/", None),
            ("/accounts/3/steal", None),
            ("/transfers/1", None),
            ("/nope", None),
        ];
        for (path, want) in table {
            assert_eq!(Route::resolve(path), *want, "path {path:?}");
        }
    }
}
