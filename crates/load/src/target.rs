//! Targets and the weighted mix: which request each send writes.
//!
//! A target is a method, a path template, a weight, and optionally its own headers and body.
//! They come from the URL (one target), from `--target 'GET /users/{1..10000}' --weight 9`, or
//! from a small TOML file. [`RequestMix`] compiles them once: a literal target is encoded to
//! bytes at startup and copied per request; a templated one is rendered into a reused buffer.

use crate::LoadError;
use crate::rng::FastRng;
use crate::template::Template;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One kind of request in the mix, as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    pub method: String,
    /// Path template (`/users/{1..10000}`), starting with `/`.
    pub path: String,
    pub weight: u32,
    /// Extra headers for this target only (added after the common ones).
    pub headers: Vec<(String, String)>,
    /// This target's body; `None` uses the common body (`-b`).
    pub body: Option<Vec<u8>>,
}

impl TargetSpec {
    /// Parses `--target 'METHOD /path'` (method optional, default GET).
    pub fn parse_cli(spec: &str, weight: u32) -> Result<Self, LoadError> {
        let bad = |reason: &str| LoadError::BadTarget {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let mut words = spec.split_whitespace();
        let (method, path) = match (words.next(), words.next(), words.next()) {
            (Some(path), None, _) if path.starts_with('/') => ("GET", path),
            (Some(method), Some(path), None) => (method, path),
            _ => return Err(bad("expected `METHOD /path`, e.g. `GET /users/{1..100}`")),
        };
        let spec = Self {
            method: method.to_owned(),
            path: path.to_owned(),
            weight,
            headers: Vec::new(),
            body: None,
        };
        spec.validate()?;
        Ok(spec)
    }

    fn validate(&self) -> Result<(), LoadError> {
        let bad = |reason: &str| LoadError::BadTarget {
            spec: format!("{} {}", self.method, self.path),
            reason: reason.to_owned(),
        };
        if self.method.is_empty() || !self.method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(bad("the method must be letters only (GET, POST, …)"));
        }
        if !self.path.starts_with('/') {
            return Err(bad("the path must start with `/`"));
        }
        if self.weight == 0 {
            return Err(bad("weight must be at least 1"));
        }
        Template::parse(&self.path)?;
        Ok(())
    }

    /// Reads a targets file:
    ///
    /// ```toml
    /// [[target]]
    /// method = "GET"            # default GET
    /// path = "/users/{1..10000}"
    /// weight = 9                # default 1
    ///
    /// [[target]]
    /// method = "POST"
    /// path = "/hash"
    /// body = "password=hunter2"
    /// headers = { "Content-Type" = "application/x-www-form-urlencoded" }
    /// ```
    pub fn parse_toml(text: &str, path_for_errors: &str) -> Result<Vec<Self>, LoadError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            target: Vec<Entry>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            method: Option<String>,
            path: String,
            weight: Option<u32>,
            body: Option<String>,
            #[serde(default)]
            headers: BTreeMap<String, String>,
        }
        let file: File = toml::from_str(text).map_err(|e| LoadError::TargetsFile {
            path: path_for_errors.to_owned(),
            reason: e.message().to_owned(),
        })?;
        if file.target.is_empty() {
            return Err(LoadError::TargetsFile {
                path: path_for_errors.to_owned(),
                reason: "no [[target]] entries".to_owned(),
            });
        }
        file.target
            .into_iter()
            .map(|e| {
                let spec = Self {
                    method: e.method.unwrap_or_else(|| "GET".to_owned()),
                    path: e.path,
                    weight: e.weight.unwrap_or(1),
                    headers: e.headers.into_iter().collect(),
                    body: e.body.map(String::into_bytes),
                };
                spec.validate()?;
                Ok(spec)
            })
            .collect()
    }
}

