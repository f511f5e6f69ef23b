"""The origin servers behind every proxy: bench-origin (the default) or an
nginx with fixed answers, started on the load CPUs."""

from __future__ import annotations

import shlex
import signal
from pathlib import Path

from .context import Ctx
from .procs import PROCS, cpu_list_str, fd_limit
from .scenarios import GRPC_PATH, Scenario
from .util import HOST, free_port, http_get, port_open, wait_until


def nginx_temp_paths(prefix: Path) -> str:
    return " ".join(
        f"{d}_temp_path {prefix}/tmp-{d};"
        for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )


class Origin:
    kind = ""
    h1_port = 0
    h2_port = 0
    command = ""

    def path(self, sc: Scenario) -> str:
        raise NotImplementedError

    def addr(self, sc: Scenario) -> int:
        return self.h2_port if sc.protocol == "grpc" else self.h1_port

    def stop(self) -> None:
        raise NotImplementedError


class BenchOriginServer(Origin):
    kind = "bench-origin"

    def __init__(self, ctx: Ctx) -> None:
        assert ctx.tools.bench_origin
        pf = ctx.tmp / "origin.port"
        pf.unlink(missing_ok=True)
        self.log = ctx.tmp / "origin.log"
        cmd = [
            ctx.tools.bench_origin,
            "--listen", f"{HOST}:0",
            "--port-file", str(pf),
            "--threads", str(ctx.load_threads),
            "--cpus", cpu_list_str(ctx.load_cpus),
            "--body-bytes", "128",
        ]
        self.command = shlex.join(cmd)
        with open(self.log, "wb") as lf:
            self.proc = PROCS.spawn(cmd, cpus=ctx.load_cpus, stdout=lf, stderr=lf)

        def read_port() -> int | None:
            text = pf.read_text().strip() if pf.exists() else ""
            if not text or ":" not in text:
                return None
            return int(text.rsplit(":", 1)[1])

        port = wait_until(read_port, 20, "bench-origin's port file", self.proc)
        self.h1_port = self.h2_port = port
        wait_until(lambda: http_get(port, "/?size=1")[0] == 200, 20, "bench-origin to answer", self.proc)

    def path(self, sc: Scenario) -> str:
        if sc.protocol == "grpc":
            return GRPC_PATH
        return f"/bench?size={sc.body_bytes}"

    def stop(self) -> None:
        PROCS.stop(self.proc)


class NginxOrigin(Origin):
    kind = "nginx"

    def __init__(self, ctx: Ctx) -> None:
        prefix = ctx.tmp / "origin-nginx"
        (prefix / "html").mkdir(parents=True, exist_ok=True)
        (prefix / "html" / "1mib").write_bytes(b"y" * (1 << 20))
        self.h1_port, self.h2_port = free_port(), free_port()
        small = "x" * 128
        conf = f"""# origin (nginx): fixed answers
daemon off;
master_process on;
worker_processes {ctx.load_threads};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
worker_rlimit_nofile {fd_limit()};
events {{ worker_connections 16384; }}
http {{
  access_log off;
  {nginx_temp_paths(prefix)}
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  default_type application/octet-stream;
  server {{
    listen {HOST}:{self.h1_port} reuseport;
    listen {HOST}:{self.h2_port} http2 reuseport;
    root {prefix}/html;
    location = /small {{ return 200 "{small}"; }}
    location = /1mib {{ }}
    location {GRPC_PATH} {{
      default_type application/grpc;
      add_trailer grpc-status 0 always;
      return 200 "{small}";
    }}
  }}
}}
"""
        cf = prefix / "nginx.conf"
        cf.write_text(conf)
        self.log = prefix / "stderr.log"
        cmd = ["nginx", "-p", str(prefix), "-c", str(cf), "-e", str(prefix / "error.log")]
        self.command = shlex.join(cmd)
        with open(self.log, "wb") as lf:
            self.proc = PROCS.spawn(cmd, cpus=ctx.load_cpus, stdout=lf, stderr=lf)
        wait_until(lambda: http_get(self.h1_port, "/small")[0] == 200, 20, "the nginx origin", self.proc)
        wait_until(lambda: port_open(self.h2_port), 20, "the nginx origin's h2c port", self.proc)

    def path(self, sc: Scenario) -> str:
        if sc.protocol == "grpc":
            return GRPC_PATH
        return "/1mib" if sc.body_bytes == 1 << 20 else "/small"

    def stop(self) -> None:
        PROCS.stop(self.proc, signal.SIGQUIT)
