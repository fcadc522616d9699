//! Request smuggling (RFC 9112 §11.2) over a socket: each of the codec's refused
//! Content-Length / Transfer-Encoding variants (`clab_http::corpus::REFUSED`, the very bytes
//! `crates/http/tests/smuggling.rs` parses in memory) is sent on a fresh connection with a
//! second request appended. The variant passes when the server answers exactly one 400 and
//! closes. A second response means the server picked one framing of an ambiguous request and
//! parsed what followed as a new request on the same connection: where a front end picks
//! another framing, that is the desync a smuggler needs. (Some variants are framings the RFC
//! lets a server accept, such as dropping Content-Length beside chunked and closing; the check
//! holds every variant to the codec's stricter rule, and its details name each one.)

use crate::report::CheckResult;
use crate::target::Target;
use crate::wire::{End, Exchange, exchange, parallel};
use clab_http::corpus::{NEXT, REFUSED};
use std::time::Duration;

/// Bounds of the smuggling check.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long to wait for the answer and the close of one variant.
    pub wait: Duration,
    /// Variants in flight at once.
    pub parallel: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            wait: Duration::from_secs(1),
            parallel: 8,
        }
    }
}

/// What one variant got, from the smuggler's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// One 400, then the close: refused.
    Refused,
    /// More than one response: the server framed the ambiguous request one way and answered
    /// bytes behind it as another request, on a connection it should have closed.
    TwoResponses,
    /// One success or redirect response: the variant was accepted as a request.
    Accepted,
    /// One response with another status.
    OtherStatus,
    /// The right answer, but the connection stayed open.
    NotClosed,
    /// Nothing within the wait (the server is waiting for bytes it thinks are still to come).
    NoAnswer,
    /// Closed (or reset) without a response.
    SilentClose,
    /// Bytes that are not a response, or the connect failed.
    Broken,
}

fn classify(x: &Exchange) -> Outcome {
    if matches!(x.end, End::Garbage(_)) {
        return Outcome::Broken;
    }
    match x.statuses()[..] {
        [] if x.end.is_closed() => Outcome::SilentClose,
        [] => Outcome::NoAnswer,
        [_, _, ..] => Outcome::TwoResponses,
        [400] if x.end.is_closed() => Outcome::Refused,
        [400] => Outcome::NotClosed,
        [s] if s < 400 => Outcome::Accepted,
        [_] => Outcome::OtherStatus,
    }
}

fn describe(x: &std::io::Result<Exchange>) -> String {
    match x {
        Err(e) => format!("connect failed: {e}"),
        Ok(x) => {
            let end = match &x.end {
                End::Closed => "closed".to_owned(),
                End::Reset => "reset".to_owned(),
                End::Open => "still open".to_owned(),
                End::Garbage(why) => why.clone(),
            };
            format!(
                "got {:?}, then {end} after {:?}",
                x.statuses(),
                x.ended_after
            )
        }
    }
}

pub fn run(target: &Target, config: &Config) -> CheckResult {
    let mut result = CheckResult::new("smuggling");
    let exchanges = parallel(REFUSED, config.parallel, |(raw, _)| {
        exchange(target.addr, &[raw, NEXT].concat(), config.wait)
    });
    let outcomes: Vec<Outcome> = exchanges
        .iter()
        .map(|x| x.as_ref().map_or(Outcome::Broken, classify))
        .collect();
    let n = |o: Outcome| outcomes.iter().filter(|&&x| x == o).count();
    result.count("variants", REFUSED.len());
    result.count("refused_400_closed", n(Outcome::Refused));
    result.count("two_responses", n(Outcome::TwoResponses));
    result.count("accepted", n(Outcome::Accepted));
    result.count("other_status", n(Outcome::OtherStatus));
    result.count("400_not_closed", n(Outcome::NotClosed));
    result.count("no_answer", n(Outcome::NoAnswer));
    result.count("closed_silently", n(Outcome::SilentClose));
    result.count("broken", n(Outcome::Broken));
    result.figure("wait_per_variant", config.wait.as_secs_f64() * 1000.0, "ms");
    for ((x, o), (_, why)) in exchanges.iter().zip(&outcomes).zip(REFUSED) {
        if *o != Outcome::Refused {
            result.details.push(format!("{why}: {}", describe(x)));
        }
    }
    let mut failures = Vec::new();
    let bad = REFUSED.len() - n(Outcome::Refused);
    if bad > 0 {
        failures.push(format!(
            "{bad} of {} variants not answered with one 400 and a close",
            REFUSED.len()
        ));
    }
    if n(Outcome::TwoResponses) > 0 {
        failures.push(format!(
            "{} answered twice (the ambiguous request was framed and the bytes behind it \
             answered as another request)",
            n(Outcome::TwoResponses)
        ));
    }
    result.judge(
        &failures,
        format!("all {} variants got one 400 and a close", REFUSED.len()),
    );
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_400_and_a_close_is_a_refusal() {
        assert_eq!(
            classify(&Exchange::of(&[400], End::Closed)),
            Outcome::Refused
        );
        assert_eq!(
            classify(&Exchange::of(&[400], End::Reset)),
            Outcome::Refused
        );
        assert_eq!(
            classify(&Exchange::of(&[400], End::Open)),
            Outcome::NotClosed
        );
        assert_eq!(
            classify(&Exchange::of(&[200, 200], End::Open)),
            Outcome::TwoResponses
        );
        assert_eq!(
            classify(&Exchange::of(&[400, 400], End::Closed)),
            Outcome::TwoResponses
        );
        assert_eq!(
            classify(&Exchange::of(&[200], End::Closed)),
            Outcome::Accepted
        );
        assert_eq!(
            classify(&Exchange::of(&[501], End::Closed)),
            Outcome::OtherStatus
        );
        assert_eq!(classify(&Exchange::of(&[], End::Open)), Outcome::NoAnswer);
        assert_eq!(
            classify(&Exchange::of(&[], End::Closed)),
            Outcome::SilentClose
        );
        assert_eq!(
            classify(&Exchange::of(&[400], End::Garbage("x".into()))),
            Outcome::Broken
        );
    }
}