/// Parses `-H 'Name: value'`.
pub fn parse_header(text: &str) -> Result<(String, String), LoadError> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| LoadError::BadHeader(text.to_owned()))?;
    let name = name.trim();
    let valid_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid_name || value.contains(['\r', '\n']) {
        return Err(LoadError::BadHeader(text.to_owned()));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// Everything a worker needs to write requests: the compiled targets and their weights.
#[derive(Debug, Clone)]
pub struct RequestMix {
    /// The `Host` header value.
    authority: String,
    targets: Vec<Compiled>,
    /// Cumulative weights, for a binary-search-free linear pick (mixes are tiny).
    cumulative: Vec<u64>,
    total_weight: u64,
}

#[derive(Debug, Clone)]
struct Compiled {
    method: String,
    template: Template,
    /// Common headers then the target's own, as one list.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// `HEAD` responses carry no body even with a Content-Length.
    head_only: bool,
    /// The whole request, encoded once, when the template has no ranges.
    prebuilt: Option<Vec<u8>>,
}

impl RequestMix {
    /// Compiles `specs` for `authority` (the Host header), with common headers and body.
    pub fn new(
        specs: &[TargetSpec],
        authority: &str,
        common_headers: &[(String, String)],
        common_body: &[u8],
    ) -> Result<Self, LoadError> {
        if specs.is_empty() {
            return Err(LoadError::BadTarget {
                spec: String::new(),
                reason: "no targets".to_owned(),
            });
        }
        let mut targets = Vec::with_capacity(specs.len());
        let mut cumulative = Vec::with_capacity(specs.len());
        let mut total_weight = 0u64;
        for spec in specs {
            spec.validate()?;
            let template = Template::parse(&spec.path)?;
            let mut headers = common_headers.to_vec();
            headers.extend(spec.headers.iter().cloned());
            let mut compiled = Compiled {
                method: spec.method.to_ascii_uppercase(),
                head_only: spec.method.eq_ignore_ascii_case("HEAD"),
                template,
                headers,
                body: spec.body.clone().unwrap_or_else(|| common_body.to_vec()),
                prebuilt: None,
            };
            if compiled.template.is_literal() {
                let mut bytes = Vec::new();
                compiled.encode(authority, &spec.path, &mut bytes);
                compiled.prebuilt = Some(bytes);
            }
            targets.push(compiled);
            total_weight += u64::from(spec.weight);
            cumulative.push(total_weight);
        }
        Ok(Self {
            authority: authority.to_owned(),
            targets,
            cumulative,
            total_weight,
        })
    }

    /// Appends the next request to `out` and returns whether it is a HEAD request.
    /// `scratch` is a reused buffer for template rendering, so nothing is allocated per request.
    pub fn write_next(&self, rng: &mut FastRng, scratch: &mut String, out: &mut Vec<u8>) -> bool {
        let target = if self.targets.len() == 1 {
            &self.targets[0]
        } else {
            let pick = rng.below(self.total_weight);
            let index = self.cumulative.iter().position(|&c| pick < c).unwrap_or(0);
            &self.targets[index]
        };
        match &target.prebuilt {
            Some(bytes) => out.extend_from_slice(bytes),
            None => {
                scratch.clear();
                target.template.render(rng, scratch);
                target.encode(&self.authority, scratch, out);
            }
        }
        target.head_only
    }

    /// The number of targets (for the report).
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

impl Compiled {
    fn encode(&self, authority: &str, path: &str, out: &mut Vec<u8>) {
        // Header lists are tiny; a stack array of borrowed pairs keeps this allocation-free
        // for up to 16 headers (beyond that a Vec, which only unusual mixes pay for).
        let mut pairs: [(&str, &str); 16] = [("", ""); 16];
        if self.headers.len() <= pairs.len() {
            for (slot, (n, v)) in pairs.iter_mut().zip(&self.headers) {
                *slot = (n.as_str(), v.as_str());
            }
            clab_http::encode_request(
                &self.method,
                path,
                authority,
                &pairs[..self.headers.len()],
                &self.body,
                out,
            );
        } else {
            let pairs: Vec<(&str, &str)> = self
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            clab_http::encode_request(&self.method, path, authority, &pairs, &self.body, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cli_targets() {
        let t = TargetSpec::parse_cli("POST /hash", 2).unwrap();
        assert_eq!(
            (t.method.as_str(), t.path.as_str(), t.weight),
            ("POST", "/hash", 2)
        );
        let t = TargetSpec::parse_cli("/users/{1..3}", 1).unwrap();
        assert_eq!(t.method, "GET");
        for bad in ["", "GET", "GET users", "GET /a /b", "G3T /a", "GET /{1..}"] {
            assert!(TargetSpec::parse_cli(bad, 1).is_err(), "{bad}");
        }
        assert!(TargetSpec::parse_cli("GET /", 0).is_err());
    }

    #[test]
    fn parses_headers() {
        assert_eq!(
            parse_header("X-A:  b c ").unwrap(),
            ("X-A".to_owned(), "b c".to_owned())
        );
        for bad in ["nocolon", ": v", "a b: c", "X: a\r\nY: b"] {
            assert!(parse_header(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_toml_file() {
        let text = r#"
            [[target]]
            path = "/users/{1..10}"
            weight = 9
            [[target]]
            method = "POST"
            path = "/hash"
            body = "x"
            headers = { "Content-Type" = "text/plain" }
        "#;
        let specs = TargetSpec::parse_toml(text, "t.toml").unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!((specs[0].method.as_str(), specs[0].weight), ("GET", 9));
        assert_eq!(specs[1].body.as_deref(), Some(&b"x"[..]));
        assert_eq!(
            specs[1].headers,
            vec![("Content-Type".to_owned(), "text/plain".to_owned())]
        );
        assert!(TargetSpec::parse_toml("[[target]]\npth = \"/\"", "t.toml").is_err());
        assert!(TargetSpec::parse_toml("target = []", "t.toml").is_err());
    }

    #[test]
    fn mix_follows_weights_and_encodes_requests() {
        let specs = [
            TargetSpec::parse_cli("GET /users/{1..5}", 9).unwrap(),
            TargetSpec::parse_cli("POST /hash", 1).unwrap(),
        ];
        let headers = [("X-Test".to_owned(), "1".to_owned())];
        let mix = RequestMix::new(&specs, "h:8", &headers, b"pw").unwrap();
        let mut rng = FastRng::new(7);
        let (mut scratch, mut out) = (String::new(), Vec::new());
        let mut gets = 0;
        for _ in 0..10_000 {
            out.clear();
            assert!(!mix.write_next(&mut rng, &mut scratch, &mut out));
            let text = String::from_utf8(out.clone()).unwrap();
            if let Some(rest) = text.strip_prefix("GET /users/") {
                gets += 1;
                let id: u32 = rest.split(' ').next().unwrap().parse().unwrap();
                assert!((1..=5).contains(&id));
            } else {
                let mut expected = Vec::new();
                clab_http::encode_request(
                    "POST",
                    "/hash",
                    "h:8",
                    &[("X-Test", "1")],
                    b"pw",
                    &mut expected,
                );
                assert_eq!(out, expected);
            }
        }
        // Deterministic seed: 9:1 within a wide margin.
        assert!((8_700..=9_300).contains(&gets), "{gets}");
    }

    #[test]
    fn head_requests_are_flagged() {
        let mix = RequestMix::new(
            &[TargetSpec::parse_cli("HEAD /", 1).unwrap()],
            "h",
            &[],
            b"",
        )
        .unwrap();
        let mut out = Vec::new();
        assert!(mix.write_next(&mut FastRng::new(1), &mut String::new(), &mut out));
        assert!(out.starts_with(b"HEAD / HTTP/1.1\r\nHost: h\r\n"));
    }
}
