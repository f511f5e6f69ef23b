#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn ops(source: &str) -> Vec<Operator> {
    LogFormat::parse(source)
        .expect("parses")
        .operators()
        .cloned()
        .collect()
}

#[test]
fn text_and_operators() {
    let f = LogFormat::parse("a %PROTOCOL% b %% c\n").expect("parses");
    assert_eq!(
        f.pieces(),
        &[
            Piece::Text("a ".into()),
            Piece::Op {
                op: Operator::Protocol,
                max_len: None
            },
            Piece::Text(" b % c\n".into()),
        ]
    );
    assert_eq!(f.source(), "a %PROTOCOL% b %% c\n");
}

#[test]
fn headers_with_alternative_and_length() {
    let f = LogFormat::parse("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH):10%").expect("parses");
    assert_eq!(
        f.pieces(),
        &[Piece::Op {
            op: Operator::RequestHeader(HeaderRef {
                name: "x-envoy-original-path".into(),
                alternative: Some(":path".into()),
            }),
            max_len: Some(10),
        }]
    );
    assert_eq!(f.single_operator(), None);
    assert!(matches!(
        ops("%RESP(Content-Type)%").as_slice(),
        [Operator::ResponseHeader(_)]
    ));
    assert!(matches!(
        ops("%REQUEST_HEADER(a)%").as_slice(),
        [Operator::RequestHeader(_)]
    ));
}

#[test]
fn start_time_formats() {
    use TimePiece::*;
    let [Operator::StartTime(t)] = &ops("%START_TIME(%s.%3f %Y/%m/%dT%H:%M:%S%z)%")[..] else {
        panic!("one START_TIME");
    };
    assert_eq!(
        t.pieces(),
        &[
            EpochSeconds,
            Text(".".into()),
            Fraction(3),
            Text(" ".into()),
            Year,
            Text("/".into()),
            Month,
            Text("/".into()),
            Day,
            Text("T".into()),
            Hour,
            Text(":".into()),
            Minute,
            Text(":".into()),
            Second,
            Offset,
        ]
    );
    assert_eq!(
        ops("%START_TIME%"),
        vec![Operator::StartTime(TimeFormat::default())]
    );
    assert_eq!(
        ops("%START_TIME(%f)%"),
        vec![Operator::StartTime(TimeFormat {
            pieces: vec![Fraction(9)]
        })]
    );
}

#[test]
fn refusals() {
    let err = |s: &str| LogFormat::parse(s).expect_err(s);
    assert_eq!(
        err("x %NOPE% y"),
        FormatError::UnknownOperator {
            name: "NOPE".into()
        }
    );
    assert_eq!(err("abc %PROTOCOL"), FormatError::Unterminated { at: 4 });
    assert_eq!(err("100%"), FormatError::Unterminated { at: 3 });
    assert_eq!(err("%REQ(a%"), FormatError::Unterminated { at: 0 });
    assert_eq!(err("%lower%"), FormatError::Unterminated { at: 0 });
    assert_eq!(
        err("%START_TIME(%Q)%"),
        FormatError::BadTimeFormat { spec: "%Q".into() }
    );
    assert_eq!(
        err("%START_TIME(%3x)%"),
        FormatError::BadTimeFormat { spec: "%3x".into() }
    );
    assert!(matches!(err("%REQ%"), FormatError::BadArgument { .. }));
    assert!(matches!(err("%REQ(a b)%"), FormatError::BadArgument { .. }));
    assert!(matches!(err("%REQ(?x)%"), FormatError::BadArgument { .. }));
    assert!(matches!(
        err("%PROTOCOL(x)%"),
        FormatError::BadArgument { .. }
    ));
    assert!(matches!(err("%REQ(a):%"), FormatError::BadArgument { .. }));
    assert!(matches!(
        err("%DYNAMIC_METADATA(a:b)%"),
        FormatError::Unsupported { .. }
    ));
    assert_eq!(
        err("%NOPE%").to_string(),
        "unknown command operator `%NOPE%`"
    );
}

#[test]
fn numeric_operators() {
    let f = LogFormat::parse("%RESPONSE_CODE%").expect("parses");
    assert!(f.single_operator().is_some_and(Operator::is_numeric));
    let f = LogFormat::parse("%PROTOCOL%").expect("parses");
    assert!(!f.single_operator().is_some_and(Operator::is_numeric));
}
