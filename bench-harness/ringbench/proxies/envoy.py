"""Envoy as a peer proxy (when it is on PATH): JSON bootstrap (static
listener with codec_type AUTO, an http2_protocol_options cluster for gRPC,
circuit breakers opened) and command line (--concurrency)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..scenarios import Scenario
from ..util import HOST
from .base import Proxy


class Envoy(Proxy):
    name = "envoy"
    binary_name = "envoy"

    def config_path(self, d: Path) -> Path:
        return d / "envoy.json"

    def config_text(self, sc: Scenario, port: int, workers: int, cpus: list[int], single: bool) -> str:
        origin = self.ctx.origin.addr(sc)
        cluster: dict[str, Any] = {
            "name": "origin",
            "connect_timeout": "5s",
            "type": "STATIC",
            "load_assignment": {
                "cluster_name": "origin",
                "endpoints": [
                    {
                        "lb_endpoints": [
                            {"endpoint": {"address": {"socket_address": {"address": HOST, "port_value": origin}}}}
                        ]
                    }
                ],
            },
            "circuit_breakers": {
                "thresholds": [
                    {"max_connections": 100000, "max_pending_requests": 100000, "max_requests": 100000}
                ]
            },
        }
        if sc.protocol == "grpc":
            cluster["typed_extension_protocol_options"] = {
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "explicit_http_config": {"http2_protocol_options": {}},
                }
            }
        hcm = {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "ingress",
            "codec_type": "AUTO",
            "route_config": {
                "virtual_hosts": [
                    {
                        "name": "all",
                        "domains": ["*"],
                        "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "origin"}}],
                    }
                ]
            },
            "http_filters": [
                {
                    "name": "envoy.filters.http.router",
                    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
                }
            ],
        }
        conf = {
            "admin": {"address": {"socket_address": {"address": HOST, "port_value": 0}}},
            "static_resources": {
                "listeners": [
                    {
                        "name": "main",
                        "address": {"socket_address": {"address": HOST, "port_value": port}},
                        "filter_chains": [
                            {
                                "filters": [
                                    {"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}
                                ]
                            }
                        ],
                    }
                ],
                "clusters": [cluster],
            },
        }
        return json.dumps(conf, indent=2) + "\n"

    def command(self, cfg: Path, workers: int, cpus: list[int], single: bool) -> list[str]:
        b = self.binary()
        assert b
        return [
            b,
            "-c", str(cfg),
            "--concurrency", str(workers),
            "--disable-hot-restart",
            "--base-id", str(os.getpid() % 60000 + 1),
            "--log-level", "warn",
            "--admin-address-path", str(cfg.parent / "admin.addr"),
        ]
