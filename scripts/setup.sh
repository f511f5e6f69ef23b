#!/usr/bin/env bash
# Installs what ringway's tests need on a fresh Debian machine that has the
# Rust toolchain, Python 3.11 and gcc: curl, nginx, h2load and Node.js from Debian,
# the test suite's Python packages from PyPI, its one npm package
# (eureka-js-client, into tests/e2e/eureka-js/node_modules), and cargo-fuzz
# from crates.io.
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v curl >/dev/null || need_apt+=(curl)
command -v nginx >/dev/null || need_apt+=(nginx-light)
command -v wrk >/dev/null || need_apt+=(wrk)
command -v ps >/dev/null || need_apt+=(procps)
command -v h2load >/dev/null || need_apt+=(nghttp2-client)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} from Debian"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r tests/requirements.txt

# eureka-js-client for the Eureka registry tests, at the version the lock file pins.
js_client=tests/e2e/eureka-js/node_modules/eureka-js-client/package.json
if [ "$(node -p "require('./$js_client').version" 2>/dev/null)" != 4.5.0 ]; then
  echo "setup: installing eureka-js-client from npm"
  (cd tests/e2e/eureka-js && npm ci --no-audit --no-fund --loglevel=error)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "setup: installing cargo-fuzz from crates.io"
  cargo install -q --locked cargo-fuzz
fi
echo "setup: done"
