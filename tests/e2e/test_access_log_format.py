"""Access logs in Envoy's command-operator formats: an Envoy bootstrap's
`log_format.text_format_source` and `log_format.json_format` (several
loggers on one listener, one with a `status_code_filter`), over HTTP/1.1,
h2c (prior knowledge) and to HTTP/1.1 and HTTP/2 upstreams; ringway's own
`text_format` with gRPC; and `--mode validate` refusing an unknown
operator with the field path."""

from __future__ import annotations

import json
import re
import subprocess
import time

from e2e_client import curl, eventually
from e2e_grpc import GrpcServer, Stubs, channel
from e2e_h2 import H2Origin, h2_echo_handler
from e2e_proxy import cluster, simple_config
from test_envoy_bootstrap import FILE_LOG, H2_OPTIONS, bootstrap, listener, static_cluster

TEXT = (
    "[%START_TIME(%Y/%m/%dT%H:%M:%S.%3f)%] \\\"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\\\" "
    "%RESPONSE_CODE% %RESPONSE_FLAGS% %REQ(X-TEST-ID)% %REQ(USER-AGENT):6% %RESP(X-REPLY):5% "
    "%RESP(CONTENT-TYPE)% %DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
    "%UPSTREAM_CLUSTER% %UPSTREAM_HOST% %REQUESTED_SERVER_NAME% %CONNECTION_ID% %START_TIME(%s)% 100%%\\n"
)
LINE = re.compile(
    r'^\[(?P<time>\d{4}/\d\d/\d\dT\d\d:\d\d:\d\d\.\d{3})\] "(?P<method>\S+) (?P<path>\S+) (?P<proto>\S+)" '
    r'(?P<code>\d+) (?P<flags>\S+) (?P<id>\S+) (?P<ua>\S+) (?P<reply>\S+) (?P<ctype>\S+) '
    r'(?P<remote>\S+) (?P<remote_ip>\S+) (?P<cluster>\S+) (?P<upstream>\S+) (?P<sni>\S+) '
    r'(?P<conn>\d+) (?P<epoch>\d+) 100%$'
)


def lines(path):
    return path.read_text().splitlines() if path.exists() else []


def entries(path):
    out = []
    for line in lines(path):
        m = LINE.match(line)
        assert m, f"line not in the configured format: {line!r}"
        out.append(m.groupdict())
    return out


def wait_entry(path, test_id):
    return eventually(lambda: next((e for e in entries(path) if e["id"] == test_id), None),
                      5, 0.05, f"log line for {test_id}")


def test_envoy_text_format_source_over_http1_and_h2c(env):
    h1 = env.origin("h1")
    h2 = H2Origin("h2", handler=h2_echo_handler)
    env.origins.append(h2)
    logs = env.workdir_fn()
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / "access.log"
    routes = """
              - match: { prefix: "/h2/" }
                route: { cluster: h2, prefix_rewrite: "/" }
              - match: { prefix: "/" }
                route: { cluster: h1 }
"""
    access_log = f"""
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": {FILE_LOG}
              path: {log}
              log_format:
                text_format_source:
                  inline_string: "{TEXT}\""""
    h2_cluster = static_cluster("h2", h2, extra=f"""
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": {H2_OPTIONS}
        explicit_http_config:
          http2_protocol_options: {{}}""")
    proxy = env.proxy(bootstrap(listener(routes, extra_hcm=access_log), static_cluster("h1", h1) + h2_cluster))
    before = int(time.time())
    cases = [
        ("a1", "/x?hdr=x-reply:abcdefgh", [], "HTTP/1.1", "h1", h1.address),
        ("a2", "/x?hdr=x-reply:abcdefgh", ["--http2-prior-knowledge"], "HTTP/2", "h1", h1.address),
        ("a3", "/h2/y?hdr=x-reply:abcdefgh", [], "HTTP/1.1", "h2", h2.address),
        ("a4", "/h2/y?hdr=x-reply:abcdefgh", ["--http2-prior-knowledge"], "HTTP/2", "h2", h2.address),
    ]
    for test_id, path, args, *_ in cases:
        r = curl(proxy.url(path), "-A", "agent-007", "-H", f"x-test-id: {test_id}", *args)
        assert r.status == 200, (test_id, r)
    for test_id, path, _, proto, cluster_name, upstream in cases:
        e = wait_entry(log, test_id)
        assert (e["method"], e["path"], e["proto"]) == ("GET", path, proto), e
        assert (e["code"], e["flags"]) == ("200", "-"), e
        assert e["ua"] == "agent-", "REQ(USER-AGENT):6 keeps 6 bytes"
        assert e["reply"] == "abcde", "RESP(X-REPLY):5 keeps 5 bytes"
        assert (e["cluster"], e["upstream"], e["sni"]) == (cluster_name, upstream, "-"), e
        assert e["remote"].startswith("127.0.0.1:") and e["remote_ip"] == "127.0.0.1", e
        assert abs(int(e["epoch"]) - before) < 30, e
    assert wait_entry(log, "a1")["ctype"] == "application/json"


