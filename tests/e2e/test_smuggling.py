"""Malformed and ambiguous requests: 400, connection closed, nothing reaches
the upstream (request smuggling defences, RFC 9110/9112)."""

from __future__ import annotations

import pytest

from e2e_client import RawConn, build_request, raw_exchange
from e2e_proxy import cluster, simple_config

H = "Host: test.local\r\n"

# (id, raw request bytes, whether the head alone is bad: then the upstream
# must see nothing at all)
HEAD_CASES = [
    ("cl-and-te",
     f"POST / HTTP/1.1\r\n{H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("te-and-cl",
     f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
    ("duplicate-differing-cl",
     f"POST / HTTP/1.1\r\n{H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
    ("cl-list-differing",
     f"POST / HTTP/1.1\r\n{H}Content-Length: 5, 6\r\n\r\nhello!"),
    ("cl-not-a-number",
     f"POST / HTTP/1.1\r\n{H}Content-Length: abc\r\n\r\n"),
    ("cl-negative",
     f"POST / HTTP/1.1\r\n{H}Content-Length: -1\r\n\r\n"),
    ("cl-plus-sign",
     f"POST / HTTP/1.1\r\n{H}Content-Length: +5\r\n\r\nhello"),
    ("cl-hex",
     f"POST / HTTP/1.1\r\n{H}Content-Length: 0x5\r\n\r\nhello"),
    ("te-last-not-chunked",
     f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
    ("te-gzip-only",
     f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: gzip\r\n\r\n"),
    ("te-unknown-xchunked",
     f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"),
    ("te-split-last-not-chunked",
     f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n"),
    ("space-before-colon",
     f"GET / HTTP/1.1\r\n{H}X-Foo : bar\r\n\r\n"),
    ("space-before-colon-host",
     "GET / HTTP/1.1\r\nHost : test.local\r\n\r\n"),
    ("tab-before-colon-te",
     f"POST / HTTP/1.1\r\n{H}Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n"),
    ("obs-fold",
     f"GET / HTTP/1.1\r\n{H}X-Foo: bar\r\n baz\r\n\r\n"),
    ("obs-fold-tab",
     f"GET / HTTP/1.1\r\n{H}X-Foo: bar\r\n\tbaz\r\n\r\n"),
    ("header-name-with-space",
     f"GET / HTTP/1.1\r\n{H}X Foo: bar\r\n\r\n"),
    ("header-name-with-paren",
     f"GET / HTTP/1.1\r\n{H}X(Foo): bar\r\n\r\n"),
    ("header-name-control-char",
     f"GET / HTTP/1.1\r\n{H}X\x01Foo: bar\r\n\r\n"),
    ("header-empty-name",
     f"GET / HTTP/1.1\r\n{H}: bar\r\n\r\n"),
    ("header-no-colon",
     f"GET / HTTP/1.1\r\n{H}NoColonHere\r\n\r\n"),
    ("header-value-nul",
     f"GET / HTTP/1.1\r\n{H}X-Foo: a\x00b\r\n\r\n"),
    ("header-value-control",
     f"GET / HTTP/1.1\r\n{H}X-Foo: a\x01b\r\n\r\n"),
    ("header-value-del",
     f"GET / HTTP/1.1\r\n{H}X-Foo: a\x7fb\r\n\r\n"),
    ("header-value-bare-cr",
     f"GET / HTTP/1.1\r\n{H}X-Foo: a\rb\r\n\r\n"),
    ("bare-lf-everywhere",
     "GET / HTTP/1.1\nHost: test.local\n\n"),
    ("bare-lf-one-header",
     f"GET / HTTP/1.1\r\n{H}X-Foo: bar\nX-Bar: baz\r\n\r\n"),
    ("bare-lf-request-line",
     f"GET / HTTP/1.1\n{H}\r\n"),
    ("missing-host-http11",
     "GET / HTTP/1.1\r\nX-Foo: bar\r\n\r\n"),
    ("duplicate-host",
     "GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n"),
    ("request-line-extra-space",
     f"GET  / HTTP/1.1\r\n{H}\r\n"),
    ("request-line-trailing-garbage",
     f"GET / HTTP/1.1 x\r\n{H}\r\n"),
    ("bad-method-token",
     f"GE(T / HTTP/1.1\r\n{H}\r\n"),
    ("bad-version",
     f"GET / HTTX/1.1\r\n{H}\r\n"),
    ("target-with-space",
     f"GET /a b HTTP/1.1\r\n{H}\r\n"),
]

# Bad chunked bodies: the head is fine, the body is not.
CHUNK_CASES = [
    ("chunk-size-not-hex", "zz\r\nhello\r\n0\r\n\r\n"),
    ("chunk-size-negative", "-5\r\nhello\r\n0\r\n\r\n"),
    ("chunk-size-0x-prefix", "0x5\r\nhello\r\n0\r\n\r\n"),
    ("chunk-size-overflow", "fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
    ("chunk-size-leading-space", " 5\r\nhello\r\n0\r\n\r\n"),
    ("chunk-size-empty", "\r\nhello\r\n0\r\n\r\n"),
    ("chunk-data-too-long", "5\r\nhelloXX\r\n0\r\n\r\n"),
    ("chunk-data-no-crlf", "5\r\nhello0\r\n\r\n"),
    ("chunk-size-bare-lf", "5\nhello\r\n0\r\n\r\n"),
    ("chunk-ext-control-char", "5;a=\x01\r\nhello\r\n0\r\n\r\n"),
]


@pytest.fixture(scope="module")
def setup(module_env):
    origin = module_env.origin("smuggle")
    proxy = module_env.proxy(simple_config(
        [{"match": {"prefix": "/"}, "cluster": "backend", "timeout": "3s"}],
        [cluster("backend", origin)],
        limits={"request_head_timeout": "2s"},
    ))
    return proxy, origin


def check_rejected(proxy, origin, raw: bytes, upstream_may_see_head: bool):
    origin.reset()
    resp, closed, rest = raw_exchange(proxy.port, raw, timeout=3, close_wait=3)
    assert resp is not None, "no response at all (expected 400)"
    assert resp.status == 400, f"expected 400, got {resp.status}: {resp.raw_head!r} {resp.body[:200]!r}"
    assert closed, "connection left open after 400"
    assert rest == b"", f"more bytes after the 400 (a second response?): {rest[:200]!r}"
    if not upstream_may_see_head:
        assert origin.heads == [], f"upstream received {[h.raw_head for h in origin.heads]!r}"
    else:
        # At most the head of this one request went up: no second (smuggled)
        # request was parsed from the bytes after it.
        assert len(origin.heads) <= 1, f"upstream received {[h.raw_head for h in origin.heads]!r}"
    # A completed request must not have reached the upstream either way: the
    # body is cut off (and the upstream connection closed) at the bad bytes.
    assert origin.count == 0, f"upstream got whole requests {[(r.target, r.body) for r in origin.requests]!r}"


@pytest.mark.parametrize("raw", [c[1] for c in HEAD_CASES], ids=[c[0] for c in HEAD_CASES])
def test_bad_head_rejected(setup, raw):
    proxy, origin = setup
    check_rejected(proxy, origin, raw.encode("latin-1"), upstream_may_see_head=False)


@pytest.mark.parametrize("body", [c[1] for c in CHUNK_CASES], ids=[c[0] for c in CHUNK_CASES])
def test_bad_chunked_body_rejected(setup, body):
    proxy, origin = setup
    head = f"POST /chunky HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n"
    check_rejected(proxy, origin, (head + body).encode("latin-1"), upstream_may_see_head=True)
    assert all(h.target == "/chunky" for h in origin.heads), [h.raw_head for h in origin.heads]


def test_smuggled_request_after_cl_te_not_served(setup):
    """The classic CL.TE smuggle: nothing after the 400 is processed."""
    proxy, origin = setup
    origin.reset()
    smuggled = "GET /smuggled HTTP/1.1\r\nHost: test.local\r\n\r\n"
    body = f"0\r\n\r\n{smuggled}"
    raw = (f"POST / HTTP/1.1\r\n{H}Content-Length: {len(body)}\r\n"
           f"Transfer-Encoding: chunked\r\n\r\n{body}").encode()
    resp, closed, rest = raw_exchange(proxy.port, raw)
    assert resp is not None and resp.status == 400
    assert closed and rest == b""
    assert all(r.path != "/smuggled" for r in origin.heads)


def test_valid_requests_still_accepted(setup):
    """Controls for the table above: the close relatives are fine."""
    proxy, origin = setup
    good = [
        build_request("POST", "/ok", [("Content-Length", "5")], b"hello"),
        build_request("POST", "/ok", [("Content-Length", "5"), ("Content-Length", "5")], b"hello"),
        build_request("POST", "/ok", [("Transfer-Encoding", "chunked")], b"5\r\nhello\r\n0\r\n\r\n"),
        build_request("POST", "/ok", [("Transfer-Encoding", "Chunked")], b"5\r\nhello\r\n0\r\n\r\n"),
        build_request("POST", "/ok", [("Transfer-Encoding", "chunked")],
                      b"5;ext=1\r\nhello\r\n0\r\n\r\n"),
        build_request("GET", "/ok", [("X-Empty", "")]),
        build_request("GET", "/ok", [("X-Tab", "a\tb")]),
        build_request("GET", "/ok", [("X-Obs-Text", "caf\xe9")]),
        b"GET /ok HTTP/1.0\r\n\r\n",
    ]
    for raw in good:
        with RawConn(proxy.port) as c:
            c.send(raw)
            r = c.read_response()
            assert r.status == 200, (raw, r.status, r.body[:200])
