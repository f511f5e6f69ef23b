"""gRPC helpers: a grpcio test server and client with bytes in and out (no
protoc step), whose behaviour is steered by request metadata.

Any service name is served; the method name picks the call shape:

================  ===========================================================
``Unary``         echoes the request (or ``x-response-size`` pattern bytes)
``ServerStream``  ``x-count`` messages ``b"msg-<i>"``, ``x-interval`` seconds
                  apart (default 0)
``ClientStream``  one reply ``count=<n>;bytes=<total>;crc=<crc32 of all>``
``Bidi``          ``b"echo:" + message`` for every message, as it arrives
================  ===========================================================

Request metadata every method understands:

=====================  ======================================================
``x-call-id``          key of the call's :class:`CallRecord` (else a counter)
``x-sleep``            sleep this many seconds first (stops early when the
                       call is cancelled)
``x-abort-code``       end with this status (a ``grpc.StatusCode`` name) ...
``x-abort-message``    ... and this percent-encoded (UTF-8) message
``x-initial-md``       send initial metadata ``x-initial: hello`` and
                       ``x-initial-bin: INITIAL_BIN``
``x-trailing-md``      add trailing metadata ``x-trailer: done`` and
                       ``x-trailer-bin: TRAILER_BIN``
``x-response-size``    (Unary) answer with this many pattern bytes
=====================  ======================================================

Every call leaves a :class:`CallRecord` (metadata as received, timings,
whether the server saw the call cancelled) in ``GrpcServer.calls``.
"""

from __future__ import annotations

import itertools
import threading
import time
import urllib.parse
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import grpc

SERVICE = "ringway.test.Echo"
MAX_MESSAGE = 16 << 20
INITIAL_BIN = b"\x00\x01\x02\xfe\xff initial"
TRAILER_BIN = b"\x00\xff\xfe\x80 trailer \x7f"
_PATTERN = bytes(range(256)) * 4096


