#!/usr/bin/env bash
# Runs every test of ringway, the way CI does:
#   formatting, lints, unit and sans-IO tests, end-to-end tests of the real
#   binary under both I/O drivers (io_uring and epoll), a quick run of the
#   benchmark harness (checked for complete results, not for timings), and a
#   short smoke run of every fuzz target.
# Installs what the tests need first (scripts/setup.sh).
#   FUZZ_SECONDS=N   seconds per fuzz target (default 15; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n=== %s\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -q -- -D warnings

step "structure: no import circles on the request path, no too_many_arguments, one attempt loop"
python3 scripts/check_structure.py

step "Envoy descriptors match the protos of the envoy-types crate in use"
bash scripts/gen-envoy-descriptors.sh --check

step "unit and sans-IO tests"
cargo test --workspace -q

step "bench-harness unit tests (parsers, error counting, command lines)"
python3 -m pytest bench-harness/tests_py -q -p no:cacheprovider

step "build the release binaries"
cargo build --release -q -p ringway -p ringway-control

step "end-to-end tests (real binary, curl and raw sockets; io_uring and epoll)"
RINGWAY_BIN="$PWD/target/release/ringway" RINGWAY_CONTROL_BIN="$PWD/target/release/ringway-control" \
  python3 -m pytest tests/e2e -q -p no:cacheprovider

step "bench-harness quick run (the harness must produce complete results; timings are not asserted)"
bench_out=$(mktemp -d)
bash scripts/bench.sh --quick --out "$bench_out"
bash scripts/bench.sh --check "$bench_out"
rm -rf "$bench_out"

step "xDS-lite quick scale run (1,000 clusters pushed, churn under load: fails on any failed request)"
xds_out=$(mktemp -d)
bash scripts/bench-xds.sh --quick --out "$xds_out"
rm -rf "$xds_out"

fuzz_seconds="${FUZZ_SECONDS:-15}"
if [ "$fuzz_seconds" -gt 0 ]; then
  step "fuzz smoke run (${fuzz_seconds}s per target)"
  # RUSTC_BOOTSTRAP lets the stable toolchain accept the -Z flags cargo-fuzz
  # passes, so no nightly toolchain is needed.
  for dir in crates/*/fuzz; do
    [ -d "$dir" ] || continue
    # Listed first, on its own: a failing `cargo fuzz list` inside the
    # for-loop's word list would be ignored (and fuzz nothing).
    targets=$(cd "$dir" && RUSTC_BOOTSTRAP=1 cargo fuzz list)
    if [ -z "$targets" ]; then
      echo "fuzz: $dir lists no targets" >&2
      exit 1
    fi
    for target in $targets; do
      echo "fuzz: $dir $target"
      (cd "$dir" && RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -- -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 2>&1 | tail -n 3)
    done
  done
fi

step "all tests passed"
