"""ringway-control's Eureka registry (--eureka-registry-address) driven by
real third-party Eureka clients: py-eureka-client 0.13.3 (PyPI; fetches XML,
with deltas) and eureka-js-client 4.5.0 (npm; fetches JSON). Leases are 3 s
with 1 s renewals, eviction runs every 200 ms."""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
from urllib.parse import quote

import pytest

from e2e_client import eventually
from e2e_eureka import Registry

PY = {"app": "PY-SVC", "vip": "py-svc", "port": 9001}
JS = {"app": "js-svc", "vip": "js-svc", "port": 9002}
PY_ID = "127.0.0.1:py-svc:9001"
JS_ID = "127.0.0.1:js-svc:9002"
BOTH = {PY_ID: ("PY-SVC", "py-svc", 9001), JS_ID: ("JS-SVC", "js-svc", 9002)}


def wait_for(fn, timeout=10.0, desc=""):
    return eventually(fn, timeout, 0.05, desc)


def holds_for(seconds: float, check) -> None:
    """Bounded observation: ``check()`` (which asserts) passes every 200 ms
    for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        check()
        time.sleep(0.2)
    check()


def ids(rows) -> set:
    return {row[0] for row in rows or []}


def both_registered(r: Registry) -> dict:
    found = r.instances()
    return found if set(BOTH) <= set(found) else {}


def overridden(instance: dict) -> str:
    """The JSON override field: `overriddenStatus` (current servers) or
    `overriddenstatus` (old ones)."""
    return instance.get("overriddenStatus", instance.get("overriddenstatus"))


def test_real_clients_register_renew_see_each_other_and_cancel(registry, clients):
    r = registry()
    py = clients.py(r.url, **PY)
    js = clients.js(r.url, **JS)
    first = wait_for(lambda: both_registered(r), desc="both clients registered")

    for iid, (app, vip, port) in BOTH.items():
        # By application (any case), JSON and XML.
        application = r.json(f"/eureka/apps/{app.lower()}")["application"]
        assert application["name"] == app
        [instance] = application["instance"]
        assert (instance["instanceId"], instance["app"], instance["status"]) == (iid, app, "UP")
        assert (instance["ipAddr"], int(instance["port"]["$"])) == ("127.0.0.1", port)
        assert instance["vipAddress"] == vip and instance["leaseInfo"]["durationInSecs"] == 3
        xml = r.xml(f"/eureka/apps/{app}")
        assert xml.tag == "application" and xml.findtext("name") == app
        [node] = xml.findall("instance")
        assert (node.findtext("instanceId"), node.findtext("status"), node.findtext("port")) == (iid, "UP", str(port))
        assert node.find("port").get("enabled") == "true"
        assert node.find("dataCenterInfo").get("class")
        # By VIP, JSON and XML; only that VIP's instance.
        doc = r.json(f"/eureka/vips/{vip}")["applications"]
        assert [i["instanceId"] for a in doc["application"] for i in a["instance"]] == [iid]
        assert doc["apps__hashcode"] == "UP_1_"
        xml = r.xml(f"/eureka/vips/{vip}")
        assert [n.findtext("instanceId") for n in xml.iter("instance")] == [iid]
        assert r.json(f"/eureka/vips/{vip.upper()}")["applications"]["application"] == []

    # Each client's own cache holds the other: py-eureka-client parsed our
    # XML (full fetch and deltas), eureka-js-client our JSON.
    wait_for(lambda: JS_ID in ids(py.cache().get("JS-SVC")) and PY_ID in ids(js.cache().get("PY-SVC")),
             desc="each client sees the other")
    assert py.cache()["JS-SVC"] == [[JS_ID, "UP", "127.0.0.1", 9002]]
    assert js.cache()["PY-SVC"] == [[PY_ID, "UP", "127.0.0.1", 9001]]

    # Heartbeats keep both registered well past their 3 s lease, without
    # registering again.
    renewals = {iid: set() for iid in BOTH}

    def still_registered():
        now = r.instances()
        for iid in BOTH:
            assert iid in now, f"{iid} dropped: {sorted(now)}"
            lease = now[iid]["leaseInfo"]
            assert lease["registrationTimestamp"] == first[iid]["leaseInfo"]["registrationTimestamp"]
            renewals[iid].add(lease["lastRenewalTimestamp"])

    holds_for(7.0, still_registered)
    assert all(len(seen) >= 5 for seen in renewals.values()), renewals
    assert len(js.seen("heartbeat")) >= 5
    renews = [status for _, path, status in py.http("PUT") if "/status" not in path]
    assert len(renews) >= 5 and set(renews) == {200}, py.http()

    # Stopped, each cancels: gone from the registry and from the delta's
    # point of view.
    assert py.stop() == 0 and js.stop() == 0
    assert js.seen("deregistered")
    assert ("DELETE", f"/eureka/apps/PY-SVC/{quote(PY_ID)}", 200) in py.http("DELETE")
    wait_for(lambda: not r.instances(), 5, "both gone")
    assert r.call("GET", "/eureka/apps/PY-SVC").status == 404
    delta = r.json("/eureka/apps/delta")["applications"]
    deleted = {i["instanceId"] for a in delta["application"] for i in a["instance"] if i["actionType"] == "DELETED"}
    assert deleted == set(BOTH) and delta["apps__hashcode"] == ""


def test_silent_clients_are_evicted_after_their_lease(registry, clients):
    r = registry(eviction="200ms")
    py = clients.py(r.url, **PY)
    js = clients.js(r.url, **JS)
    wait_for(lambda: both_registered(r), desc="both clients registered")
    py.kill()
    js.kill()
    killed = time.monotonic()
    wait_for(lambda: not r.instances(), 8, "both evicted")
    # Renewed at most ~1 s before the kill, a 3 s lease cannot end sooner.
    assert time.monotonic() - killed >= 1.5
    log = r.log()
    assert log.count("Eureka instance evicted") == 2, log
    delta = r.json("/eureka/apps/delta")["applications"]
    actions = [(i["instanceId"], i["actionType"]) for a in delta["application"] for i in a["instance"]]
    assert (PY_ID, "DELETED") in actions and (JS_ID, "DELETED") in actions


def test_restart_forgets_and_clients_register_again(registry, clients):
    r = registry()
    py = clients.py(r.url, **PY)
    js = clients.js(r.url, **JS)
    before = wait_for(lambda: both_registered(r), desc="both clients registered")
    assert r.stop() == 0
    exchanges = len(py.http())
    restarted_ms = time.time() * 1000
    r.start(address=r.address)

    # The registry starts empty; each client is back after its next renewal.
    after = wait_for(lambda: both_registered(r), 10, "both clients registered again")
    for iid in BOTH:
        registered = after[iid]["leaseInfo"]["registrationTimestamp"]
        assert registered >= restarted_ms > before[iid]["leaseInfo"]["registrationTimestamp"]
    assert len(js.seen("registered")) >= 2
    # eureka-js-client renewed, got 404 and registered again (it retries a
    # refused connection itself, so it always comes through a 404).
    since_restart = r.log().split("Eureka registry listening")[-1].splitlines()
    assert any("renewal refused (404)" in line and JS_ID in line for line in since_restart), since_restart
    # py-eureka-client registered again: after a 404, or straight away when a
    # renewal fell into the restart (it then registers on the next beat).
    since = py.http()[exchanges:]
    posts = [i for i, (method, _, status) in enumerate(since) if method == "POST" and status == 204]
    assert posts, since
    assert any(status in (404, 0) for _, _, status in since[:posts[0]]), since


def test_status_override_in_apps_and_delta(registry, clients):
    r = registry()
    py = clients.py(r.url, **PY)
    wait_for(lambda: PY_ID in r.instances(), desc="registered")
    path = f"/eureka/apps/PY-SVC/{quote(PY_ID, safe='')}/status"
    assert r.call("PUT", f"{path}?value=OUT_OF_SERVICE").status == 200

    instance = r.instances()[PY_ID]
    assert instance["status"] == "OUT_OF_SERVICE" and overridden(instance) == "OUT_OF_SERVICE"
    assert r.json("/eureka/apps")["applications"]["apps__hashcode"] == "OUT_OF_SERVICE_1_"
    xml = r.xml("/eureka/apps/")
    assert xml.find("application/instance/overriddenstatus").text == "OUT_OF_SERVICE"

    def last_in_delta():
        delta = r.json("/eureka/apps/delta")["applications"]
        mine = [i for a in delta["application"] for i in a["instance"] if i["instanceId"] == PY_ID]
        return delta["apps__hashcode"], mine[-1]["actionType"], mine[-1]["status"]

    assert last_in_delta() == ("OUT_OF_SERVICE_1_", "MODIFIED", "OUT_OF_SERVICE")
    delta_xml = r.xml("/eureka/apps/delta")
    assert delta_xml.findtext("apps__hashcode") == "OUT_OF_SERVICE_1_"
    assert [n.findtext("actionType") for n in delta_xml.iter("instance")][-1] == "MODIFIED"
    # The client's own cache follows (through a delta), and its heartbeats
    # (status=UP) do not undo the override.
    wait_for(lambda: py.cache().get("PY-SVC") == [[PY_ID, "OUT_OF_SERVICE", "127.0.0.1", 9001]],
             desc="py-eureka-client sees the override")
    holds_for(2.0, lambda: r.instances()[PY_ID]["status"] == "OUT_OF_SERVICE" or pytest.fail("override lost"))

    assert r.call("DELETE", path).status == 200
    instance = r.instances()[PY_ID]
    assert instance["status"] == "UP" and overridden(instance) == "UNKNOWN"
    assert last_in_delta() == ("UP_1_", "MODIFIED", "UP")
    wait_for(lambda: py.cache().get("PY-SVC") == [[PY_ID, "UP", "127.0.0.1", 9001]],
             desc="py-eureka-client sees UP again")

    assert r.call("PUT", f"{path}?value=SIDEWAYS").status == 400
    assert r.call("PUT", path).status == 400
    assert r.call("PUT", "/eureka/apps/PY-SVC/nope/status?value=DOWN").status == 404
    assert r.call("DELETE", "/eureka/apps/PY-SVC/nope/status").status == 404


def register_body(app: str, port: int) -> dict:
    return {"instance": {
        "instanceId": f"127.0.0.1:{app.lower()}:{port}", "hostName": "127.0.0.1", "app": app.upper(),
        "ipAddr": "127.0.0.1", "status": "UP", "port": {"$": port, "@enabled": "true"},
        "securePort": {"$": 8443, "@enabled": "false"}, "vipAddress": app.lower(),
        "secureVipAddress": f"{app.lower()}-secure",
        "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"},
        "leaseInfo": {"renewalIntervalInSecs": 30, "durationInSecs": 90}}}


XML_BODY = """<instance>
  <instanceId>127.0.0.1:xml-svc:9200</instanceId><hostName>127.0.0.1</hostName><app>XML-SVC</app>
  <ipAddr>127.0.0.1</ipAddr><status>UP</status><overriddenstatus>UNKNOWN</overriddenstatus>
  <port enabled="true">9200</port><securePort enabled="false">443</securePort><countryId>1</countryId>
  <dataCenterInfo class="com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo"><name>MyOwn</name></dataCenterInfo>
  <metadata><zone>a</zone></metadata><vipAddress>xml-svc</vipAddress>
