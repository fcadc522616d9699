//! Table tests: valid requests and what they parse to; invalid requests and the status each is
//! refused with. Every strict rule cites the RFC 9112 (or RFC 9110) section it enforces.

mod common;

use clab_http::{Method, Version};
use common::{complete, status};

/// A valid request: (request, method, target, version, body, keep_alive).
type Valid<'a> = (&'a [u8], Method, &'a str, Version, &'a [u8], bool);

#[test]
fn valid_requests() {
    let table: &[Valid<'_>] = &[
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", Method::Get, "/", Version::Http11, b"", true),
        (b"HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n", Method::Head, "/x", Version::Http11, b"", true),
        // §3.2.4 asterisk-form for OPTIONS.
        (b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", Method::Options, "*", Version::Http11, b"", true),
        // §3.2.2 absolute-form must be accepted.
        (
            b"GET http://a/p?q HTTP/1.1\r\nHost: a\r\n\r\n",
            Method::Get,
            "http://a/p?q",
            Version::Http11,
            b"",
            true,
        ),
        // §9.3: HTTP/1.0 persists only with keep-alive; Host is optional in 1.0.
        (b"GET / HTTP/1.0\r\n\r\n", Method::Get, "/", Version::Http10, b"", false),
        (
            b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
            Method::Get,
            "/",
            Version::Http10,
            b"",
            true,
        ),
        // §9.6: "close" in a token list, any case, wins over keep-alive.
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, CLOSE\r\n\r\n",
            Method::Get,
            "/",
            Version::Http11,
            b"",
            false,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nConnection: close\r\n\r\n",
            Method::Get,
            "/",
            Version::Http11,
            b"",
            false,
        ),
        // §2.2: an empty line before the request-line is ignored.
        (b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", Method::Get, "/", Version::Http11, b"", true),
        (
            b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
            Method::Post,
            "/echo",
            Version::Http11,
            b"abc",
            true,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
            Method::Post,
            "/",
            Version::Http11,
            b"",
            true,
        ),
        // §7.1: chunked with extensions and trailers; extensions ignored, trailers discarded.
        (
            b"PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n",
            Method::Put,
            "/c",
            Version::Http11,
            b"abc0123456789",
            true,
        ),
        // §7.1.1: extensions by the grammar (BWS around ";" and "=", quoted values) are
        // accepted and ignored.
        (
            b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 ; a = b ;c;d=\"x;\\\"y\"\r\nabc\r\n0;z\r\n\r\n",
            Method::Post,
            "/c",
            Version::Http11,
            b"abc",
            true,
        ),
        // §7.1: leading zeros in a chunk size (1*HEXDIG) do not overflow it.
        (
            b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n000000000000000000003\r\nabc\r\n0\r\n\r\n",
            Method::Post,
            "/c",
            Version::Http11,
            b"abc",
            true,
        ),
        // RFC 9110 §7.2: IP literals and ports in Host.
        (b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", Method::Get, "/", Version::Http11, b"", true),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n", Method::Get, "/", Version::Http11, b"", true),
        // §3: a method of exactly Limits::MAX_METHOD bytes is a method.
        (
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF / HTTP/1.1\r\nHost: a\r\n\r\n",
            Method::Other("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF".into()),
            "/",
            Version::Http11,
            b"",
            true,
        ),
        // RFC 9110 §10.1.4: transfer-coding names are case-insensitive.
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n",
            Method::Post,
            "/",
            Version::Http11,
            b"",
            true,
        ),
        // RFC 9110 §9.1: methods are case-sensitive tokens; unknown ones are kept verbatim.
        (b"get / HTTP/1.1\r\nHost: a\r\n\r\n", Method::Other("get".into()), "/", Version::Http11, b"", true),
        (b"PATCH / HTTP/1.1\r\nHost: a\r\n\r\n", Method::Patch, "/", Version::Http11, b"", true),
        (b"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", Method::Delete, "/", Version::Http11, b"", true),
        // Empty Host value is allowed (RFC 9110 §7.2); OWS around values is trimmed.
        (b"GET / HTTP/1.1\r\nHost:\r\nX:  v \t\r\n\r\n", Method::Get, "/", Version::Http11, b"", true),
        // obs-text is allowed in field values (RFC 9110 §5.5).
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: \xe9t\xe9\r\n\r\n", Method::Get, "/", Version::Http11, b"", true),
    ];
    for (raw, method, target, version, body, keep_alive) in table {
        let r = complete(raw);
        let what = String::from_utf8_lossy(raw);
        assert_eq!(&r.method, method, "{what}");
        assert_eq!(r.target, *target, "{what}");
        assert_eq!(r.version, *version, "{what}");
        assert_eq!(r.body, *body, "{what}");
        assert_eq!(r.keep_alive, *keep_alive, "{what}");
    }
}

