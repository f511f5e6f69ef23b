//! Table-driven tests of single-value checks.

use std::time::Duration;

use super::*;

#[test]
fn domains() {
    use DomainPattern::*;
    let ok = [
        ("*", Any),
        ("Example.COM", Exact("example.com".into())),
        ("*.example.com", Suffix(".example.com".into())),
        ("*-bar.example.com", Suffix("-bar.example.com".into())),
        ("www.*", Prefix("www.".into())),
        ("10.0.0.1", Exact("10.0.0.1".into())),
        ("[::1]", Exact("[::1]".into())),
        ("[FE80::1]", Exact("[fe80::1]".into())),
    ];
    for (text, expected) in ok {
        assert_eq!(domain(text).ok(), Some(expected), "{text}");
    }
    let bad = [
        "",
        "a*b.com",
        "*.*.com",
        "**",
        "example.com:80",
        "[::1]:80",
        "[nope]",
        "ex ample.com",
        "bücher.de",
        "a/b",
    ];
    for text in bad {
        assert!(domain(text).is_err(), "{text} should be rejected");
    }
}

#[test]
fn listen_addresses() {
    assert_eq!(
        listen_address("127.0.0.1:0").ok(),
        "127.0.0.1:0".parse().ok()
    );
    assert_eq!(listen_address("[::1]:80").ok(), "[::1]:80".parse().ok());
    let cases = [
        ("127.0.0.1", "has no port"),
        ("::1", "brackets"),
        ("localhost:80", "names a host"),
        ("127.0.0.1:99999", "is not an IP:port"),
        ("127.0.0.1:http", "is not an IP:port"),
    ];
    for (text, why) in cases {
        let error = listen_address(text).map(|_| ()).unwrap_err().to_string();
        assert!(error.contains(why), "{text}: {error}");
    }
}

#[test]
fn endpoint_addresses() {
    let ok = [
        (
            "10.0.0.1:8080",
            EndpointAddress::Ip("10.0.0.1:8080".parse().unwrap()),
        ),
        (
            "[::1]:8080",
            EndpointAddress::Ip("[::1]:8080".parse().unwrap()),
        ),
        (
            "Backend.local:80",
            EndpointAddress::Host("backend.local".into(), 80),
        ),
        ("localhost:1", EndpointAddress::Host("localhost".into(), 1)),
    ];
    for (text, expected) in ok {
        assert_eq!(endpoint_address(text).ok(), Some(expected), "{text}");
    }
    let bad = [
        ("10.0.0.1", "has no port"),
        ("backend", "has no port"),
        ("10.0.0.1:0", "port 0"),
        ("backend:0", "port 0"),
        ("0.0.0.0:80", "unspecified"),
        ("[::]:80", "unspecified"),
        ("::1:80", "brackets"),
        ("backend:http", "is not an endpoint"),
        (":80", "is not an endpoint"),
        ("a b:80", "is not an endpoint"),
    ];
    for (text, why) in bad {
        let error = endpoint_address(text).map(|_| ()).unwrap_err().to_string();
        assert!(error.contains(why), "{text}: {error}");
    }
}

#[test]
fn durations() {
    let text = |s: &str| DurationText::Text(s.into());
    assert_eq!(
        positive_duration(&text("250ms")).ok(),
        Some(Duration::from_millis(250))
    );
    assert_eq!(
        positive_duration(&text("1m")).ok(),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        positive_duration(&text("1m 30s")).ok(),
        Some(Duration::from_secs(90))
    );
    let bad = [
        (DurationText::Bare("5".into()), "has no unit"),
        (text("5"), "has no unit"),
        (text("0s"), "greater than zero"),
        (text("5 parsecs"), "not a duration"),
        (text(""), "not a duration"),
    ];
    for (value, why) in bad {
        let error = positive_duration(&value)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(error.contains(why), "{value:?}: {error}");
    }
}

#[test]
fn cpu_sets() {
    let text = |s: &str| CpuSetText::Text(s.into());
    assert_eq!(
        cpu_set(&text("0-1,3,5-7")).ok(),
        Some(vec![0, 1, 3, 5, 6, 7])
    );
    assert_eq!(cpu_set(&text(" 2 , 0 ")).ok(), Some(vec![2, 0]));
    assert_eq!(
        cpu_set(&CpuSetText::List(vec![4, 2])).ok(),
        Some(vec![4, 2])
    );
    let bad = [
        (text(""), "at least one CPU"),
        (CpuSetText::List(vec![]), "at least one CPU"),
        (text("3-1"), "upwards"),
        (text("0,,1"), "CPU number or a range"),
        (text("a"), "CPU number or a range"),
        (text("0-2,1"), "more than once"),
        (text("0-100000"), "beyond"),
        (CpuSetText::List(vec![9000]), "beyond"),
    ];
    for (value, why) in bad {
        let error = cpu_set(&value).map(|_| ()).unwrap_err().to_string();
        assert!(error.contains(why), "{value:?}: {error}");
    }
}

#[test]
fn names_headers_methods_hosts() {
    assert!(name("edge-1.v2_a").is_ok());
    assert!(name("").is_err());
    assert!(name("a b").is_err());
    assert_eq!(header_name("X-Canary").ok().as_deref(), Some("x-canary"));
    assert!(header_name(":authority").is_err());
    assert!(header_name("a b").is_err());
    assert_eq!(method("get").ok().as_deref(), Some("GET"));
    assert!(method("GE T").is_err());
    for ok in [
        "example.com",
        "example.com:8443",
        "[::1]",
        "[::1]:80",
        "10.0.0.1:80",
    ] {
        assert!(authority(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "a/b",
        "example.com:",
        "example.com:x",
        "[::1",
        "[zz]:80",
        ":80",
    ] {
        assert!(authority(bad).is_err(), "{bad}");
    }
    assert!(url_path("/a/b").is_ok());
    assert!(url_path("a").is_err());
    assert!(url_path("/a b").is_err());
}

#[test]
fn regex_errors_are_one_line() {
    let error = pattern("(unclosed").map(|_| ()).unwrap_err().to_string();
    assert!(!error.contains('\n'), "{error}");
    assert!(error.contains("unclosed group"), "{error}");
    assert!(pattern("a)|(b").is_err(), "must not escape the anchors");
    let anchored = pattern("/a|/b").unwrap_or_else(|e| panic!("{e}"));
    assert!(anchored.is_match(b"/a"));
    assert!(!anchored.is_match(b"/ab"));
}
