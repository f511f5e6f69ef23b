#![allow(clippy::unwrap_used)]

use std::time::Duration;

use super::*;

fn response(status: u16) -> Attempt {
    Attempt::Response {
        status,
        grpc_status: None,
        rate_limited: false,
        retriable_header: false,
    }
}

fn grpc(status: GrpcStatus) -> Attempt {
    Attempt::Response {
        status: 200,
        grpc_status: Some(status),
        rate_limited: false,
        retriable_header: false,
    }
}

const CODES: &[u16] = &[418];
const STARTED: Attempt = Attempt::Reset {
    request_started: true,
};
const NOT_STARTED: Attempt = Attempt::Reset {
    request_started: false,
};

fn state(on: &str, retries: u32) -> RetryState {
    RetryState::new(RetryOn::parse(on).unwrap(), retries, BackOff::default())
}

#[test]
fn five_xx_covers_every_5xx_and_every_end_without_a_response() {
    let s = state("5xx", 1);
    for end in [
        response(500),
        response(503),
        response(599),
        Attempt::ConnectFailure,
        Attempt::RefusedStream,
        Attempt::Reset {
            request_started: true,
        },
        Attempt::PerTryTimeout,
    ] {
        assert!(s.is_retriable(&end, CODES), "{end:?}");
    }
    for end in [response(200), response(404), response(409), grpc(14)] {
        assert!(!s.is_retriable(&end, CODES), "{end:?}");
    }
}

#[test]
fn gateway_error_is_502_to_504_and_no_response() {
    let s = state("gateway-error", 1);
    assert!(s.is_retriable(&response(502), CODES) && s.is_retriable(&response(504), CODES));
    assert!(!s.is_retriable(&response(500), CODES) && !s.is_retriable(&response(501), CODES));
    assert!(s.is_retriable(&Attempt::PerTryTimeout, CODES));
}

#[test]
fn the_narrow_conditions_take_only_their_own_ends() {
    let connect = state("connect-failure", 1);
    assert!(connect.is_retriable(&Attempt::ConnectFailure, CODES));
    assert!(!connect.is_retriable(&Attempt::RefusedStream, CODES));
    assert!(!connect.is_retriable(&response(503), CODES));

    let refused = state("refused-stream", 1);
    assert!(refused.is_retriable(&Attempt::RefusedStream, CODES));
    assert!(!refused.is_retriable(&STARTED, CODES));

    let before = state("reset-before-request", 1);
    assert!(before.is_retriable(&Attempt::ConnectFailure, CODES));
    assert!(before.is_retriable(&NOT_STARTED, CODES));
    assert!(!before.is_retriable(&STARTED, CODES));
    assert!(!before.is_retriable(&Attempt::PerTryTimeout, CODES));

    let reset = state("reset", 1);
    assert!(reset.is_retriable(&Attempt::PerTryTimeout, CODES));
    assert!(!reset.is_retriable(&response(503), CODES));
}

#[test]
fn status_codes_conflicts_headers_and_rate_limits() {
    let s = state("retriable-4xx,retriable-status-codes,retriable-headers", 1);
    assert!(s.is_retriable(&response(409), CODES));
    assert!(s.is_retriable(&response(418), CODES));
    assert!(!s.is_retriable(&response(429), CODES));
    let matched = Attempt::Response {
        status: 200,
        grpc_status: None,
        rate_limited: false,
        retriable_header: true,
    };
    assert!(s.is_retriable(&matched, CODES));
    // x-envoy-ratelimited decides alone: retried only under
    // envoy-ratelimited, whatever the status.
    let limited = Attempt::Response {
        status: 503,
        grpc_status: None,
        rate_limited: true,
        retriable_header: false,
    };
    assert!(!state("5xx", 1).is_retriable(&limited, CODES));
    assert!(state("envoy-ratelimited", 1).is_retriable(&limited, CODES));
}

#[test]
fn grpc_statuses_in_the_response_headers() {
    let s = state(
        "cancelled,deadline-exceeded,resource-exhausted,internal,unavailable",
        1,
    );
    for code in [1, 4, 8, 13, 14] {
        assert!(s.is_retriable(&grpc(code), CODES), "{code}");
    }
    for code in [0, 2, 3, 5, 7, 16] {
        assert!(!s.is_retriable(&grpc(code), CODES), "{code}");
    }
    assert!(!state("unavailable", 1).is_retriable(&grpc(13), CODES));
}

#[test]
fn retries_run_out_then_the_end_is_kept_as_limit_exceeded() {
    let mut s = state("5xx", 2);
    let first = s.decide(&response(503), CODES, || true, || 10);
    assert_eq!(
        first,
        Decision::Retry {
            after: Duration::from_millis(10)
        }
    );
    assert!(matches!(
        s.decide(&response(503), CODES, || true, || 0),
        Decision::Retry { .. }
    ));
    assert_eq!(
        s.decide(&response(503), CODES, || panic!("not asked"), || 0),
        Decision::Stop(NoRetry::LimitExceeded)
    );
    assert_eq!(s.retries(), 2);
    // A success is never retried, and not counted as a limit.
    assert_eq!(
        s.decide(&response(200), CODES, || true, || 0),
        Decision::Stop(NoRetry::NotRetriable)
    );
}

#[test]
fn a_spent_budget_refuses_and_uses_up_the_retry() {
    let mut s = state("5xx", 1);
    assert_eq!(
        s.decide(&response(503), CODES, || false, || 0),
        Decision::Stop(NoRetry::Overflow)
    );
    assert_eq!(s.retries(), 0);
    assert_eq!(
        s.decide(&response(503), CODES, || true, || 0),
        Decision::Stop(NoRetry::LimitExceeded)
    );
}

#[test]
fn zero_retries_never_asks_the_budget() {
    let mut s = state("5xx", 0);
    assert_eq!(
        s.decide(
            &Attempt::ConnectFailure,
            CODES,
            || panic!("not asked"),
            || 0
        ),
        Decision::Stop(NoRetry::LimitExceeded)
    );
}
