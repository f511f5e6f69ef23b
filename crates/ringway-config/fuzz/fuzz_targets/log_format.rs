//! Text as an Envoy access-log format string (and as a JSON format
//! dictionary): compiled, or refused with an error. No step may panic; an
//! accepted format compiles again from its source to the same pieces.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ringway_config::model::JsonFormat;
use ringway_config::model::log_format::{LogFormat, TimeFormat};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(format) = LogFormat::parse(text) {
        assert_eq!(LogFormat::parse(format.source()).ok(), Some(format.clone()));
        let _ = format.single_operator().map(|op| op.is_numeric());
    } else if let Err(e) = LogFormat::parse(text) {
        let _ = e.to_string();
    }
    let _ = TimeFormat::parse(text);
    if let Ok(serde_json::Value::Object(object)) = serde_json::from_str(text) {
        let _ = JsonFormat::compile_fields(&object);
    }
});
