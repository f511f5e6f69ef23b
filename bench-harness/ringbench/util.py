"""Small shared helpers: paths and constants, logging, bounded polling, and
plain HTTP/socket probes on 127.0.0.1."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]
TARGET = REPO / "target" / "release"
HOST = "127.0.0.1"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait_until(
    pred: Callable[[], Any],
    timeout: float,
    what: str,
    proc: subprocess.Popen | None = None,
    interval: float = 0.02,
) -> Any:
    """Polls `pred` until it returns something true; bounded by `timeout`.
    An exception from `pred` means "not yet"; TimeoutError at the end."""
    deadline = time.monotonic() + timeout
    last_err = ""
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with status {proc.returncode}")
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            last_err = f" (last error: {e})"
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{last_err}")
        time.sleep(interval)


def read_address(path: Path, timeout: float = 15, proc: subprocess.Popen | None = None) -> str:
    """The "IP:PORT" a process wrote to `path` once it listens (bounded wait)."""
    return wait_until(lambda: path.read_text().strip(), timeout, f"{path}", proc)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = HOST) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_request(
    address: str,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """One request on a fresh connection to `address` ("host:port")."""
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def http_get(port: int, path: str, timeout: float = 2.0, host: str = HOST) -> tuple[int, bytes]:
    return http_request(f"{host}:{port}", path, headers={"Host": "bench"}, timeout=timeout)


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def which_or(path: Path, name: str) -> str | None:
    if path.is_file() and os.access(path, os.X_OK):
        return str(path)
    return shutil.which(name)


def first_line(cmd: list[str], timeout: float = 10.0) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    text = (r.stdout + r.stderr).decode(errors="replace").strip()
    return text.splitlines()[0].strip() if text else "unknown"


def fmt_secs(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
