//! Request-target templates: `/users/{1..10000}` draws a uniform random integer in
//! `1..=10000` for each request. Everything else is copied as written.

use crate::LoadError;
use crate::rng::FastRng;
use std::fmt::Write as _;

/// A parsed template: literal pieces and inclusive integer ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// Inclusive range `lo..=hi`.
    Range {
        lo: u64,
        hi: u64,
    },
}

impl Template {
    /// Parses `text`; `{a..b}` with integers `a <= b` is a range, any other brace is an error
    /// (so a typo such as `{1-10}` is reported instead of being sent literally).
    pub fn parse(text: &str) -> Result<Self, LoadError> {
        let bad = |reason: String| LoadError::BadTarget {
            spec: text.to_owned(),
            reason,
        };
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .ok_or_else(|| bad("unclosed `{`".to_owned()))?;
            let inner = &rest[open + 1..close];
            let (lo, hi) = inner
                .split_once("..")
                .ok_or_else(|| bad(format!("`{{{inner}}}` is not a range; write {{a..b}}")))?;
            let parse = |s: &str| {
                s.trim().parse::<u64>().map_err(|_| {
                    bad(format!(
                        "`{s}` in `{{{inner}}}` is not a non-negative integer"
                    ))
                })
            };
            let (lo, hi) = (parse(lo)?, parse(hi)?);
            if lo > hi {
                return Err(bad(format!("empty range {{{lo}..{hi}}}")));
            }
            parts.push(Part::Range { lo, hi });
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err(bad("`}` without `{`".to_owned()));
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// True when the template has no ranges, so its rendering can be computed once.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// Appends one rendering to `out` (no allocation once `out` has grown).
    pub fn render(&self, rng: &mut FastRng, out: &mut String) {
        for part in &self.parts {
            match *part {
                Part::Literal(ref s) => out.push_str(s),
                Part::Range { lo, hi } => {
                    let span = hi - lo;
                    let value = if span == u64::MAX {
                        rng.next_u64()
                    } else {
                        lo + rng.below(span + 1)
                    };
                    // Writing an integer into a String cannot fail.
                    let _ = write!(out, "{value}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_renders_as_is() {
        let t = Template::parse("/plaintext?a=b").unwrap();
        assert!(t.is_literal());
        let mut out = String::new();
        t.render(&mut FastRng::new(3), &mut out);
        assert_eq!(out, "/plaintext?a=b");
    }

    #[test]
    fn ranges_stay_in_bounds_and_cover_them() {
        let t = Template::parse("/users/{1..3}/posts/{7..7}").unwrap();
        assert!(!t.is_literal());
        let mut rng = FastRng::new(42);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..300 {
            let mut out = String::new();
            t.render(&mut rng, &mut out);
            seen.insert(out);
        }
        let expected: std::collections::BTreeSet<String> =
            (1..=3).map(|i| format!("/users/{i}/posts/7")).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn rejects_malformed_braces() {
        for bad in [
            "/u/{1-10}",
            "/u/{1..",
            "/u/{5..1}",
            "/u/}",
            "/u/{a..b}",
            "/u/{}",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }
}
