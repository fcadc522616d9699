//! Valid requests shared by the split tests and the fuzz harness's mutation corpus.

/// Valid single requests, each complete only at its last byte.
pub const VALID: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"\r\nGET /x?y=1 HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;name=val\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\nY: u\r\n\r\n",
    b"PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
];

/// More valid requests for the mutation corpus: the rarer forms the grammar allows.
pub const MORE_VALID: &[&[u8]] = &[
    b"GET http://a/p?q HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    b"PATCH /p HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: ,CHUNKED \t\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 ; a = \"b;\\\"c\" ;d\r\nabc\r\n000\r\n\r\n",
    b"DELETE /%2F HTTP/1.1\r\nHost: a\r\nX: \xe9\t v\r\n\r\n",
];
