"""Clients for the tests: a raw-socket HTTP/1.1 client, a curl wrapper and a
bounded poll."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

CRLF = b"\r\n"


def eventually(fn, timeout: float = 5.0, interval: float = 0.05, desc: str = ""):
    """Call fn until it returns a truthy value (returned) or timeout passes
    (AssertionError with the last value or exception)."""
    deadline = time.monotonic() + timeout
    last = None
    last_exc = None
    while True:
        try:
            last = fn()
            last_exc = None
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - polled condition may raise until ready
            last_exc = e
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"condition not met within {timeout}s{': ' + desc if desc else ''}; "
                f"last value {last!r}, last error {last_exc!r}"
            )
        time.sleep(interval)


class HeaderAccess:
    """Look-ups over a response's `headers`: [(lower-case name, value)]."""

    headers: list

    def header(self, name: str):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def header_all(self, name: str):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def json(self):
        return json.loads(self.body)


@dataclass
class Response(HeaderAccess):
    version: str
    status: int
    reason: str
    headers: list  # [(lower-case name, value)]
    body: bytes = b""
    trailers: list = field(default_factory=list)
    chunked: bool = False
    raw_head: bytes = b""
    informational: list = field(default_factory=list)  # 1xx responses before this one

    def has(self, name: str) -> bool:
        return self.header(name) is not None

    @property
    def connection_tokens(self) -> set:
        toks = set()
        for v in self.header_all("connection"):
            toks |= {t.strip().lower() for t in v.split(",") if t.strip()}
        return toks


class ConnectionClosed(Exception):
    pass


class RawConn:
    """A raw TCP connection to the proxy that reads HTTP/1.1 responses."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = bytearray()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        data = self.sock.recv(262144)
        if not data:
            raise ConnectionClosed("peer closed the connection")
        self.buf += data

    def _line(self) -> bytes:
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[: i + 1])
                del self.buf[: i + 1]
                return line
            self._fill()

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_head(self) -> Response:
        raw = bytearray()
        line = self._line()
        raw += line
        parts = line.rstrip(b"\r\n").decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise AssertionError(f"not a status line: {line!r}")
        version, status = parts[0], int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        while True:
            line = self._line()
            raw += line
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.rstrip(b"\r\n").partition(b":")
            headers.append((name.decode("latin-1").lower(), value.strip().decode("latin-1")))
        return Response(version, status, reason, headers, raw_head=bytes(raw))

    def read_response(self, method: str = "GET", keep_informational: bool = False) -> Response:
        """The next final response (1xx are collected in .informational)."""
        infos = []
        while True:
            resp = self.read_head()
            if 100 <= resp.status < 200 and resp.status != 101:
                infos.append(resp)
                continue
            break
        resp.informational = infos
        if method == "HEAD" or resp.status in (204, 304, 101) or 100 <= resp.status < 200:
            return resp
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if te is not None:
            if te.lower().split(",")[-1].strip() != "chunked":
                resp.body = self.read_to_close()
                return resp
            resp.chunked = True
            body = bytearray()
            while True:
                size_line = self._line()
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    break
                body += self._exact(size)
                if self._exact(2) != CRLF:
                    raise AssertionError("chunk not followed by CRLF")
            while True:
                line = self._line()
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.rstrip(b"\r\n").partition(b":")
                resp.trailers.append((name.decode("latin-1").lower(), value.strip().decode("latin-1")))
            resp.body = bytes(body)
        elif cl is not None:
            resp.body = self._exact(int(cl))
        else:
            resp.body = self.read_to_close()
        return resp

    def read_to_close(self, limit: float | None = None) -> bytes:
        deadline = time.monotonic() + (limit or self.timeout)
        while time.monotonic() < deadline:
            try:
                self._fill()
            except (ConnectionClosed, ConnectionResetError):
                break
        data = bytes(self.buf)
        self.buf.clear()
        return data

    def request(self, method: str, target: str, headers=None, body: bytes | None = None,
                host: str = "test.local", version: str = "HTTP/1.1") -> Response:
        self.send(build_request(method, target, headers, body, host, version))
        return self.read_response(method)

    def closed_within(self, timeout: float) -> bool:
        """True if the peer closes (EOF or reset) within timeout; any data that
        arrives first is kept in self.buf."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            finally:
                self.sock.settimeout(self.timeout)
            if not data:
                return True
            self.buf += data

    def open_after(self, timeout: float) -> bool:
        return not self.closed_within(timeout)


def build_request(method: str, target: str, headers=None, body: bytes | None = None,
                  host: str | None = "test.local", version: str = "HTTP/1.1") -> bytes:
    lines = [f"{method} {target} {version}".encode()]
    names = set()
    for k, v in (headers or []):
        names.add(k.lower())
    if host is not None and "host" not in names:
        lines.append(f"Host: {host}".encode())
    for k, v in (headers or []):
        lines.append(f"{k}: {v}".encode("latin-1"))
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}".encode())
    return CRLF.join(lines) + CRLF + CRLF + (body or b"")


def raw_exchange(port: int, data: bytes, timeout: float = 3.0, close_wait: float = 3.0):
    """Send data on a new connection; read the first response and then
    whether the connection is closed. Returns (response or None, closed,
    bytes received after the response)."""
    with RawConn(port, timeout=timeout) as c:
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            resp = c.read_response()
        except (ConnectionClosed, ConnectionResetError, socket.timeout):
            resp = None
        closed = c.closed_within(close_wait)
        rest = bytes(c.buf)
        return resp, closed, rest


def chunked_body(data: bytes, size: int = 7, trailers=None) -> bytes:
    out = bytearray()
    for i in range(0, len(data), size):
        part = data[i:i + size]
        out += f"{len(part):x}".encode() + CRLF + part + CRLF
    out += b"0\r\n"
    for k, v in (trailers or []):
        out += f"{k}: {v}".encode() + CRLF
    out += CRLF
    return bytes(out)


# -- curl ---------------------------------------------------------------------

@dataclass
class CurlResult:
    status: int
    headers: list  # final response's headers, lower-case names
    body: bytes
    stderr: str
    returncode: int
    all_heads: list  # every header block's status line

    def header(self, name: str):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body)


def curl(url: str, *args: str, timeout: float = 10.0, data: bytes | None = None) -> CurlResult:
    """Run curl; returns status, final headers and body."""
    with tempfile.TemporaryDirectory() as d:
        hfile = os.path.join(d, "h")
        bfile = os.path.join(d, "b")
        cmd = ["curl", "-sS", "--max-time", str(timeout), "-D", hfile, "-o", bfile, *args, url]
        p = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout + 5)
        heads = open(hfile, "rb").read().decode("latin-1") if os.path.exists(hfile) else ""
        body = open(bfile, "rb").read() if os.path.exists(bfile) else b""
    blocks = [b for b in heads.split("\r\n\r\n") if b.strip()]
    status = 0
    headers = []
    status_lines = []
    for block in blocks:
        lines = block.split("\r\n")
        status_lines.append(lines[0])
        status = int(lines[0].split(" ")[1])
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip().lower(), v.strip()))
    return CurlResult(status, headers, body, p.stderr.decode(errors="replace"), p.returncode, status_lines)
