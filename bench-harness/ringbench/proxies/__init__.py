"""The proxies measured, one module each (configuration and start-up), and
the registry by name."""

from __future__ import annotations

from .base import Instance, Proxy
from .envoy import Envoy
from .haproxy import Haproxy
from .nginx import Nginx
from .ringway import Ringway

PROXY_CLASSES: dict[str, type[Proxy]] = {
    "ringway": Ringway,
    "nginx": Nginx,
    "haproxy": Haproxy,
    "envoy": Envoy,
}

__all__ = ["PROXY_CLASSES", "Instance", "Proxy", "Ringway", "Nginx", "Haproxy", "Envoy"]
