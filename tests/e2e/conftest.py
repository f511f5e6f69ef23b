"""Fixtures for ringway's end-to-end tests.

Every test that (directly or not) uses the ``driver`` fixture runs twice:
once with ``--io-driver uring`` and once with ``--io-driver epoll``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from e2e_origin import Origin  # noqa: E402
from e2e_proxy import Proxy  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DRIVERS = ["uring", "epoll"]
# Per-test limit (pytest-timeout) unless --timeout, PYTEST_TIMEOUT or an ini
# file sets one: generous for the slowest tests (the 1 GiB bodies, real
# Eureka clients renewing leases), short enough that a hang ends the run.
DEFAULT_TEST_TIMEOUT = 300


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    if not config.pluginmanager.hasplugin("timeout"):
        raise pytest.UsageError("the e2e tests need pytest-timeout: pip install -r tests/requirements.txt")
    if (config.getoption("timeout", None) is None and not os.environ.get("PYTEST_TIMEOUT")
            and not config.getini("timeout")):
        config.option.timeout = DEFAULT_TEST_TIMEOUT


def _find_binary(name: str = "ringway", env_var: str = "RINGWAY_BIN") -> str:
    """$env_var, else target/release/NAME, else target/debug/NAME."""
    env = os.environ.get(env_var)
    if env:
        return env
    for profile in ("release", "debug"):
        p = REPO / "target" / profile / name
        if p.exists():
            return str(p)
    return ""


def _find_control_binary() -> str:
    return _find_binary("ringway-control", "RINGWAY_CONTROL_BIN")


def pytest_report_header(config):
    return (f"ringway binary: {_find_binary() or '(not found)'}\n"
            f"ringway-control binary: {_find_control_binary() or '(not found)'}")


@pytest.fixture(scope="session")
def ringway_bin() -> str:
    path = _find_binary()
    if not path or not os.access(path, os.X_OK):
        pytest.fail("no ringway binary: set RINGWAY_BIN or run `cargo build --release -p ringway`")
    return path


@pytest.fixture(scope="session")
def control_bin() -> str:
    path = _find_control_binary()
    if not path or not os.access(path, os.X_OK):
        pytest.fail("no ringway-control binary: set RINGWAY_CONTROL_BIN or run "
                    "`cargo build --release -p ringway-control`")
    return path


def _end_all(request, made, describe) -> None:
    """Teardown of a factory fixture: for a failed test, what
    ``describe(item)`` says of each item goes to stderr; then each is
    killed."""
    failed = getattr(request.node, "rep_call", None)
    for item in made:
        if failed is not None and failed.failed:
            sys.stderr.write(describe(item))
        item.kill()


def _log_of(item, tail: int = 4000) -> str:
    return f"\n--- ringway-control log ({item.dir}) ---\n{item.log()[-tail:]}\n"


@pytest.fixture
def control(control_bin, tmp_path, request):
    """Function-scoped: make ringway-control processes (``control()``, then
    ``.start()``); all killed at teardown, logs printed for a failed test."""
    from e2e_control import Control  # needs xds-protos; only these tests import it

    made = []
    counter = iter(range(1000))

    def make():
        c = Control(control_bin, tmp_path / f"control{next(counter)}")
        made.append(c)
        return c

    yield make
    _end_all(request, made, _log_of)


@pytest.fixture
def registry(control_bin, tmp_path, request):
    """Function-scoped: start ringway-control with its Eureka registry
    (``registry(**start_args)``, see ``e2e_eureka.Registry.start``); all
    killed at teardown, logs printed for a failed test."""
    from e2e_eureka import Registry

    made = []

    def make(**kw):
        r = Registry(control_bin, tmp_path / f"registry{len(made)}")
        made.append(r)
        return r.start(**kw)

    yield make
    _end_all(request, made, lambda r: _log_of(r, 6000))


@pytest.fixture
def clients(tmp_path, request):
    """Function-scoped: real Eureka client processes, ``clients.py(url,
    app=, vip=, port=)`` (py-eureka-client) or ``clients.js(...)``
    (eureka-js-client); all killed at teardown, their stderr and last events
    printed for a failed test."""
    from e2e_eureka import start_js_client, start_py_client

    made = []

    class Clients:
        @staticmethod
        def py(url, **kw):
            made.append(start_py_client(tmp_path / "clients", url, **kw))
            return made[-1]

        @staticmethod
        def js(url, **kw):
            made.append(start_js_client(tmp_path / "clients", url, **kw))
            return made[-1]

    yield Clients
    _end_all(request, made, lambda c: f"\n--- {c.name} stderr ---\n{c.log()[-3000:]}\n"
                                      f"--- events ---\n{json.dumps(c.events[-40:])}\n")


@pytest.fixture(scope="session")
def is_release(ringway_bin) -> bool:
    return "/release/" in ringway_bin


@pytest.fixture(scope="session", params=DRIVERS)
def driver(request) -> str:
    return request.param


class _Group:
    """Owns processes and origins; cleans them all up."""

    def __init__(self, binary, workdir_fn, driver):
        self.binary = binary
        self.workdir_fn = workdir_fn
        self.driver = driver
        self.proxies: list[Proxy] = []
        self.origins: list[Origin] = []

    def proxy(self, config, **kw) -> Proxy:
        p = Proxy(self.binary, self.workdir_fn(), kw.pop("driver", self.driver))
        self.proxies.append(p)
        p.start(config, **kw)
        return p

    def unstarted_proxy(self) -> Proxy:
        p = Proxy(self.binary, self.workdir_fn(), self.driver)
        self.proxies.append(p)
        return p

    def origin(self, name="origin", handler=None, read_body=True) -> Origin:
        o = Origin(name, handler, read_body)
        self.origins.append(o)
        return o

    def close(self):
        for p in self.proxies:
            p.kill()
        for o in self.origins:
            o.stop()

    def check_origin_errors(self):
        """Fails the test if an origin recorded an error (a handler that
        raised, a request it could not parse, an HTTP/2 protocol error). An
        origin expected to see such things sets ``errors_expected``."""
        errors = [f"{o.name}: {e}" for o in self.origins
                  if not getattr(o, "errors_expected", False) for e in getattr(o, "errors", [])]
        if errors:
            pytest.fail("origin errors:\n" + "\n".join(errors[:20]), pytrace=False)


@pytest.fixture
def env(ringway_bin, driver, tmp_path, request):
    """Function-scoped: start proxies and origins; all killed at teardown."""
    counter = iter(range(1000))
    g = _Group(ringway_bin, lambda: tmp_path / f"proxy{next(counter)}", driver)
    yield g
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        for p in g.proxies:
            sys.stderr.write(f"\n--- ringway log ({p.dir}) ---\n{p.log()[-4000:]}\n")
    g.close()
    if failed is not None and failed.passed:
        g.check_origin_errors()


@pytest.fixture
def env_once(ringway_bin, tmp_path):
    """Like env but not parametrized over drivers (io_uring only)."""
    counter = iter(range(1000))
    g = _Group(ringway_bin, lambda: tmp_path / f"proxy{next(counter)}", "uring")
    yield g
    g.close()
    g.check_origin_errors()


@pytest.fixture(scope="module")
def module_env(ringway_bin, driver, tmp_path_factory):
    """Module-scoped group (one per module and driver) for shared setups."""
    base = tmp_path_factory.mktemp(f"mod-{driver}")
    counter = iter(range(1000))
    g = _Group(ringway_bin, lambda: base / f"proxy{next(counter)}", driver)
    yield g
    g.close()
    g.check_origin_errors()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(scope="session")
def curl_bin() -> str:
    path = shutil.which("curl")
    if not path:
        pytest.fail("curl is needed by the e2e tests")
    return path
