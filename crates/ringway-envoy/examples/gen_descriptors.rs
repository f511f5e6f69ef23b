//! Regenerates `descriptor/envoy.bin`, the protobuf descriptors of the
//! Envoy v3 messages ringway reads from text (bootstrap files, Envoy
//! resources in ringway-control's folder) and writes as JSON
//! (`/config_dump`). The `.proto` files are the ones the `envoy-types`
//! crate ships; `scripts/gen-envoy-descriptors.sh` finds them and runs this.
//!
//! Usage: `gen_descriptors PROTO_ROOT OUT_FILE`

#![allow(clippy::print_stdout)]

use prost::Message;

/// The messages ringway parses or renders, and every extension a bootstrap
/// may name in a `typed_config` whose fields ringway reads or refuses by
/// name.
const ROOTS: &[&str] = &[
    "envoy/config/bootstrap/v3/bootstrap.proto",
    "envoy/admin/v3/config_dump.proto",
    "envoy/admin/v3/server_info.proto",
    "envoy/admin/v3/clusters.proto",
    "envoy/admin/v3/listeners.proto",
    "envoy/admin/v3/memory.proto",
    "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
    "envoy/extensions/filters/http/router/v3/router.proto",
    "envoy/extensions/filters/http/fault/v3/fault.proto",
    "envoy/extensions/filters/http/rbac/v3/rbac.proto",
    "envoy/extensions/filters/http/adaptive_concurrency/v3/adaptive_concurrency.proto",
    "envoy/extensions/filters/http/health_check/v3/health_check.proto",
    "envoy/extensions/upstreams/http/v3/http_protocol_options.proto",
    "envoy/extensions/access_loggers/file/v3/file.proto",
    "envoy/extensions/access_loggers/stream/v3/stream.proto",
    "envoy/extensions/transport_sockets/tls/v3/tls.proto",
    "envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto",
    "envoy/service/discovery/v3/discovery.proto",
];

const INCLUDES: &[&str] = &[
    "data-plane-api",
    "xds",
    "protoc-gen-validate",
    "googleapis",
    "cel-spec/proto",
    "opentelemetry-proto",
    "client_model",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(root), Some(out)) = (args.next(), args.next()) else {
        return Err("usage: gen_descriptors PROTO_ROOT OUT_FILE".into());
    };
    let includes: Vec<String> = INCLUDES.iter().map(|i| format!("{root}/{i}")).collect();
    let mut set = protox::compile(ROOTS, &includes)?;
    // Comments and spans are not needed to read or write JSON.
    for file in &mut set.file {
        file.source_code_info = None;
    }
    set.file.sort_by(|a, b| a.name.cmp(&b.name));
    let bytes = set.encode_to_vec();
    std::fs::write(&out, &bytes)?;
    println!("{} files, {} bytes -> {out}", set.file.len(), bytes.len());
    Ok(())
}
