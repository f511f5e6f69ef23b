#!/usr/bin/env bash
# Builds ringway and runs it on its embedded quickstart configuration, with a
# demo upstream on 127.0.0.1:8080 behind /demo. Ctrl-C stops both.
#
#   curl http://127.0.0.1:10000/            -> answered by ringway itself
#   curl http://127.0.0.1:10000/demo/       -> proxied to the demo upstream
#   curl http://127.0.0.1:9901/stats        -> the admin API
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p ringway

demo_dir=$(mktemp -d)
echo "hello from the demo upstream" > "$demo_dir/index.html"
python3 -m http.server 8080 --bind 127.0.0.1 --directory "$demo_dir" >/dev/null 2>&1 &
demo_pid=$!
trap 'kill $demo_pid 2>/dev/null; rm -rf "$demo_dir"' EXIT

echo "ringway: listener http://127.0.0.1:10000  admin http://127.0.0.1:9901  (Ctrl-C to stop)"
./target/release/ringway "$@"
