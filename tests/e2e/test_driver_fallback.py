"""io_uring blocked (as container runtimes often do): `auto` falls back to
epoll and serves; `uring` refuses to start with a clear error.

Two ways to block it, each for the ringway process alone where possible:

* ``seccomp``: a seccomp filter installed in the child before exec makes
  io_uring_setup/enter/register fail with EPERM (what Docker's default
  profile does) or ENOSYS (a kernel without io_uring). It needs no
  privileges (PR_SET_NO_NEW_PRIVS), so it runs everywhere CI does (x86_64
  and aarch64 Linux).
* ``sysctl``: kernel.io_uring_disabled=2 (Linux 6.6+, root). The switch is
  global, so the window in which io_uring is disabled is kept to the
  start-up of one process and always restored; skipped where it cannot be
  written.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import platform
import struct
from pathlib import Path

import pytest

from e2e_client import RawConn
from e2e_proxy import cluster, simple_config

SWITCH = Path("/proc/sys/kernel/io_uring_disabled")

# -- seccomp -------------------------------------------------------------------------

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
IO_URING_SYSCALLS = (425, 426, 427)  # io_uring_setup, _enter, _register (same on both)
BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def io_uring_blocker(err: int):
    """A preexec_fn that installs a seccomp filter failing the io_uring
    system calls with `err` (other architectures' calls pass)."""
    arch = AUDIT_ARCH[platform.machine()]
    program = b"".join([
        _insn(BPF_LD_W_ABS, 4),                    # 0: A = seccomp_data.arch
        _insn(BPF_JEQ_K, arch, 0, 4),              # 1: other arch -> 6 (allow)
        _insn(BPF_LD_W_ABS, 0),                    # 2: A = seccomp_data.nr
        _insn(BPF_JEQ_K, IO_URING_SYSCALLS[0], 3, 0),  # 3: -> 7 (errno)
        _insn(BPF_JEQ_K, IO_URING_SYSCALLS[1], 2, 0),  # 4: -> 7
        _insn(BPF_JEQ_K, IO_URING_SYSCALLS[2], 1, 0),  # 5: -> 7
        _insn(BPF_RET_K, SECCOMP_RET_ALLOW),       # 6
        _insn(BPF_RET_K, SECCOMP_RET_ERRNO | err),  # 7
    ])
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec():
        keep = (buf, prog)  # noqa: F841 - alive until exec
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
        if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")

    return preexec


# -- the ways to block, as contexts yielding start() keyword arguments ----------------

@contextlib.contextmanager
def blocked(how: str):
    if how.startswith("seccomp"):
        if platform.machine() not in AUDIT_ARCH:
            pytest.skip(f"no seccomp filter written for {platform.machine()}")
        yield {"preexec_fn": io_uring_blocker(errno.EPERM if how == "seccomp-eperm" else errno.ENOSYS)}
        return
    if not SWITCH.exists() or not os.access(SWITCH, os.W_OK):
        pytest.skip("needs root and a kernel with kernel.io_uring_disabled (6.6+)")
    before = SWITCH.read_text().strip()
    SWITCH.write_text("2")
    try:
        yield {}
    finally:
        SWITCH.write_text(before)


HOW = ["seccomp-eperm", "seccomp-enosys", "sysctl"]


def test_seccomp_filter_blocks_only_io_uring():
    """The filter itself: a child with it cannot set up io_uring (EPERM) but
    runs otherwise; without it, the same probe succeeds (io_uring works
    here), so the fallback tests below test what they say."""
    import subprocess
    import sys

    if platform.machine() not in AUDIT_ARCH:
        pytest.skip(f"no seccomp filter written for {platform.machine()}")
    probe = ("import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
             "p = ctypes.create_string_buffer(120); "
             f"fd = libc.syscall({IO_URING_SYSCALLS[0]}, 4, p); "
             "print(fd >= 0, ctypes.get_errno())")
    with_filter = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=10,
                                 preexec_fn=io_uring_blocker(errno.EPERM))
    assert with_filter.returncode == 0, with_filter.stderr
    assert with_filter.stdout.split() == ["False", str(errno.EPERM)], with_filter.stdout
    without = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=10)
    if without.stdout.split()[0] != "True":
        pytest.skip(f"io_uring is not available here at all ({without.stdout.strip()})")


@pytest.mark.parametrize("how", HOW)
def test_auto_falls_back_to_epoll_and_serves(env_once, how):
    origin = env_once.origin("fallback")
    proxy = env_once.unstarted_proxy()
    config = simple_config([{"match": {"prefix": "/"}, "cluster": "backend"}], [cluster("backend", origin)])
    with blocked(how) as kw:
        proxy.start(config, driver="auto", **kw)
    assert {w["io_driver"] for w in proxy.workers()} == {"epoll"}
    assert "io_uring is not available" in proxy.log()
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/a").status == 200
        assert c.request("GET", "/b").status == 200


@pytest.mark.parametrize("how", HOW)
def test_uring_demanded_but_blocked_is_a_clear_start_up_error(env_once, how):
    proxy = env_once.unstarted_proxy()
    with blocked(how) as kw:
        proxy.start(simple_config([{"match": {"prefix": "/"}, "direct_response": {"status": 200}}]),
                    driver="uring", wait=False, **kw)
        code = proxy.proc.wait(10)
    assert code == 1
    assert "io_uring unavailable" in proxy.log()


def test_auto_uses_io_uring_when_not_blocked(env_once):
    """The control: unblocked, `auto` picks io_uring (where the kernel has it)."""
    proxy = env_once.unstarted_proxy()
    proxy.start(simple_config([{"match": {"prefix": "/"}, "direct_response": {"status": 200}}]), driver="auto")
    drivers = {w["io_driver"] for w in proxy.workers()}
    if drivers == {"epoll"} and "io_uring is not available" in proxy.log():
        pytest.skip("io_uring is not available on this machine")
    assert drivers == {"io_uring"}, drivers
