#!/usr/bin/env bash
# Installs what ringway's tests need on a fresh Debian machine that has the
# Rust toolchain, Python 3.11 and gcc: curl, nginx and h2load from Debian, the test
# suite's Python packages from PyPI, and cargo-fuzz from crates.io.
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v curl >/dev/null || need_apt+=(curl)
command -v nginx >/dev/null || need_apt+=(nginx-light)
command -v wrk >/dev/null || need_apt+=(wrk)
command -v ps >/dev/null || need_apt+=(procps)
command -v h2load >/dev/null || need_apt+=(nghttp2-client)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} from Debian"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r tests/requirements.txt

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "setup: installing cargo-fuzz from crates.io"
  cargo install -q --locked cargo-fuzz
fi
echo "setup: done"
