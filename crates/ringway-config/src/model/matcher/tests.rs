#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn string(kind: StringMatchKind, ignore_case: bool) -> StringMatch {
    StringMatch { kind, ignore_case }
}

#[test]
fn string_forms() {
    use StringMatchKind::*;
    let cases: &[(StringMatch, &[u8], bool)] = &[
        (string(Exact("abc".into()), false), b"abc", true),
        (string(Exact("abc".into()), false), b"ABC", false),
        (string(Exact("abc".into()), true), b"ABC", true),
        (string(Exact("".into()), false), b"", true),
        (string(Prefix("ab".into()), false), b"abc", true),
        (string(Prefix("AB".into()), true), b"abc", true),
        (string(Prefix("abcd".into()), false), b"abc", false),
        (string(Suffix("bc".into()), false), b"abc", true),
        (string(Suffix("BC".into()), false), b"abc", false),
        (string(Suffix("BC".into()), true), b"abc", true),
        (string(Contains("b".into()), false), b"abc", true),
        (string(Contains("XB".into()), true), b"axbc", true),
        (string(Contains("zz".into()), true), b"abc", false),
        (
            string(SafeRegex(Pattern::new("a.c").unwrap()), false),
            b"abc",
            true,
        ),
        (
            string(SafeRegex(Pattern::new("a.c").unwrap()), true),
            b"ABC",
            false,
        ),
        (
            string(SafeRegex(Pattern::new("b").unwrap()), false),
            b"abc",
            false,
        ),
    ];
    for (m, value, expected) in cases {
        assert_eq!(m.matches(value), *expected, "{m:?} on {value:?}");
    }
}

fn header(value: HeaderValueMatch, invert: bool, missing_empty: bool) -> HeaderMatch {
    HeaderMatch {
        name: "x".into(),
        value,
        invert_match: invert,
        treat_missing_header_as_empty: missing_empty,
    }
}

#[test]
fn header_presence_and_inversion() {
    let exact = || HeaderValueMatch::String(string(StringMatchKind::Exact("yes".into()), false));
    let cases = [
        (
            header(HeaderValueMatch::Present(true), false, false),
            None,
            false,
        ),
        (
            header(HeaderValueMatch::Present(true), false, false),
            Some(&b""[..]),
            true,
        ),
        (
            header(HeaderValueMatch::Present(false), false, false),
            None,
            true,
        ),
        (
            header(HeaderValueMatch::Present(false), false, false),
            Some(&b"1"[..]),
            false,
        ),
        (
            header(HeaderValueMatch::Present(true), true, false),
            None,
            true,
        ),
        (header(exact(), false, false), Some(&b"yes"[..]), true),
        (header(exact(), true, false), Some(&b"yes"[..]), false),
        (header(exact(), true, false), Some(&b"no"[..]), true),
        // A missing header fails a value condition, inverted or not...
        (header(exact(), true, false), None, false),
        (header(exact(), false, false), None, false),
        // ...unless it counts as empty.
        (header(exact(), true, true), None, true),
        (
            header(
                HeaderValueMatch::String(string(StringMatchKind::Exact("".into()), false)),
                false,
                true,
            ),
            None,
            true,
        ),
    ];
    for (m, value, expected) in cases {
        assert_eq!(m.matches(value), expected, "{m:?} on {value:?}");
    }
}

#[test]
fn query_parameters() {
    let present = |p| QueryParameterMatch {
        name: "q".into(),
        value: QueryParameterValueMatch::Present(p),
    };
    let prefix = QueryParameterMatch {
        name: "q".into(),
        value: QueryParameterValueMatch::String(string(StringMatchKind::Prefix("a".into()), false)),
    };
    assert!(present(true).matches(Some(b"")));
    assert!(!present(true).matches(None));
    assert!(present(false).matches(None));
    assert!(!present(false).matches(Some(b"x")));
    assert!(prefix.matches(Some(b"abc")));
    assert!(!prefix.matches(Some(b"b")));
    assert!(!prefix.matches(None));
}

#[test]
fn regex_rewrite_replaces_every_match_with_groups() {
    let rewrite = |pattern: &str, substitution: &str, path: &str| {
        let r = RegexRewrite::new(pattern, substitution).unwrap();
        let mut out = Vec::new();
        r.rewrite_into(path.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    };
    assert_eq!(
        rewrite(
            "^/service/([^/]+)(/.*)$",
            "\\2/instance/\\1",
            "/service/foo/v1/api"
        ),
        "/v1/api/instance/foo"
    );
    assert_eq!(
        rewrite("one", "two", "/xxx/one/yyy/one/zzz"),
        "/xxx/two/yyy/two/zzz"
    );
    assert_eq!(
        rewrite("^(.*?)one(.*)$", "\\1two\\2", "/xxx/one/yyy/one/zzz"),
        "/xxx/two/yyy/one/zzz"
    );
    assert_eq!(rewrite("/", "\\\\$", "/a/b"), "\\$a\\$b");
    assert_eq!(rewrite("nomatch", "x", "/a"), "/a");
    assert_eq!(rewrite("a", "\\0\\0", "/a"), "/aa");
}

#[test]
fn regex_rewrite_errors() {
    assert!(matches!(
        RegexRewrite::new("(", "x"),
        Err(RegexRewriteError::Pattern(_))
    ));
    assert_eq!(
        RegexRewrite::new("(a)", "\\2").err(),
        Some(RegexRewriteError::Group {
            group: 2,
            groups: 1
        })
    );
    assert_eq!(
        RegexRewrite::new("a", "x\\n").err(),
        Some(RegexRewriteError::Escape(1))
    );
    assert_eq!(
        RegexRewrite::new("a", "x\\").err(),
        Some(RegexRewriteError::Escape(1))
    );
}

#[test]
fn header_range_is_a_half_open_integer_interval() {
    let range = || HeaderValueMatch::Range {
        start: -10,
        end: 10,
    };
    let cases: [(HeaderMatch, Option<&[u8]>, bool); 9] = [
        (header(range(), false, false), Some(b"-10"), true),
        (header(range(), false, false), Some(b"9"), true),
        (header(range(), false, false), Some(b" 3 "), true),
        (header(range(), false, false), Some(b"10"), false),
        (header(range(), false, false), Some(b"1.5"), false),
        (header(range(), false, false), Some(b"ten"), false),
        (header(range(), false, false), None, false),
        (header(range(), true, false), Some(b"10"), true),
        (header(range(), true, true), None, true),
    ];
    for (m, value, expected) in cases {
        assert_eq!(m.matches(value), expected, "{m:?} on {value:?}");
    }
}
