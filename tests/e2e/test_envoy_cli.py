"""Envoy's command line on ringway: scripts written for Envoy run ringway
with the same flags (both `--flag value` and `--flag=value`). Options
ringway cannot act on are accepted and named in one warning each."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess

from e2e_client import eventually
from e2e_proxy import Proxy, simple_config, strip_ansi

DIRECT = [{"match": {"prefix": "/"}, "direct_response": {"status": 200, "body": "ok"}}]


def run(ringway_bin, *args, timeout=20):
    p = subprocess.run([ringway_bin, *args], capture_output=True, timeout=timeout,
                       env=dict(os.environ, NO_COLOR="1"), stdin=subprocess.DEVNULL)
    return p.returncode, strip_ansi(p.stderr.decode(errors="replace")), p.stdout.decode()


def write_config(tmp_path, config) -> str:
    path = tmp_path / "ringway.yaml"
    path.write_text(json.dumps(config))
    return str(path)


def test_init_only_binds_then_exits_0(ringway_bin, tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    free_port = free.getsockname()[1]
    free.close()
    config = simple_config(DIRECT)
    config["listeners"][0]["address"] = f"127.0.0.1:{free_port}"
    admin_path = tmp_path / "admin.addr"
    code, log, _ = run(ringway_bin, "--mode", "init_only", "-c", write_config(tmp_path, config),
                       "--admin-address=127.0.0.1:0", f"--admin-address-path={admin_path}")
    assert code == 0, log
    assert f"127.0.0.1:{free_port}" in log and "init_only" in log
    assert admin_path.read_text().strip().startswith("127.0.0.1:"), "the admin address was bound"
    # It really binds: a listener whose port is taken fails init_only.
    config["listeners"][0]["address"] = f"127.0.0.1:{busy.getsockname()[1]}"
    code, log, _ = run(ringway_bin, "--mode=init_only", "-c", write_config(tmp_path, config),
                       "--admin-address", "127.0.0.1:0")
    busy.close()
    assert code != 0, log
    assert "in use" in log.lower() or "address" in log.lower(), log


def test_envoy_command_line_serves(env, tmp_path):
    base_id_path = tmp_path / "base-id"
    args = ["--concurrency=3", "--service-node=edge-7", "--service-cluster", "edge",
            "--service-zone=eu-1a", "--base-id", "5", f"--base-id-path={base_id_path}",
            "--drain-strategy", "immediate", "--parent-shutdown-time-s=60",
            "--restart-epoch", "1", "--log-format", "[%Y-%m-%d %T.%e][%l] %v",
            "--component-log-level=upstream:debug,lua:info", "--file-flush-interval-msec", "500",
            "--local-address-ip-version=v4", "--disable-extensions", "envoy.filters.http.lua"]
    proxy = env.proxy(simple_config(DIRECT), concurrency=None, extra_args=args)
    assert len(proxy.workers()) == 3, "--concurrency=3 honoured"
    info = proxy.server_info()
    node = info["node"]
    assert (node["id"], node["cluster"], node["locality"]["zone"]) == ("edge-7", "edge", "eu-1a")
    assert node["user_agent_name"] == "ringway"
    options = info["command_line_options"]
    assert options["service_node"] == "edge-7" and options["concurrency"] == 3
    assert base_id_path.read_text() == "5", "written as Envoy does: decimal, no newline"

    log = proxy.log()
    for flag in ("--drain-strategy", "--parent-shutdown-time-s", "--restart-epoch", "--log-format",
                 "--file-flush-interval-msec", "--disable-extensions"):
        lines = [l for l in log.splitlines() if "WARN" in l and f"{flag}: accepted" in l]
        assert len(lines) == 1, f"one warning for {flag}:\n{log}"
    assert "component 'lua' has no ringway counterpart" in log
    assert "--local-address-ip-version" not in log, "v4 is the default: nothing to say"
    assert proxy.stop() == 0


def test_service_node_fills_and_overrides_the_xds_node(env, control):
    ctl = control().start()
    ctl.write_clusters("mesh.yaml", [{"name": "orders", "endpoints": ["127.0.0.1:9"]}])
    # The file names no node at all: --service-node gives it.
    config = {**simple_config(DIRECT), "xds": {"address": ctl.xds, "all_clusters": True}}
    a = env.proxy(config, extra_args=["--service-node", "from-cli", "--service-cluster=cli-cluster"])
    # The file names one: the command line wins field by field, as in Envoy.
    config = {**simple_config(DIRECT),
              "xds": {"address": ctl.xds, "all_clusters": True,
                      "node": {"id": "from-file", "cluster": "file-cluster"}}}
    b = env.proxy(config, extra_args=["--service-node=override"])

    def nodes():
        got = {(n["node_id"], n["node_cluster"]) for n in ctl.json("/v1/nodes")}
        return got if len(got) == 2 else None

    assert eventually(nodes, 10, 0.05, "both proxies identified") == {
        ("from-cli", "cli-cluster"), ("override", "file-cluster")}
    assert b.server_info()["xds"]["node"]["id"] == "override"
    a.stop()
    b.stop()


def test_xds_without_any_node_id_is_refused(ringway_bin, tmp_path):
    config = {**simple_config(DIRECT), "xds": {"address": "127.0.0.1:1"}}
    code, log, _ = run(ringway_bin, "--mode", "validate", "-c", write_config(tmp_path, config))
    assert code != 0 and "--service-node" in log, log
    code, log, out = run(ringway_bin, "--mode", "validate", "-c", write_config(tmp_path, config),
                         "--service-node", "n1")
    assert code == 0 and "OK" in out, log


def test_base_id_path_dynamic_and_disabled(ringway_bin, tmp_path):
    config = write_config(tmp_path, simple_config(DIRECT))
    path = tmp_path / "base-id"
    code, log, _ = run(ringway_bin, "--mode", "init_only", "-c", config, "--admin-address", "127.0.0.1:0",
                       "--use-dynamic-base-id", "--base-id-path", str(path))
    assert code == 0, log
    assert 0 <= int(path.read_text()) < 1 << 28
    path.unlink()
    code, log, _ = run(ringway_bin, "--mode", "init_only", "-c", config, "--admin-address", "127.0.0.1:0",
                       "--base-id=3", "--base-id-path", str(path), "--disable-hot-restart")
    assert code == 0, log
    assert not path.exists(), "Envoy writes no base id with hot restart disabled"
    code, log, _ = run(ringway_bin, "--mode", "init_only", "-c", config,
                       "--use-dynamic-base-id", "--restart-epoch", "1")
    assert code != 0 and "--use-dynamic-base-id" in log, log


def test_bad_and_unknown_flags_fail(ringway_bin, tmp_path):
    config = write_config(tmp_path, simple_config(DIRECT))
    for args, word in ((["--no-such-flag"], "--no-such-flag"), (["--mode", "later"], "later"),
                       (["--drain-strategy=slow"], "slow"), (["-l", "loud"], "loud"),
                       (["--component-log-level", "upstream"], "upstream"),
                       (["--local-address-ip-version", "v5"], "v5")):
        mode = [] if "--mode" in args else ["--mode", "validate"]
        code, log, _ = run(ringway_bin, *mode, "-c", config, *args)
        assert code != 0 and word in log, (args, log)
    code, log, _ = run(ringway_bin, "--hot-restart-version")
    assert code == 0 and log.strip() == "disabled"


def test_log_path_and_sigusr1_reopen(env, tmp_path):
    log_path = tmp_path / "ringway.log"
    proxy = env.proxy(simple_config(DIRECT), extra_args=["--log-path", str(log_path)])
    assert "admin listening" in log_path.read_text()
    assert "admin listening" not in proxy.log(), "stderr carries nothing"
    os.rename(log_path, tmp_path / "ringway.log.1")
    proxy.signal(signal.SIGUSR1)
    eventually(log_path.exists, 5, 0.05, "log file reopened")
    proxy.signal(signal.SIGHUP)
    eventually(lambda: "SIGHUP" in log_path.read_text() or "reloaded" in log_path.read_text(),
               5, 0.05, "new lines go to the new file")
    assert proxy.stop() == 0
