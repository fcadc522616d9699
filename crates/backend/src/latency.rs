//! Simulated network round trips: the chapter's §02 table as named presets.
//!
//! A profile is drawn once per remote call ([`LatencyProfile::sample`]) and waited *on top of*
//! the real work, so an in-process SQLite query behaves like a database 1–2, 20–30 or 90–100 ms
//! away. The wait itself belongs to the model's [`crate::Wait`]: `std::thread::sleep` for
//! threads, a tokio timer for async tasks, `may`'s sleep for coroutines. That difference is the
//! whole experiment; [`crate::Services`] decides which calls wait.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::Rng;

/// How far away every remote call pretends to be. Parsed from `--latency`:
/// `none`, `localhost` (1–2 ms), `same-region` (20–30 ms), `cross-region` (90–100 ms),
/// `N` (ms) or `A-B` (ms, uniform).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum LatencyProfile {
    #[default]
    None,
    /// Uniform in `[min, max]`. `name` is a preset's name, or `"custom"` for numbers.
    Range {
        name: &'static str,
        min: Duration,
        max: Duration,
    },
}

/// Longest round trip accepted from the command line: a minute is already absurd; anything
/// bigger is a typo (`--latency 2000000`).
const MAX_MS: u64 = 60_000;

const PRESETS: [(&str, u64, u64); 3] = [
    ("localhost", 1, 2),
    ("same-region", 20, 30),
    ("cross-region", 90, 100),
];

impl LatencyProfile {
    /// Draw one round trip (zero for [`LatencyProfile::None`]).
    pub fn sample(&self) -> Duration {
        match *self {
            Self::None => Duration::ZERO,
            Self::Range { min, max, .. } if min >= max => min,
            Self::Range { min, max, .. } => {
                let micros = rand::rng().random_range(min.as_micros()..=max.as_micros());
                Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
            }
        }
    }

    /// True when no call ever waits (so callers can skip the timer entirely).
    pub fn is_none(&self) -> bool {
        match *self {
            Self::None => true,
            Self::Range { max, .. } => max.is_zero(),
        }
    }

    fn range_ms(name: &'static str, min: u64, max: u64) -> Self {
        Self::Range {
            name,
            min: Duration::from_millis(min),
            max: Duration::from_millis(max),
        }
    }
}

/// Why a `--latency` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid latency profile {0:?}: expected none, localhost (1–2 ms), same-region (20–30 ms), \
     cross-region (90–100 ms), a number of ms (e.g. 25) or a range A-B in ms (e.g. 5-15), \
     at most {MAX_MS} ms"
)]
pub struct ParseLatencyError(String);

impl FromStr for LatencyProfile {
    type Err = ParseLatencyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let err = || ParseLatencyError(s.to_owned());
        if text.eq_ignore_ascii_case("none") {
            return Ok(Self::None);
        }
        if let Some(&(name, min, max)) = PRESETS.iter().find(|(n, ..)| text.eq_ignore_ascii_case(n))
        {
            return Ok(Self::range_ms(name, min, max));
        }
        let ms = |t: &str| -> Result<u64, ParseLatencyError> {
            let t = t.trim().strip_suffix("ms").unwrap_or(t.trim()).trim();
            match t.parse::<u64>() {
                Ok(v) if v <= MAX_MS => Ok(v),
                _ => Err(err()),
            }
        };
        let (min, max) = match text.split_once('-') {
            Some((a, b)) => (ms(a)?, ms(b)?),
            None => {
                let v = ms(text)?;
                (v, v)
            }
        };
        if min > max {
            return Err(err());
        }
        if max == 0 {
            return Ok(Self::None);
        }
        Ok(Self::range_ms("custom", min, max))
    }
}

impl fmt::Display for LatencyProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::None => f.write_str("no simulated round trip"),
            Self::Range { name, min, max } => {
                f.write_str("simulated round trip: ")?;
                if name != "custom" {
                    write!(f, "{name} ")?;
                }
                write_ms(f, min)?;
                if min != max {
                    f.write_str("–")?;
                    write_ms(f, max)?;
                }
                f.write_str(" ms")
            }
        }
    }
}

/// Whole milliseconds print as integers; sub-millisecond ranges keep three decimals.
fn write_ms(f: &mut fmt::Formatter<'_>, d: Duration) -> fmt::Result {
    if d.subsec_nanos().is_multiple_of(1_000_000) {
        write!(f, "{}", d.as_millis())
    } else {
        write!(f, "{:.3}", d.as_secs_f64() * 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn parse_table() {
        let table: [(&str, Option<(u64, u64)>); 13] = [
            ("none", Some((0, 0))),
            ("NONE", Some((0, 0))),
            ("0", Some((0, 0))),
            ("localhost", Some((1, 2))),
            ("same-region", Some((20, 30))),
            ("cross-region", Some((90, 100))),
            ("10", Some((10, 10))),
            ("10ms", Some((10, 10))),
            ("5-15", Some((5, 15))),
            (" 5 - 15 ", Some((5, 15))),
            ("15-5", None),
            ("far", None),
            ("-3", None),
        ];
        for (input, want) in table {
            let got = input.parse::<LatencyProfile>();
            match want {
                None => assert!(got.is_err(), "{input:?} should be refused, got {got:?}"),
                Some((0, 0)) => assert_eq!(got, Ok(LatencyProfile::None), "{input:?}"),
                Some((a, b)) => match got {
                    Ok(LatencyProfile::Range { min, max, .. }) => {
                        assert_eq!((min, max), (ms(a), ms(b)), "{input:?}")
                    }
                    other => panic!("{input:?} parsed as {other:?}"),
                },
            }
        }
        for bad in ["", "1.5", "99999999", "1-2-3", "same region"] {
            assert!(bad.parse::<LatencyProfile>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn error_text_lists_the_choices() {
        let msg = "far".parse::<LatencyProfile>().unwrap_err().to_string();
        assert!(
            msg.contains("\"far\"") && msg.contains("same-region"),
            "{msg}"
        );
    }

    #[test]
    fn display_names_the_simulation() {
        let p: LatencyProfile = "same-region".parse().unwrap();
        assert_eq!(p.to_string(), "simulated round trip: same-region 20–30 ms");
        let p: LatencyProfile = "10".parse().unwrap();
        assert_eq!(p.to_string(), "simulated round trip: 10 ms");
        let p: LatencyProfile = "5-15".parse().unwrap();
        assert_eq!(p.to_string(), "simulated round trip: 5–15 ms");
        assert_eq!(LatencyProfile::None.to_string(), "no simulated round trip");
    }

    #[test]
    fn samples_stay_in_range() {
        let p: LatencyProfile = "cross-region".parse().unwrap();
        for _ in 0..1000 {
            let d = p.sample();
            assert!(d >= ms(90) && d <= ms(100), "{d:?}");
        }
        assert_eq!(LatencyProfile::None.sample(), Duration::ZERO);
        assert_eq!("7".parse::<LatencyProfile>().unwrap().sample(), ms(7));
    }
}
