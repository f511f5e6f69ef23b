"""One py-eureka-client (PyPI) instance for the e2e tests, run as its own
process: registers APP with VIP on PORT at the registry URL, renews every
second with a 3 s lease (flags change both), and fetches the registry (XML,
with deltas) on every renewal.

Prints JSON lines on stdout:
  {"event": "http", "method": ..., "path": ..., "status": ...}  each exchange
  {"event": "registry", "apps": {APP: [[id, status, ip, port], ...]}}
      what the client's own registry cache holds, whenever that changes
  {"event": "stopped"}  after SIGTERM: the client says DOWN, cancels, exits 0
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from urllib.parse import urlsplit

import py_eureka_client.eureka_client as eureka_client
import py_eureka_client.http_client as http_client

_print_lock = threading.Lock()


def emit(**fields) -> None:
    with _print_lock:
        print(json.dumps(fields), flush=True)


class RecordingHttpClient(http_client.HttpClient):
    """The client's own HTTP client, recording what it sent and got."""

    async def urlopen(self, request=None, data=None, timeout=None):
        if isinstance(request, http_client.HttpRequest):
            method, url = request.method, request.url
        else:
            method, url = "GET", str(request)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            response = await super().urlopen(request, data, timeout)
        except http_client.HTTPError as e:
            emit(event="http", method=method, path=path, status=e.code)
            raise
        except Exception as e:  # noqa: BLE001 - recorded, then the client handles it
            emit(event="http", method=method, path=path, status=0, error=str(e))
            raise
        emit(event="http", method=method, path=path, status=response.raw_response.status_code)
        return response


def cache(client) -> dict:
    apps = {}
    try:
        applications = client.applications
    except Exception:  # noqa: BLE001 - not fetched yet
        return apps
    if applications is None:
        return apps
    for app in applications.applications:
        rows = sorted([i.instanceId, i.status, i.ipAddr, i.port.port] for i in app.instances)
        if rows:
            apps[app.name] = rows
    return apps


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="like http://127.0.0.1:8761/eureka/")
    ap.add_argument("--app", required=True)
    ap.add_argument("--vip", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--renew", type=int, default=1, help="renewal interval, seconds")
    ap.add_argument("--lease", type=int, default=3, help="lease duration, seconds")
    args = ap.parse_args()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    http_client.set_http_client(RecordingHttpClient())
    client = eureka_client.init(
        eureka_server=args.url, app_name=args.app, instance_id=f"127.0.0.1:{args.app.lower()}:{args.port}",
        instance_host="127.0.0.1", instance_ip="127.0.0.1", instance_port=args.port,
        vip_adr=args.vip, secure_vip_addr=args.vip, renewal_interval_in_secs=args.renew,
        duration_in_secs=args.lease, metadata={"client": "py-eureka-client"})
    emit(event="started")
    seen = None
    while not stop.wait(0.1):
        now = cache(client)
        if now != seen:
            emit(event="registry", apps=now)
            seen = now
    eureka_client.stop()
    emit(event="stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
