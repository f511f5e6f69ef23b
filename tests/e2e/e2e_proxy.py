"""Starting and driving a ringway process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from e2e_client import eventually

ANSI = re.compile(r"\x1b\[[0-9;]*m")
START_TIMEOUT = 20.0


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def admin_request(admin: str, path: str, method: str = "GET", timeout: float = 5.0):
    """(status, body text) from the admin API."""
    req = urllib.request.Request(f"http://{admin}{path}", method=method,
                                 data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


# Envoy's default text access log format, as ringway writes it.
ACCESS_LOG_LINE = re.compile(
    r'^\[(?P<start>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] '
    r'"(?P<method>\S+) (?P<path>\S+) (?P<proto>HTTP/1\.[01]|HTTP/2)" '
    r'(?P<code>\d{1,3}) (?P<flags>\S+) (?P<rx>\d+) (?P<tx>\d+) (?P<duration>\d+) (?P<upstream_time>\d+|-) '
    r'"(?P<xff>[^"]*)" "(?P<ua>[^"]*)" "(?P<rid>[^"]*)" "(?P<authority>[^"]*)" "(?P<upstream>[^"]*)"$'
)


def access_log_entries(path) -> list:
    """The text access log at `path` as dicts (fields of ACCESS_LOG_LINE);
    a line that does not match the format fails the test."""
    path = Path(path)
    out = []
    for line in (path.read_text().splitlines() if path.exists() else []):
        m = ACCESS_LOG_LINE.match(line)
        assert m, f"access log line not in Envoy's default format: {line!r}"
        out.append(m.groupdict())
    return out


def wait_access_log(path, pred, timeout: float = 4.0, desc: str = "") -> dict:
    """Bounded poll: the first access log entry for which pred(entry) holds
    (the log is flushed by the worker periodically)."""
    def found():
        return next((e for e in access_log_entries(path) if pred(e)), None)
    return eventually(found, timeout, 0.05, desc or "access log entry")


def simple_config(routes, clusters=(), limits=None, access_log=None, domains=("*",), name="main"):
    """A one-listener, one-vhost config as a dict."""
    listener = {
        "name": name,
        "address": "127.0.0.1:0",
        "virtual_hosts": [{"name": "all", "domains": list(domains), "routes": list(routes)}],
    }
    if limits:
        listener["limits"] = limits
    if access_log:
        listener["access_log"] = access_log
    return {"listeners": [listener], "clusters": list(clusters)}


def cluster(name, *endpoints, **kw):
    return {"name": name, "endpoints": [getattr(e, "address", e) for e in endpoints], **kw}


def stop_process(proc: subprocess.Popen, name: str, timeout: float) -> int:
    """SIGTERM and wait; returns the exit code. Fails (after a SIGKILL)
    when the process outlives `timeout`."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        kill_process(proc)
        raise AssertionError(f"{name} did not exit within {timeout}s of SIGTERM")


def kill_process(proc: subprocess.Popen | None) -> None:
    """SIGKILL, if still running, and reap."""
    if proc is not None and proc.poll() is None:
        proc.kill()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