def pattern(size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        out += _PATTERN[: size - len(out)]
    return bytes(out)


def method_path(method: str, service: str = SERVICE) -> str:
    return f"/{service}/{method}"


@dataclass
class CallRecord:
    call_id: str
    method: str  # the full path, /service/Method
    metadata: list  # [(key, value)] as the server saw it (str, or bytes for -bin keys)
    started: float
    peer: str = ""
    finished: float | None = None  # the RPC terminated (any way: grpcio's termination callback)
    completed: bool = False  # the handler ran to its end (returned, or its stream was exhausted)
    cancelled_at: float | None = None  # the handler itself saw the call become inactive
    messages_in: int = 0
    messages_out: int = 0
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def cancelled(self) -> bool:
        """The RPC terminated before its handler was done (client cancel,
        deadline, reset stream)."""
        return self.cancelled_at is not None or (self.finished is not None and not self.completed)

    def md(self, key: str):
        for k, v in self.metadata:
            if k == key:
                return v
        return None


class GrpcServer:
    """A grpcio server on 127.0.0.1:0 serving the generic test service."""

    def __init__(self, max_workers: int = 32):
        self.lock = threading.Lock()
        self.calls: dict[str, CallRecord] = {}
        self._ids = itertools.count(1)
        self.pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc-test")
        self.server = grpc.server(self.pool, handlers=[_Handler(self)], options=[
            ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.so_reuseport", 0),
            # Let clients (ringway's upstream pool) ping without being sent a
            # GOAWAY too_many_pings.
            ("grpc.http2.min_ping_interval_without_data_ms", 1000),
            ("grpc.keepalive_permit_without_calls", 1),
        ])
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        assert self.port, "grpc server could not bind 127.0.0.1:0"
        self.address = f"127.0.0.1:{self.port}"
        self.server.start()

    def stop(self) -> None:
        self.server.stop(grace=0).wait(5)
        self.pool.shutdown(wait=False, cancel_futures=True)

    # -- records ----------------------------------------------------------
    def _begin(self, method: str, context) -> CallRecord:
        md = [(m.key, m.value) for m in context.invocation_metadata()]
        call_id = next((v for k, v in md if k == "x-call-id"), None) or f"auto-{next(self._ids)}"
        rec = CallRecord(call_id, method, md, time.monotonic(), context.peer())

        def on_done():
            rec.finished = time.monotonic()
            rec.done.set()

        context.add_callback(on_done)
        with self.lock:
            self.calls[call_id] = rec
        return rec

    def call(self, call_id: str) -> CallRecord | None:
        with self.lock:
            return self.calls.get(call_id)

    def wait_call(self, call_id: str, timeout: float = 5.0) -> CallRecord:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rec = self.call(call_id)
            if rec is not None:
                return rec
            time.sleep(0.01)
        raise AssertionError(f"the gRPC server never saw call {call_id!r}")

    def calls_with(self, key: str, value) -> list:
        with self.lock:
            return [r for r in self.calls.values() if r.md(key) == value]


def _md_value(rec: CallRecord, key: str, default=None):
    v = rec.md(key)
    return default if v is None else v


def _prologue(rec: CallRecord, context) -> bool:
    """Metadata-driven behaviour shared by all methods. False if the call was
    cancelled while sleeping."""
    sleep = float(_md_value(rec, "x-sleep", 0))
    if sleep:
        deadline = time.monotonic() + sleep
        while time.monotonic() < deadline:
            if not context.is_active():
                rec.cancelled_at = time.monotonic()
                return False
            time.sleep(0.01)
    if rec.md("x-initial-md") is not None:
        context.send_initial_metadata((("x-initial", "hello"), ("x-initial-bin", INITIAL_BIN)))
    if rec.md("x-trailing-md") is not None:
        context.set_trailing_metadata((("x-trailer", "done"), ("x-trailer-bin", TRAILER_BIN)))
    return True


def _maybe_abort(rec: CallRecord, context) -> None:
    code = rec.md("x-abort-code")
    if code is not None:
        message = urllib.parse.unquote(_md_value(rec, "x-abort-message", ""))
        context.abort(getattr(grpc.StatusCode, code), message)


class _Handler(grpc.GenericRpcHandler):
    def __init__(self, server: GrpcServer):
        self.server = server

    def service(self, details):
        method = details.method
        kind = method.rsplit("/", 1)[-1]
        srv = self.server

        def unary(request: bytes, context):
            rec = srv._begin(method, context)
            rec.messages_in = 1
            if not _prologue(rec, context):
                return b""
            _maybe_abort(rec, context)
            size = rec.md("x-response-size")
            rec.messages_out = 1
            rec.completed = True
            return pattern(int(size)) if size is not None else request

        def server_stream(request: bytes, context):
            rec = srv._begin(method, context)
            rec.messages_in = 1
            if not _prologue(rec, context):
                return
            _maybe_abort(rec, context)
            count = int(_md_value(rec, "x-count", 3))
            interval = float(_md_value(rec, "x-interval", 0))
            for i in range(count):
                if not context.is_active():
                    rec.cancelled_at = time.monotonic()
                    return
                yield f"msg-{i}".encode()
                rec.messages_out += 1
                if interval:
                    end = time.monotonic() + interval
                    while time.monotonic() < end:
                        if not context.is_active():
                            rec.cancelled_at = time.monotonic()
                            return
                        time.sleep(min(0.01, interval))
            rec.completed = True

        def client_stream(request_iterator, context):
            rec = srv._begin(method, context)
            if not _prologue(rec, context):
                return b""
            total = 0
            crc = 0
            for msg in request_iterator:
                rec.messages_in += 1
                total += len(msg)
                crc = zlib.crc32(msg, crc)
            _maybe_abort(rec, context)
            rec.messages_out = 1
            rec.completed = True
            return f"count={rec.messages_in};bytes={total};crc={crc}".encode()

        def bidi(request_iterator, context):
            rec = srv._begin(method, context)
            if not _prologue(rec, context):
                return
            _maybe_abort(rec, context)
            for msg in request_iterator:
                rec.messages_in += 1
                yield b"echo:" + msg
                rec.messages_out += 1
            rec.completed = True

        if kind == "Unary":
            return grpc.unary_unary_rpc_method_handler(unary)
        if kind == "ServerStream":
            return grpc.unary_stream_rpc_method_handler(server_stream)
        if kind == "ClientStream":
            return grpc.stream_unary_rpc_method_handler(client_stream)
        if kind == "Bidi":
            return grpc.stream_stream_rpc_method_handler(bidi)
        return None  # grpcio answers UNIMPLEMENTED


# -- client --------------------------------------------------------------------

def channel_options(authority: str | None = None) -> list:
    opts = [
        ("grpc.max_send_message_length", MAX_MESSAGE),
        ("grpc.max_receive_message_length", MAX_MESSAGE),
        # The tests want to see exactly what the proxy answered.
        ("grpc.enable_retries", 0),
        ("grpc.enable_http_proxy", 0),
        # A channel of its own: grpcio otherwise shares connections between
        # channels to the same target through a global subchannel pool.
        ("grpc.use_local_subchannel_pool", 1),
    ]
    if authority:
        opts.append(("grpc.default_authority", authority))
    return opts


def channel(address: str, authority: str | None = None) -> grpc.Channel:
    return grpc.insecure_channel(address, options=channel_options(authority))


class Stubs:
    """Callables for the four methods of a service on a channel."""

    def __init__(self, ch: grpc.Channel, service: str = SERVICE):
        self.channel = ch
        ident = dict(request_serializer=None, response_deserializer=None)
        self.unary = ch.unary_unary(method_path("Unary", service), **ident)
        self.server_stream = ch.unary_stream(method_path("ServerStream", service), **ident)
        self.client_stream = ch.stream_unary(method_path("ClientStream", service), **ident)
        self.bidi = ch.stream_stream(method_path("Bidi", service), **ident)


def grpc_error(fn, *args, **kw) -> grpc.RpcError:
    """Call fn expecting an RpcError; return it."""
    try:
        result = fn(*args, **kw)
    except grpc.RpcError as e:
        return e
    raise AssertionError(f"expected the call to fail, it returned {result!r:.200}")


def wait_ready(ch: grpc.Channel, timeout: float = 5.0) -> None:
    grpc.channel_ready_future(ch).result(timeout=timeout)


# -- gRPC over a plain HTTP/2 client (to see the wire shape) --------------------

def grpc_frame(message: bytes) -> bytes:
    """A length-prefixed gRPC message (uncompressed)."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


GRPC_REQUEST_HEADERS = [("content-type", "application/grpc"), ("te", "trailers"),
                        ("user-agent", "ringway-e2e-raw")]
