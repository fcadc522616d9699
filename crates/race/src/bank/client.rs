//! One blocking HTTP/1.1 keep-alive connection that speaks the accounts contract, built on
//! `clab-http`'s client codec. A worker thread owns one; after any broken exchange it
//! reconnects on the next operation.

use super::history::{Balances, Kind, Outcome};
use clab_http::{ParsedResponse, encode_request, parse_response, response_body};
use serde::Deserialize;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A connection to one server instance.
#[derive(Debug)]
pub struct Client {
    addr: SocketAddr,
    host: String,
    timeout: Duration,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

#[derive(Deserialize)]
struct Account {
    id: u64,
    balance_cents: i64,
}

#[derive(Deserialize)]
struct TransferBody {
    from: Account,
    to: Account,
}

#[derive(Deserialize)]
struct Accounts {
    accounts: Vec<Account>,
}

impl Client {
    pub fn new(addr: SocketAddr, timeout: Duration) -> Self {
        Self {
            addr,
            host: addr.to_string(),
            timeout,
            stream: None,
            buf: Vec::with_capacity(4096),
        }
    }

    /// Perform `kind` (a full read covers `1..=accounts`) and classify the answer.
    pub fn perform(&mut self, kind: &Kind, accounts: u64) -> Outcome {
        let (method, target, body) = match *kind {
            Kind::Withdraw { account, amount } => (
                "POST",
                format!("/accounts/{account}/withdraw"),
                format!(r#"{{"amount":{amount}}}"#),
            ),
            Kind::Deposit { account, amount } => (
                "POST",
                format!("/accounts/{account}/deposit"),
                format!(r#"{{"amount":{amount}}}"#),
            ),
            Kind::Transfer { from, to, amount } => (
                "POST",
                "/transfers".to_owned(),
                format!(r#"{{"from":{from},"to":{to},"amount":{amount}}}"#),
            ),
            Kind::Read => (
                "GET",
                format!("/accounts?from=1&to={accounts}"),
                String::new(),
            ),
        };
        match self.exchange(method, &target, body.as_bytes()) {
            Ok((status, body)) => classify(kind, status, &body),
            Err(error) => {
                // The request may have reached the server and applied: indeterminate.
                self.stream = None;
                Outcome::Indeterminate { error }
            }
        }
    }

    /// One full read, for the initial and final state; an error names what went wrong.
    pub fn read_all(&mut self, accounts: u64) -> Result<Balances, String> {
        match self.perform(&Kind::Read, accounts) {
            Outcome::Ok { balances } => Ok(balances),
            other => Err(format!("full read of accounts 1..={accounts}: {other:?}")),
        }
    }

    fn connect(&mut self) -> Result<&mut TcpStream, String> {
        if self.stream.is_none() {
            let s = TcpStream::connect_timeout(&self.addr, self.timeout)
                .map_err(|e| format!("connect {}: {e}", self.addr))?;
            s.set_read_timeout(Some(self.timeout))
                .map_err(|e| e.to_string())?;
            s.set_write_timeout(Some(self.timeout))
                .map_err(|e| e.to_string())?;
            // Requests are small and answered one at a time: do not wait for Nagle.
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            self.stream = Some(s);
        }
        self.stream
            .as_mut()
            .ok_or_else(|| "no connection".to_owned())
    }

    fn exchange(
        &mut self,
        method: &str,
        target: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), String> {
        let mut req = Vec::with_capacity(256);
        let headers: &[(&str, &str)] = if body.is_empty() {
            &[]
        } else {
            &[("Content-Type", "application/json")]
        };
        encode_request(method, target, &self.host, headers, body, &mut req);
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let stream = self.connect()?;
        stream.write_all(&req).map_err(|e| format!("send: {e}"))?;
        let mut chunk = [0u8; 8192];
        let answer = loop {
            match parse_response(&buf, false).map_err(|e| format!("response: {e}"))? {
                ParsedResponse::Complete {
                    status: 100..=199,
                    consumed,
                    ..
                } => {
                    buf.drain(..consumed);
                }
                parsed @ ParsedResponse::Complete { status, close, .. } => {
                    let body = response_body(&buf, &parsed)
                        .map_err(|e| format!("response body: {e}"))?
                        .into_owned();
                    if close {
                        self.stream = None;
                    }
                    break (status, body);
                }
                ParsedResponse::Partial => {
                    let n = stream
                        .read(&mut chunk)
                        .map_err(|e| format!("receive: {e}"))?;
                    if n == 0 {
                        return Err("connection closed before a whole response".into());
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
        };
        self.buf = buf;
        Ok(answer)
    }
}

/// The outcome a status and body mean under the contract. A 200 or 409 whose body does not
/// parse is indeterminate: it says something happened but not what.
fn classify(kind: &Kind, status: u16, body: &[u8]) -> Outcome {
    let unreadable = |what: &str| Outcome::Indeterminate {
        error: format!(
            "status {status} with an unreadable {what} body: {}",
            String::from_utf8_lossy(body)
        ),
    };
    match status {
        200 => {
            let balances = match kind {
                Kind::Read => serde_json::from_slice::<Accounts>(body).map(|a| {
                    a.accounts
                        .into_iter()
                        .map(|a| (a.id, a.balance_cents))
                        .collect()
                }),
                Kind::Transfer { .. } => serde_json::from_slice::<TransferBody>(body).map(|t| {
                    vec![
                        (t.from.id, t.from.balance_cents),
                        (t.to.id, t.to.balance_cents),
                    ]
                }),
                _ => serde_json::from_slice::<Account>(body).map(|a| vec![(a.id, a.balance_cents)]),
            };
            match balances {
                Ok(balances) => Outcome::Ok { balances },
                Err(_) => unreadable("200"),
            }
        }
        409 => match serde_json::from_slice::<Account>(body) {
            Ok(a) => Outcome::Refused {
                account: a.id,
                balance: a.balance_cents,
            },
            Err(_) => unreadable("409"),
        },
        // 5xx other than 503 promises nothing: it may have applied before failing.
        500..=599 if status != 503 => Outcome::Indeterminate {
            error: format!("status {status}"),
        },
        _ => Outcome::Failed { status },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_classify_by_the_contract() {
        let w = Kind::Withdraw {
            account: 1,
            amount: 5,
        };
        assert_eq!(
            classify(&w, 200, br#"{"id":1,"balance_cents":7}"#),
            Outcome::Ok {
                balances: vec![(1, 7)]
            }
        );
        assert_eq!(
            classify(
                &w,
                409,
                br#"{"error":"insufficient funds","id":1,"balance_cents":3}"#
            ),
            Outcome::Refused {
                account: 1,
                balance: 3
            }
        );
        assert_eq!(classify(&w, 503, b""), Outcome::Failed { status: 503 });
        assert_eq!(classify(&w, 404, b""), Outcome::Failed { status: 404 });
        assert!(matches!(
            classify(&w, 500, b""),
            Outcome::Indeterminate { .. }
        ));
        assert!(matches!(
            classify(&w, 200, b"nope"),
            Outcome::Indeterminate { .. }
        ));
        let t = Kind::Transfer {
            from: 1,
            to: 2,
            amount: 1,
        };
        assert_eq!(
            classify(
                &t,
                200,
                br#"{"from":{"id":1,"balance_cents":4},"to":{"id":2,"balance_cents":9}}"#
            ),
            Outcome::Ok {
                balances: vec![(1, 4), (2, 9)]
            }
        );
        assert_eq!(
            classify(
                &Kind::Read,
                200,
                br#"{"accounts":[{"id":1,"balance_cents":4}],"total_cents":4}"#
            ),
            Outcome::Ok {
                balances: vec![(1, 4)]
            }
        );
    }
}