#[test]
fn field_values_are_trimmed_and_names_kept() {
    let r = complete(b"GET / HTTP/1.1\r\nHost: a\r\nX-Thing:  v w \t\r\n\r\n");
    assert_eq!(r.headers[1].0, "X-Thing");
    assert_eq!(r.header("x-thing"), Some(&b"v w"[..]));
}

#[test]
fn absolute_form_path() {
    assert_eq!(
        complete(b"GET http://a/p/q?z HTTP/1.1\r\nHost: a\r\n\r\n").path(),
        "/p/q"
    );
    assert_eq!(
        complete(b"GET http://a HTTP/1.1\r\nHost: a\r\n\r\n").path(),
        "/"
    );
}

/// Invalid requests: (request, expected status, rule).
#[rustfmt::skip]
const INVALID: &[(&[u8], u16, &str)] = &[
    // RFC 9112 §5.1: whitespace between field name and colon.
    (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "§5.1 SP before colon"),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n", 400, "§5.1 HTAB before colon"),
    (b"GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400, "§5.1 empty field name"),
    (b"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400, "§5.1 field line without colon"),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX(y): b\r\n\r\n", 400, "§5.1 non-token field name"),
    // RFC 9112 §5.2: obs-fold.
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400, "§5.2 obs-fold SP"),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n", 400, "§5.2 obs-fold HTAB"),
    // RFC 9112 §2.2: whitespace between start-line and first field.
    (b"GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, "§2.2 whitespace before first field"),
    // RFC 9112 §3.2 / RFC 9110 §7.2: Host.
    (b"GET / HTTP/1.1\r\n\r\n", 400, "§3.2 missing Host in HTTP/1.1"),
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "§3.2 repeated Host"),
    (b"GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400, "§3.2 repeated Host in 1.0"),
    (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "RFC 9110 §7.2 invalid Host"),
    (b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "RFC 9110 §7.2 invalid Host"),
    // RFC 9110 §7.2: Host = uri-host [ ":" port ] (RFC 3986 §3.2.2, §3.2.3).
    (b"GET / HTTP/1.1\r\nHost: a:b\r\n\r\n", 400, "RFC 9110 §7.2 non-digit port"),
    (b"GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", 400, "RFC 9110 §7.2 two ports"),
    (b"GET / HTTP/1.1\r\nHost: ::1\r\n\r\n", 400, "RFC 3986 §3.2.2 IPv6 without brackets"),
    (b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, "RFC 3986 §3.2.2 unclosed IP-literal"),
    (b"GET / HTTP/1.1\r\nHost: [zz]:80\r\n\r\n", 400, "RFC 3986 §3.2.2 invalid IPv6address"),
    (b"GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400, "RFC 9110 §7.2 junk after IP-literal"),
    (b"GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400, "RFC 3986 §2.1 bad pct-encoding in host"),
    (b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400, "RFC 9110 §7.2 userinfo is not uri-host"),
    (b"GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400, "RFC 9110 §4.2.1 empty host with a port"),
    // RFC 9112 §6.3 rule 5: invalid or repeated Content-Length.
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", 400, "§6.3 non-digit CL"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, "§6.3 negative CL"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", 400, "§6.3 signed CL"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400, "§6.3 empty CL"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", 400, "§6.3 CL with inner space"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400, "§6.3 CL overflow"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, "§6.3 repeated CL, different"),
    // Strict choice: identical repeats (a list or two lines) are refused too (§6.3 permits either).
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", 400, "§6.3 repeated CL, same (strict)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", 400, "§6.3 CL list, same (strict)"),
    // RFC 9112 §6.1: both Content-Length and Transfer-Encoding.
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "§6.1 CL and TE"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400, "§6.1 TE and CL"),
    // RFC 9112 §6.3 rule 4: final transfer coding must be chunked.
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "§6.3 final coding gzip"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400, "§6.3 chunked not final"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n", 400, "§6.3 chunked not final across lines"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400, "§6.3 empty TE"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400, "§7 chunked twice"),
    (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "§6.1 TE in HTTP/1.0"),
    // RFC 9112 §6.1: an unknown transfer coding (with chunked final) → 501.
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, "§6.1 gzip not implemented"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\nTransfer-Encoding: chunked\r\n\r\n", 501, "§6.1 unknown coding"),
    // RFC 9112 §2.2: bare CR, bare LF (this codec does not accept LF alone), control characters.
    (b"GET / HTTP/1.1\rHost: a\r\n\r\n", 400, "§2.2 bare CR after request line"),
    (b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400, "§2.2 bare CR in field value"),
    (b"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400, "§2.2 bare CR at end of head"),
    (b"GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "§2.2 bare LF after request line"),
    (b"GET / HTTP/1.1\r\nHost: a\n\r\n", 400, "§2.2 bare LF after field"),
    (b"GET / HTTP/1.1\r\nHost: a\r\n\n", 400, "§2.2 bare LF end of head"),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400, "§2.2/RFC 9110 §5.5 NUL in value"),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n", 400, "RFC 9110 §5.5 DEL in value"),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x1bb\r\n\r\n", 400, "RFC 9110 §5.5 ESC in value"),
    (b"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "§3 control in request line"),
    (b"GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "§3.2 non-ASCII target"),
    // RFC 9112 §2.3 / RFC 9110 §15.6.6: version.
    (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "§2.3 HTTP/2.0"),
    (b"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, "§2.3 HTTP/1.2"),
    (b"GET / HTTP/3.1\r\nHost: a\r\n\r\n", 505, "§2.3 HTTP/3.1"),
    (b"GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505, "§2.3 HTTP/0.9"),
    // §2.3: HTTP-version is exactly HTTP-name "/" DIGIT "." DIGIT; any other shape is a
    // malformed request line (400), not an unsupported version (505).
    (b"GET / HTTP/3\r\nHost: a\r\n\r\n", 400, "§2.3 HTTP/3 (no minor digit)"),
    (b"GET / HTTP/1\r\nHost: a\r\n\r\n", 400, "§2.3 HTTP/1 (no minor digit)"),
    (b"GET / HTTP/1.\r\nHost: a\r\n\r\n", 400, "§2.3 HTTP/1. (empty minor)"),
    (b"GET / HTTP/01.1\r\nHost: a\r\n\r\n", 400, "§2.3 two-digit major"),
    (b"GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400, "§2.3 junk after the version"),
    (b"GET / HTTP/1,1\r\nHost: a\r\n\r\n", 400, "§2.3 comma for dot"),
    (b"GET / HTTP/\xd9\xa1.1\r\nHost: a\r\n\r\n", 400, "§2.3 DIGIT is ASCII only"),
    (b"GET / HTTP/1.1/\r\nHost: a\r\n\r\n", 400, "§2.3 trailing slash"),
    (b"GET / HTTP/x\r\nHost: a\r\n\r\n", 400, "§2.3 garbage version"),
    (b"GET / http/1.1\r\nHost: a\r\n\r\n", 400, "§2.3 HTTP-name is case-sensitive"),
    (b"GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400, "§2.3 two-digit minor"),
    (b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, "§3 trailing SP"),
    (b"GET /\r\nHost: a\r\n\r\n", 400, "§3 no version (HTTP/0.9 style)"),
    // RFC 9112 §3: request-line structure and method token.
    (b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "§3 double SP"),
    (b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "§3 HTAB delimiter"),
    (b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "§3.1 non-token method"),
    (b" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "§3 leading SP"),
    // §3: a method over Limits::MAX_METHOD (32) is a malformed request line, not a long URI.
    (b"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "§3 method of 33 bytes"),
    // RFC 9112 §3.2: request-target forms.
    (b"GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400, "§3.2 not origin-form"),
    (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, "§3.2.4 asterisk only for OPTIONS"),
    (b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "§3.2.3 authority-form (not a proxy)"),
    (b"GET /a#f HTTP/1.1\r\nHost: a\r\n\r\n", 400, "§3.2.1 fragment"),
    (b"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400, "RFC 3986 bad percent-encoding"),
    (b"GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "RFC 3986 invalid target byte"),
    // RFC 9112 §7.1: malformed chunked framing.
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", 400, "§7.1 non-hex size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", 400, "§7.1 data longer than size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n", 400, "§7.1 bare LF after size"),
    // §7.1: a size that does not fit in 64 bits is malformed (400), one that fits but is over
    // max_body is too large (413).
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", 400, "§7.1 size of 2^64"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0ffffffffffffffffff\r\n", 400, "§7.1 size over 2^64"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", 413, "§7.1 size of 2^64 - 1 (fits, too large)"),
    // §7.1.1: chunk-ext = *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] ).
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;\r\nabc\r\n0\r\n\r\n", 400, "§7.1.1 \";\" without a name"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;=v\r\nabc\r\n0\r\n\r\n", 400, "§7.1.1 value without a name"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\r\nabc\r\n0\r\n\r\n", 400, "§7.1.1 \"=\" without a value"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\"x\r\nabc\r\n0\r\n\r\n", 400, "§7.1.1 unterminated quoted-string"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a b\r\nabc\r\n0\r\n\r\n", 400, "§7.1.1 two tokens without \";\""),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b c\r\nabc\r\n0\r\n\r\n", 400, "§7.1.1 junk after the value"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b \r\nabc\r\n0\r\n\r\n", 400, "§7.1.1 BWS not followed by \";\""),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=(b)\r\nabc\r\n0\r\n\r\n", 400, "§7.1.1 value neither token nor quoted-string"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0;a,b\r\n\r\n", 400, "§7.1.1 comma in last-chunk extension"),
    // RFC 9110 §10.1.4 / RFC 9112 §7.1: malformed transfer-coding; chunked takes no parameters.
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n", 400, "§7.1 parameters on chunked"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip;q, chunked\r\n\r\n0\r\n\r\n", 400, "RFC 9110 §10.1.4 parameter without a value"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT : v\r\n\r\n", 400, "§7.1.2/§5.1 trailer SP before colon"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: v\r\n w\r\n\r\n", 400, "§7.1.2/§5.2 trailer obs-fold"),
    // Limits that a head alone can reveal.
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n", 413, "Content-Length over max_body"),
];

#[test]
fn invalid_requests() {
    let mut failures = Vec::new();
    for (raw, want, rule) in INVALID {
        let got = common::parse(raw);
        if got != Err(*want) {
            failures.push(format!("{rule}: want {want}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A refused request is refused whatever follows it, and every prefix long enough to show the
/// fault is refused with the same status (the server answers as early as it can).
#[test]
fn invalid_requests_refused_early_and_consistently() {
    for (raw, want, rule) in INVALID {
        assert_eq!(status(raw), *want, "{rule}");
        let mut longer = raw.to_vec();
        longer.extend_from_slice(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(
            status(&longer),
            *want,
            "{rule} (followed by a valid request)"
        );
        for i in 0..raw.len() {
            match common::parse(&raw[..i]) {
                Ok(clab_http::Parsed::Partial) => {}
                Err(s) => assert_eq!(s, *want, "{rule}: prefix {i} refused differently"),
                Ok(other) => panic!("{rule}: prefix {i} parsed as {other:?}"),
            }
        }
    }
}