def test_envoy_json_format_keeps_types_and_filters(env):
    origin = env.origin("json")
    logs = env.workdir_fn()
    logs.mkdir(parents=True, exist_ok=True)
    all_log, errors_log = logs / "all.jsonl", logs / "errors.log"
    routes = """
              - match: { prefix: "/app" }
                route: { cluster: app }
"""
    access_log = f"""
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": {FILE_LOG}
              path: {all_log}
              log_format:
                json_format:
                  code: "%RESPONSE_CODE%"
                  sent: "%BYTES_SENT%"
                  took: "%DURATION%"
                  proto: "%PROTOCOL%"
                  label: "code=%RESPONSE_CODE%"
                  id: "%REQ(X-TEST-ID)%"
                  sni: "%REQUESTED_SERVER_NAME%"
                  upstream: {{ cluster: "%UPSTREAM_CLUSTER%", host: "%UPSTREAM_HOST%" }}
          - name: errors
            filter: {{ status_code_filter: {{ comparison: {{ op: GE, value: {{ default_value: 400, runtime_key: access_log.min_status }} }} }} }}
            typed_config:
              "@type": {FILE_LOG}
              path: {errors_log}
              log_format: {{ text_format_source: {{ inline_string: "%RESPONSE_CODE% %RESPONSE_FLAGS% %REQ(X-TEST-ID)%\\n" }} }}"""
    proxy = env.proxy(bootstrap(listener(routes, extra_hcm=access_log), static_cluster("app", origin)))
    assert curl(proxy.url("/app/ok"), "-H", "x-test-id: ok").status == 200
    assert curl(proxy.url("/none"), "-H", "x-test-id: nr", "--http2-prior-knowledge").status == 404

    def records():
        found = [json.loads(line) for line in lines(all_log)]
        return len(found) >= 2 and found
    by_id = {r["id"]: r for r in eventually(records, 5, 0.05, "two JSON lines")}
    ok = by_id["ok"]
    assert ok["code"] == 200 and isinstance(ok["sent"], int) and ok["sent"] > 0, ok
    assert isinstance(ok["took"], int), ok
    assert (ok["proto"], ok["label"], ok["sni"]) == ("HTTP/1.1", "code=200", None), ok
    assert ok["upstream"] == {"cluster": "app", "host": origin.address}, ok
    nr = by_id["nr"]
    assert (nr["code"], nr["proto"], nr["upstream"]["cluster"]) == (404, "HTTP/2", None), nr
    # The filtered log has the 404 only.
    assert eventually(lambda: lines(errors_log), 5, 0.05, "filtered log") == ["404 NR nr"]


def test_text_format_with_grpc(env, tmp_path):
    server = GrpcServer(max_workers=4)
    try:
        log = tmp_path / "grpc.log"
        proxy = env.proxy(simple_config(
            [{"match": {"prefix": "/"}, "cluster": "grpc"}],
            [cluster("grpc", server.address, protocol="http2")],
            access_log={"path": str(log),
                        "text_format": "%PROTOCOL% %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% "
                                       "%RESP(content-type)% %REQ(x-call-id)% %UPSTREAM_CLUSTER%\n"},
        ))
        with channel(f"127.0.0.1:{proxy.port}") as ch:
            resp = Stubs(ch).unary(b"ping", timeout=10, metadata=[("x-call-id", "call-1")])
        assert resp == b"ping"
        found = eventually(lambda: [l for l in lines(log) if "call-1" in l], 5, 0.05, "gRPC line")
        proto, method, path, code, ctype, call_id, cluster_name = found[0].split(" ")
        assert (proto, method, code, call_id, cluster_name) == ("HTTP/2", "POST", "200", "call-1", "grpc")
        assert path.endswith("/Unary") and ctype.startswith("application/grpc"), found[0]
    finally:
        server.stop()


def validate(ringway_bin, path, text):
    path.write_text(text)
    return subprocess.run([ringway_bin, "-c", str(path), "--mode", "validate"],
                          capture_output=True, text=True, timeout=30)


def test_validate_refuses_unknown_operators_with_the_field(env, ringway_bin, tmp_path):
    a = env.origin("a")
    routes = """
              - match: { prefix: "/" }
                route: { cluster: a }
"""
    access_log = f"""
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format: {{ text_format_source: {{ inline_string: "%REQ(:PATH)% %BOGUS_OPERATOR%\\n" }} }}"""
    path = tmp_path / "envoy.yaml"
    r = validate(ringway_bin, path, bootstrap(listener(routes, extra_hcm=access_log), static_cluster("a", a)))
    field = ("static_resources.listeners[0].filter_chains[0].filters[0].typed_config"
             ".access_log[0].typed_config.log_format.text_format_source")
    assert r.returncode != 0
    assert f"{path}: {field}: unknown command operator `%BOGUS_OPERATOR%`" in r.stderr, r.stderr
    own = tmp_path / "ringway.yaml"
    config = json.dumps(simple_config([{"match": {"prefix": "/"}, "cluster": "a"}], [cluster("a", a)],
                                      access_log={"text_format": "%START_TIME(%Q)%"}))
    r = validate(ringway_bin, own, config)
    assert r.returncode != 0
    assert f"{own}: listeners[0].access_log.text_format: " in r.stderr and "`%Q`" in r.stderr, r.stderr
