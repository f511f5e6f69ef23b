//! Bytes from the network as each Eureka document, in both forms. No
//! parser may panic, whatever the bytes; what one accepts, its writer must
//! write so that it reads back the same. What XML carries, JSON carries too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ringway_eureka::{json, xml};

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = json::parse_applications(data) {
        assert_eq!(
            json::parse_applications(&json::write_applications(&doc)),
            Ok(doc)
        );
    }
    if let Ok(app) = json::parse_application(data) {
        assert_eq!(
            json::parse_application(&json::write_application(&app)),
            Ok(app)
        );
    }
    if let Ok(instance) = json::parse_instance(data) {
        assert_eq!(
            json::parse_instance(&json::write_instance(&instance)),
            Ok(instance)
        );
    }
    if let Ok(doc) = xml::parse_applications(data) {
        assert_eq!(
            xml::parse_applications(&xml::write_applications(&doc)),
            Ok(doc.clone())
        );
        assert_eq!(
            json::parse_applications(&json::write_applications(&doc)),
            Ok(doc)
        );
    }
    if let Ok(app) = xml::parse_application(data) {
        assert_eq!(
            xml::parse_application(&xml::write_application(&app)),
            Ok(app.clone())
        );
        assert_eq!(
            json::parse_application(&json::write_application(&app)),
            Ok(app)
        );
    }
    if let Ok(instance) = xml::parse_instance(data) {
        assert_eq!(
            xml::parse_instance(&xml::write_instance(&instance)),
            Ok(instance.clone())
        );
        assert_eq!(
            json::parse_instance(&json::write_instance(&instance)),
            Ok(instance)
        );
    }
});
