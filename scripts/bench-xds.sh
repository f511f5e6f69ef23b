#!/usr/bin/env bash
# xDS-lite at scale: ringway-control pushing clusters to a ringway proxy
# (time until every worker serves, RSS per cluster, CPU per update) and a
# run under load while clusters and endpoints change every 100 ms.
# See bench-harness/README.md.
#
#   scripts/bench-xds.sh [--quick] --out DIR [xds_bench.py options]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p ringway -p ringway-control -p bench-harness
exec python3 bench-harness/xds_bench.py "$@"
