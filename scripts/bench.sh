#!/usr/bin/env bash
# Benchmarks ringway against nginx, HAProxy (and Envoy when it is on PATH):
# max throughput, CPU per request and latency at a fixed rate, peak memory,
# errors, and instructions per request. See bench-harness/README.md.
#
#   scripts/bench.sh [--quick] [--out DIR] [bench.py options] [SCENARIO...]
#   scripts/bench.sh --check DIR      # complete results, every error count zero?
#
# Installs the tools it needs from Debian when they are missing (nginx,
# haproxy, wrk, h2load from nghttp2-client, valgrind), builds ringway and the
# harness's Rust binaries (bench-origin, bench-load) in release mode, then
# runs bench-harness/bench.py with the same arguments.
set -euo pipefail
cd "$(dirname "$0")/.."

check_only=0
for arg in "$@"; do
  case "$arg" in
    --check|--check=*) check_only=1 ;;
  esac
done

if [ "$check_only" -eq 0 ]; then
  need_apt=()
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
  command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need_apt+=(haproxy)
  command -v wrk >/dev/null || need_apt+=(wrk)
  command -v h2load >/dev/null || need_apt+=(nghttp2-client)
  command -v valgrind >/dev/null || need_apt+=(valgrind)
  command -v taskset >/dev/null || need_apt+=(util-linux)
  if [ ${#need_apt[@]} -gt 0 ]; then
    echo "bench: installing ${need_apt[*]} from Debian"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null
  fi
  # The Debian packages start their services; the benchmark runs its own.
  for svc in nginx haproxy; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
      echo "bench: note: a system $svc service is running; the benchmark starts its own on other ports"
    fi
  done

  echo "bench: cargo build --release -p ringway -p bench-harness"
  cargo build --release -q -p ringway -p bench-harness
fi

BENCH_COMMAND="scripts/bench.sh${*:+ $*}" exec python3 bench-harness/bench.py "$@"
