//! `grpc-timeout` and `content-type` parsing on arbitrary bytes: no panic,
//! and a parsed timeout re-renders to a value that parses the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ringway_grpc::is_grpc(data);
    if let Some(timeout) = ringway_grpc::parse_timeout(data) {
        let nanos = format!("{}n", timeout.as_nanos());
        if nanos.len() <= 9 {
            assert_eq!(ringway_grpc::parse_timeout(nanos.as_bytes()), Some(timeout));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let mut out = String::new();
        ringway_grpc::encode_message(text, &mut out);
        assert!(out.bytes().all(|b| (0x20..=0x7e).contains(&b)));
    }
});
