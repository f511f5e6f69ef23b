#!/usr/bin/env bash
# Regenerates crates/ringway-envoy/descriptor/envoy.bin from the .proto
# files the envoy-types crate ships (the same protos its Rust types were
# generated from). With --check, fails when the committed file differs.
set -euo pipefail
cd "$(dirname "$0")/.."
manifest=$(cargo metadata --format-version 1 --locked | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == "envoy-types":
        print(p["manifest_path"])')
root="$(dirname "$manifest")/proto"
out=crates/ringway-envoy/descriptor/envoy.bin
if [ "${1:-}" = --check ]; then
  tmp=$(mktemp)
  cargo run -q --locked -p ringway-envoy --example gen_descriptors -- "$root" "$tmp" >/dev/null
  if ! cmp -s "$tmp" "$out"; then
    rm -f "$tmp"
    echo "gen-envoy-descriptors: $out is stale; run scripts/gen-envoy-descriptors.sh" >&2
    exit 1
  fi
  rm -f "$tmp"
else
  cargo run -q --locked -p ringway-envoy --example gen_descriptors -- "$root" "$out"
fi
