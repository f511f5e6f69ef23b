"""Starting and driving ringway-control, and a delta xDS client built only on
Envoy's published protobufs (PyPI ``xds-protos``) and ``grpcio``: a client
ringway did not write, to check wire compatibility."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import threading
from pathlib import Path

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from google.rpc import status_pb2

from e2e_client import eventually
from e2e_proxy import admin_request, kill_process, stop_process, strip_ansi

CLUSTER_TYPE = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
ENDPOINTS_TYPE = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener"
ROUTE_TYPE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
START_TIMEOUT = 20.0
METRIC = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$")


class Control:
    """One ringway-control process on port 0, with its clusters, routes and
    listeners folders."""

    def __init__(self, binary: str, workdir: Path):
        self.binary = binary
        self.dir = Path(workdir)
        self.clusters_dir = self.dir / "clusters"
        self.routes_dir = self.dir / "routes"
        self.listeners_dir = self.dir / "listeners"
        for d in (self.clusters_dir, self.routes_dir, self.listeners_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.xds_path = self.dir / "xds.addr"
        self.admin_path = self.dir / "admin.addr"
        self.stderr_path = self.dir / "stderr.log"
        self.proc: subprocess.Popen | None = None
        self.xds: str | None = None
        self.admin: str | None = None

    # -- folder files ----------------------------------------------------
    @staticmethod
    def _write(folder: Path, name: str, content) -> None:
        """Writes a file whole: a temporary file (a dot name, which the
        control plane skips) renamed into place. JSON is YAML."""
        text = content if isinstance(content, str) else json.dumps(content, indent=2)
        tmp = folder / f".{name}.tmp"
        tmp.write_text(text)
        os.replace(tmp, folder / name)

    def write_clusters(self, name: str, clusters) -> None:
        """A cluster file: a list of clusters in ringway's shape."""
        self._write(self.clusters_dir, name, clusters)

    def remove_clusters(self, name: str) -> None:
        (self.clusters_dir / name).unlink()

    def write_routes(self, name: str, configs) -> None:
        """A route file: one Envoy RouteConfiguration (a dict, or YAML text)
        or a list of them."""
        self._write(self.routes_dir, name, configs)

    def remove_routes(self, name: str) -> None:
        (self.routes_dir / name).unlink()

    def write_listeners(self, name: str, listeners) -> None:
        """A listener file: one Envoy Listener or a list of them."""
        self._write(self.listeners_dir, name, listeners)

    def remove_listeners(self, name: str) -> None:
        (self.listeners_dir / name).unlink()

    # -- process ---------------------------------------------------------
    def start(self, poll_interval: str = "50ms", wait: bool = True,
              xds_address: str = "127.0.0.1:0", extra_args=(), routes: bool = True,
              listeners: bool = True) -> "Control":
        """Starts (or, after stop/kill, restarts) the process, following the
        clusters folder and (unless turned off) the routes and listeners
        folders. A restart may ask for the xDS port it had:
        ``xds_address=c.xds``. The log is appended to, so a restarted
        process keeps the earlier lines."""
        for p in (self.xds_path, self.admin_path):
            if p.exists():
                p.unlink()
        args = [self.binary, "--xds-address", xds_address, "--admin-address", "127.0.0.1:0",
                "--xds-address-path", str(self.xds_path),
                "--admin-address-path", str(self.admin_path),
                "--clusters-dir", str(self.clusters_dir), "--poll-interval", poll_interval]
        if routes:
            args += ["--routes-dir", str(self.routes_dir)]
        if listeners:
            args += ["--listeners-dir", str(self.listeners_dir)]
        args += extra_args
        env = dict(os.environ, NO_COLOR="1", RUST_BACKTRACE="1",
                   RUST_LOG=os.environ.get("RUST_LOG", "info"))
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=open(self.stderr_path, "ab"), env=env,
                                     stdin=subprocess.DEVNULL)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Bounded poll: both address files written and /ready says LIVE."""
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"ringway-control exited with {self.proc.returncode}:\n{self.log()}")
            if not (self.xds_path.exists() and self.admin_path.exists()):
                return False
            self.xds = self.xds_path.read_text().strip()
            self.admin = self.admin_path.read_text().strip()
            status, body = admin_request(self.admin, "/ready", timeout=1)
            return status == 200 and body.strip() == "LIVE"

        try:
            eventually(ready, timeout, 0.02, "ringway-control ready")
        except AssertionError:
            self.kill()
            raise

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        return stop_process(self.proc, "ringway-control", timeout)

    def kill(self) -> None:
        kill_process(self.proc)

    def log(self) -> str:
        return strip_ansi(self.stderr_path.read_text(errors="replace")) if self.stderr_path.exists() else ""

    # -- admin -----------------------------------------------------------
    def get(self, path: str, method: str = "GET"):
        return admin_request(self.admin, path, method)

    def json(self, path: str):
        status, body = self.get(path)
        assert status == 200, f"GET {path} -> {status}: {body}"
        return json.loads(body)

    def metrics(self) -> dict[str, float]:
        """/stats/prometheus as {name{labels}: value}."""
        status, body = self.get("/stats/prometheus")
        assert status == 200, body
        out = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                m = METRIC.match(line)
                assert m, f"not a Prometheus sample line: {line!r}"
                out[m.group(1)] = float(m.group(2))
        return out

    def versions(self, type_url: str) -> dict[str, str]:
        return self.json("/v1/resources")["versions"][type_url]


class XdsClient:
    """A DeltaAggregatedResources stream: requests go in through a queue,
    responses are read by a thread into another."""

    def __init__(self, address: str, node_id: str, node_cluster: str = "mesh"):
        self.channel = grpc.insecure_channel(address)
        self.node = base_pb2.Node(id=node_id, cluster=node_cluster)
        self.requests: queue.Queue = queue.Queue()
        self.responses: queue.Queue = queue.Queue()
        self.first = True
        stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(self.channel)
        self.call = stub.DeltaAggregatedResources(iter(self.requests.get, None))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        try:
            for response in self.call:
                self.responses.put(response)
        except grpc.RpcError as e:
            self.responses.put(e)
        self.responses.put(None)

    def send(self, type_url: str, subscribe=(), unsubscribe=(), nonce: str = "",
             error: str | None = None, initial_versions: dict | None = None) -> None:
        request = discovery_pb2.DeltaDiscoveryRequest(
            type_url=type_url, resource_names_subscribe=list(subscribe),
            resource_names_unsubscribe=list(unsubscribe), response_nonce=nonce,
            initial_resource_versions=initial_versions or {})
        if self.first:
            request.node.CopyFrom(self.node)
            self.first = False
        if error is not None:
            request.error_detail.CopyFrom(status_pb2.Status(code=3, message=error))
        self.requests.put(request)

    def recv(self, timeout: float = 5.0) -> discovery_pb2.DeltaDiscoveryResponse:
        try:
            response = self.responses.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no DeltaDiscoveryResponse within {timeout}s") from None
        if not isinstance(response, discovery_pb2.DeltaDiscoveryResponse):
            raise AssertionError(f"stream ended: {response!r}")
        return response

    def expect_nothing(self, within: float = 0.5) -> None:
        """Bounded wait: no response arrives within `within` seconds."""
        try:
            response = self.responses.get(timeout=within)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected response: {response}")

    def ack(self, response) -> None:
        self.send(response.type_url, nonce=response.nonce)

    def nack(self, response, message: str) -> None:
        self.send(response.type_url, nonce=response.nonce, error=message)

    def close(self) -> None:
        self.requests.put(None)
        self.call.cancel()
        self.channel.close()
        self.reader.join(5)


def wait_for(fn, timeout: float = 5.0, desc: str = ""):
    return eventually(fn, timeout, 0.02, desc)


def names(response) -> list[str]:
    return sorted(r.name for r in response.resources)