class Proxy:
    """One ringway process. The config is written as JSON, which is YAML."""

    def __init__(self, binary: str, workdir: Path, driver: str = "uring"):
        self.binary = binary
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.driver = driver
        self.proc: subprocess.Popen | None = None
        self.config_path = self.dir / "ringway.yaml"
        self.admin_path = self.dir / "admin.addr"
        self.stdout_path = self.dir / "stdout.log"
        self.stderr_path = self.dir / "stderr.log"
        self.admin: str | None = None
        self.listeners: dict[str, tuple[str, int]] = {}

    # -- process --------------------------------------------------------
    def write_config(self, config) -> None:
        text = config if isinstance(config, str) else json.dumps(config, indent=2)
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.config_path)

    def start(self, config, concurrency: int | None = 2, drain_time: float = 5,
              extra_args=(), driver: str | None = None, wait: bool = True,
              preexec_fn=None) -> "Proxy":
        self.write_config(config)
        if self.admin_path.exists():
            self.admin_path.unlink()
        args = [self.binary, "-c", str(self.config_path), "--admin-address", "127.0.0.1:0",
                "--admin-address-path", str(self.admin_path),
                "--io-driver", driver or self.driver, "--drain-time-s", str(drain_time),
                "--log-level", "info", *extra_args]
        if concurrency is not None:
            args += ["--concurrency", str(concurrency)]
        self.args = args
        env = dict(os.environ, NO_COLOR="1", RUST_BACKTRACE="1")
        self.proc = subprocess.Popen(args, stdout=open(self.stdout_path, "wb"),
                                     stderr=open(self.stderr_path, "wb"), env=env,
                                     stdin=subprocess.DEVNULL, preexec_fn=preexec_fn)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT, allow_detail: bool = False) -> None:
        """Bounded poll: the admin address file exists and /ready says LIVE.
        With ``allow_detail``, LIVE may be followed by more lines (as when
        the xDS control plane is unreachable)."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"ringway exited with {self.proc.returncode} during start-up:\n{self.log()}")
            if self.admin_path.exists():
                text = self.admin_path.read_text().strip()
                if text:
                    self.admin = text
                    try:
                        status, body = admin_request(self.admin, "/ready", timeout=1)
                        live = (body.splitlines() or [""])[0] == "LIVE" if allow_detail else body.strip() == "LIVE"
                        if status == 200 and live:
                            break
                        last = (status, body)
                    except OSError as e:
                        last = e
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"ringway not ready within {timeout}s (last: {last!r}):\n{self.log()}")
            time.sleep(0.02)
        self.refresh_listeners()

    def refresh_listeners(self) -> None:
        data = json.loads(self.admin_get("/listeners?format=json"))
        self.listeners = {}
        for st in data.get("listener_statuses", []):  # left out when empty (proto3 JSON)
            # Envoy's ListenerStatus: the address as a socket_address.
            sa = st["local_address"]["socket_address"]
            self.listeners[st["name"]] = (sa["address"], int(sa.get("port_value", 0)))

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def port(self) -> int:
        return self.listeners["main"][1] if "main" in self.listeners else next(iter(self.listeners.values()))[1]

    def port_of(self, name: str) -> int:
        return self.listeners[name][1]

    def url(self, path: str = "/", listener: str | None = None) -> str:
        port = self.port_of(listener) if listener else self.port
        return f"http://127.0.0.1:{port}{path}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        return stop_process(self.proc, "ringway", timeout)

    def kill(self) -> None:
        kill_process(self.proc)

    def log(self) -> str:
        out = []
        for p in (self.stdout_path, self.stderr_path):
            if p.exists():
                out.append(strip_ansi(p.read_text(errors="replace")))
        return "\n".join(out)

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    # -- admin ----------------------------------------------------------
    def admin_call(self, path: str, method: str = "GET"):
        return admin_request(self.admin, path, method)

    def admin_get(self, path: str) -> str:
        status, body = admin_request(self.admin, path)
        assert status == 200, f"admin GET {path} -> {status}: {body}"
        return body

    def admin_post(self, path: str) -> str:
        status, body = admin_request(self.admin, path, "POST")
        assert status == 200, f"admin POST {path} -> {status}: {body}"
        return body

    def stats(self) -> dict:
        """/stats as {name: int} (histograms are left out)."""
        out = {}
        for line in self.admin_get("/stats").splitlines():
            name, sep, value = line.partition(": ")
            if sep and re.fullmatch(r"-?\d+", value.strip()):
                out[name.strip()] = int(value)
        return out

    def stat(self, name: str) -> int:
        return self.stats().get(name, 0)

    def server_info(self) -> dict:
        return json.loads(self.admin_get("/server_info"))

    def workers(self) -> list:
        return json.loads(self.admin_get("/workers"))["workers"]

    def reload(self, config, expect_ok: bool = True, timeout: float = 10.0) -> None:
        """Rewrite the config file, SIGHUP, and wait until the reload counter
        moves (ok or failed as expected)."""
        before = self.server_info()["reloads"]
        self.write_config(config)
        self.proc.send_signal(signal.SIGHUP)
        key = "ok" if expect_ok else "failed"

        def moved():
            after = self.server_info()["reloads"]
            if expect_ok and after["failed"] > before["failed"]:
                raise AssertionError(f"reload failed unexpectedly:\n{self.log()[-3000:]}")
            return after[key] > before[key]

        eventually(moved, timeout, 0.02, f"reload {key}")