</instance>"""


def test_wire_gzip_prefixes_slashes_and_errors(registry):
    r = registry()
    # A gzipped JSON body under /eureka/v2/, with a trailing slash.
    body = gzip.compress(json.dumps(register_body("wire-svc", 9100)).encode())
    reply = r.call("POST", "/eureka/v2/apps/wire-svc/", body,
                   {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert reply.status == 204, reply.text()
    # An XML body with no Content-Type (sniffed).
    assert r.call("POST", "/eureka/apps/XML-SVC", XML_BODY.encode()).status == 204
    wid = quote("127.0.0.1:wire-svc:9100", safe="")

    plain = r.call("GET", "/eureka/apps/", headers={"Accept": "application/json"})
    zipped = r.call("GET", "/eureka/v2/apps", headers={"Accept": "application/json",
                                                       "Accept-Encoding": "gzip, deflate"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers.get("content-encoding") == "gzip" and zipped.body[:2] == b"\x1f\x8b"
    assert zipped.json() == plain.json()
    assert plain.json()["applications"]["apps__hashcode"] == "UP_2_"
    refused = r.call("GET", "/eureka/apps", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers and refused.xml().tag == "applications"

    for path in (f"/eureka/apps/WIRE-SVC/{wid}", f"/eureka/v2/apps/wire-svc/{wid}/",
                 f"/eureka/instances/{wid}"):
        assert r.json(path)["instance"]["instanceId"] == "127.0.0.1:wire-svc:9100", path
    assert r.xml(f"/eureka/apps/xml-svc/{quote('127.0.0.1:xml-svc:9200')}").findtext("metadata/zone") == "a"
    assert [n.findtext("app") for n in r.xml("/eureka/svips/wire-svc-secure/").iter("instance")] == ["WIRE-SVC"]

    # Renew, metadata, then cancel.
    assert r.call("PUT", f"/eureka/apps/WIRE-SVC/{wid}").status == 200
    assert r.call("PUT", f"/eureka/apps/wire-svc/{wid}/metadata?team=edge&zone=b").status == 200
    assert r.json(f"/eureka/apps/WIRE-SVC/{wid}")["instance"]["metadata"] == {"team": "edge", "zone": "b"}
    assert r.call("DELETE", f"/eureka/v2/apps/wire-svc/{wid}/").status == 200

    for method, path, want in [
        ("GET", "/eureka/apps/NOPE", 404), ("GET", f"/eureka/apps/WIRE-SVC/{wid}", 404),
        ("PUT", f"/eureka/apps/WIRE-SVC/{wid}", 404), ("DELETE", f"/eureka/apps/WIRE-SVC/{wid}", 404),
        ("GET", "/eureka/nothing", 404), ("GET", "/other", 404), ("DELETE", "/eureka/apps", 405),
        ("POST", "/eureka/apps/delta", 405), ("GET", "/eureka/apps/a/b/status", 405),
    ]:
        reply = r.call(method, path)
        assert reply.status == want, (method, path, reply.status, reply.text())
    assert r.call("DELETE", "/eureka/apps").headers.get("allow") == "GET, HEAD, POST"

    bad = r.call("POST", "/eureka/apps/BAD", b"{not json", {"Content-Type": "application/json"})
    assert bad.status == 400 and "JSON" in bad.text(), bad.text()
    bad = r.call("POST", "/eureka/apps/BAD", b"not gzip", {"Content-Encoding": "gzip"})
    assert bad.status == 400 and "gzip" in bad.text()
    # Over 1 MiB once gunzipped (the server stops reading at the limit).
    bomb = gzip.compress(b"{" + b" " * (2 << 20) + b"}")
    big = r.call("POST", "/eureka/apps/BIG", bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert len(bomb) < 10_000 and big.status == 413, big.text()
    try:
        big = r.call("POST", "/eureka/apps/BIG", b"{" + b" " * (2 << 20) + b"}", {"Content-Type": "application/json"})
        assert big.status == 413
    except (ConnectionError, urllib.error.URLError):
        pass  # closed before the whole body was sent: refused all the same
    assert r.call("PUT", f"/eureka/apps/XML-SVC/{quote('127.0.0.1:xml-svc:9200')}?lastDirtyTimestamp=x").status == 400
    # Still serving, and nothing else changed.
    assert set(r.instances()) == {"127.0.0.1:xml-svc:9200"}
