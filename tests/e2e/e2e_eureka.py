"""ringway-control's Eureka registry for the e2e tests: the process with the
registry on port 0 (``Registry``), plain HTTP to it (``call``), and real
third-party Eureka clients as processes: py-eureka-client (PyPI, the
registry in XML) and eureka-js-client (npm, JSON), each printing what it
sent and what its own registry cache holds (``ClientProcess``)."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from e2e_client import eventually
from e2e_control import Control
from e2e_proxy import kill_process, stop_process

HERE = Path(__file__).resolve().parent
PY_CLIENT = HERE / "eureka-py" / "client.py"
JS_DIR = HERE / "eureka-js"
START_TIMEOUT = 20.0


@dataclass
class Reply:
    status: int
    headers: dict  # lower-case name -> value
    body: bytes  # as received (still gzipped if it was)

    def text(self) -> str:
        data = gzip.decompress(self.body) if self.headers.get("content-encoding") == "gzip" else self.body
        return data.decode()

    def json(self):
        return json.loads(self.text())

    def xml(self) -> ElementTree.Element:
        return ElementTree.fromstring(self.text())


def call(base: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
         timeout: float = 5.0) -> Reply:
    """One request to ``http://{base}{path}``; urllib adds no Accept-Encoding."""
    req = urllib.request.Request(f"http://{base}{path}", data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Reply(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


class Registry:
    """ringway-control with its Eureka registry on 127.0.0.1:0 (a
    :class:`Control`: xDS and admin on port 0 too, an empty clusters folder)."""

    def __init__(self, binary: str, workdir: Path):
        self.control = Control(binary, workdir)
        self.dir = self.control.dir
        self.address_path = self.dir / "eureka.addr"
        self.address: str | None = None

    def start(self, address: str = "127.0.0.1:0", eviction: str = "200ms",
              retention: str = "180s", extra_args=()) -> "Registry":
        """Starts (or restarts: pass ``address=r.address`` to keep the port)."""
        if self.address_path.exists():
            self.address_path.unlink()
        self.control.start(extra_args=[
            "--eureka-registry-address", address,
            "--eureka-registry-address-path", str(self.address_path),
            "--eureka-eviction-interval", eviction, "--eureka-delta-retention", retention,
            *extra_args])

        def bound():
            if not self.address_path.exists():
                return False
            self.address = self.address_path.read_text().strip()
            return self.call("GET", "/eureka/apps").status == 200

        try:
            eventually(bound, START_TIMEOUT, 0.02, "the Eureka registry answers")
        except AssertionError:
            self.kill()
            raise
        return self

    @property
    def url(self) -> str:
        return f"http://{self.address}/eureka/"

    def stop(self, timeout: float = 10.0) -> int:
        return self.control.stop(timeout)

    def kill(self) -> None:
        self.control.kill()

    def log(self) -> str:
        return self.control.log()

    # -- HTTP ------------------------------------------------------------
    def call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
        return call(self.address, method, path, body, headers)

    def json(self, path: str):
        r = self.call("GET", path, headers={"Accept": "application/json"})
        assert r.status == 200, f"GET {path} -> {r.status}: {r.text()}"
        assert r.headers.get("content-type", "").startswith("application/json"), r.headers
        return r.json()

    def xml(self, path: str) -> ElementTree.Element:
        r = self.call("GET", path)
        assert r.status == 200, f"GET {path} -> {r.status}: {r.text()}"
        assert r.headers.get("content-type", "").startswith("application/xml"), r.headers
        return r.xml()

    def instances(self, path: str = "/eureka/apps") -> dict:
        """{instanceId: instance (JSON dict)} under ``path`` (an applications
        or application document); {} for a 404."""
        r = self.call("GET", path, headers={"Accept": "application/json"})
        if r.status == 404:
            return {}
        assert r.status == 200, f"GET {path} -> {r.status}: {r.text()}"
        doc = r.json()
        apps = doc["applications"]["application"] if "applications" in doc else [doc["application"]]
        return {i["instanceId"]: i for a in apps for i in a["instance"]}


@dataclass
class ClientProcess:
    """A Eureka client process printing JSON lines (see eureka-py/client.py
    and eureka-js/client.js); a thread collects them."""

    name: str
    proc: subprocess.Popen
    stderr_path: Path
    events: list = field(default_factory=list)

    def __post_init__(self):
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                self.events.append(event)

    def seen(self, kind: str) -> list:
        with self.lock:
            return [e for e in self.events if e.get("event") == kind]

    def cache(self) -> dict:
        """What the client's own registry cache held last: {APP: [[id, status, ip, port]]}."""
        registries = self.seen("registry")
        return registries[-1]["apps"] if registries else {}

    def http(self, method: str | None = None) -> list:
        """(method, path, status) of each exchange (py-eureka-client only)."""
        return [(e["method"], e["path"], e["status"]) for e in self.seen("http")
                if method is None or e["method"] == method]

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM: the client cancels its registration, then exits."""
        code = stop_process(self.proc, self.name, timeout)
        self.reader.join(2)
        return code

    def kill(self) -> None:
        """SIGKILL: no cancel, the heartbeats just stop."""
        kill_process(self.proc)

    def log(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""


def start_py_client(workdir: Path, url: str, app: str, vip: str, port: int) -> ClientProcess:
    return _spawn("py-eureka-client", workdir, [sys.executable, str(PY_CLIENT), "--url", url,
                                                "--app", app, "--vip", vip, "--port", str(port)])


def start_js_client(workdir: Path, url: str, app: str, vip: str, port: int) -> ClientProcess:
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "node is needed (Debian: nodejs; scripts/setup.sh installs it)"
    assert (JS_DIR / "node_modules" / "eureka-js-client").is_dir(), \
        "eureka-js-client is missing: (cd tests/e2e/eureka-js && npm ci)"
    return _spawn("eureka-js-client", workdir, [node, str(JS_DIR / "client.js"), url, app, vip, str(port)],
                  cwd=JS_DIR)


def _spawn(name: str, workdir: Path, args: list, cwd: Path | None = None) -> ClientProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    stderr_path = workdir / f"{name}.stderr.log"
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(stderr_path, "ab"),
                            stdin=subprocess.DEVNULL, text=True, cwd=cwd)
    return ClientProcess(name, proc, stderr_path)
