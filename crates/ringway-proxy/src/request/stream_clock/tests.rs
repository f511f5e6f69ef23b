use std::time::{Duration, Instant};

use ringway_config::model::{Limits, PathMatch, Route, RouteAction, RouteMatch};

use super::*;

const SEC: Duration = Duration::from_secs(1);

fn limits(idle: Option<u64>, request: Option<u64>) -> Limits {
    Limits {
        stream_idle_timeout: idle.map(Duration::from_secs),
        request_timeout: request.map(Duration::from_secs),
        ..Limits::default()
    }
}

fn route(idle: Option<u64>) -> Route {
    let mut route = Route::new(
        RouteMatch::path(PathMatch::Prefix("/".into())),
        RouteAction::DirectResponse {
            status: 200,
            body: String::new(),
        },
    );
    route.idle_timeout = idle.map(Duration::from_secs);
    route
}

#[test]
fn the_listener_default_is_envoys_five_minutes_and_the_route_replaces_it() {
    let t0 = Instant::now();
    let clock = StreamClock::new(&Limits::default(), None, t0);
    let wait = clock.request_wait(|| unreachable!("no request timeout: no clock read"));
    assert_eq!((wait.wait, wait.expiry), (300 * SEC, Expiry::StreamIdle));

    let clock = StreamClock::new(&limits(Some(300), None), Some(&route(Some(2))), t0);
    assert_eq!(clock.request_wait(|| t0).wait, 2 * SEC);
    // A route without its own keeps the listener's.
    let clock = StreamClock::new(&limits(Some(7), None), Some(&route(None)), t0);
    assert_eq!(clock.request_wait(|| t0).wait, 7 * SEC);
}

#[test]
fn zero_on_the_route_turns_the_idle_timeout_off() {
    let t0 = Instant::now();
    let clock = StreamClock::new(&limits(Some(5), None), Some(&route(Some(0))), t0);
    let wait = clock.request_wait(|| t0);
    assert_eq!(wait.wait, ROUTE_TIMEOUT_OFF);
    // The response waits only on the route timeout.
    assert_eq!(clock.response_wait(15 * SEC).expiry, Expiry::Route);
}

#[test]
fn the_request_timeout_counts_from_the_first_byte_and_wins_when_nearer() {
    let t0 = Instant::now();
    let clock = StreamClock::new(&limits(Some(5), Some(8)), None, t0);
    // 1 s in: 7 s left, more than the idle timeout.
    let early = clock.request_wait(|| t0 + SEC);
    assert_eq!((early.wait, early.expiry), (5 * SEC, Expiry::StreamIdle));
    // 6 s in: 2 s left.
    let late = clock.request_wait(|| t0 + 6 * SEC);
    assert_eq!((late.wait, late.expiry), (2 * SEC, Expiry::Request));
    // Past it: nothing left.
    let past = clock.request_wait(|| t0 + 9 * SEC);
    assert_eq!((past.wait, past.expiry), (Duration::ZERO, Expiry::Request));
    assert_eq!(clock.ran_out(&past), Some(Expiry::Request));
    // Once the response has begun, as in Envoy, only the idle timeout.
    clock.responding();
    let responding = clock.request_wait(|| unreachable!("no clock read"));
    assert_eq!(responding.expiry, Expiry::StreamIdle);
}

#[test]
fn the_response_wait_is_the_shorter_of_the_route_and_idle_timeouts() {
    let t0 = Instant::now();
    let clock = StreamClock::new(&limits(Some(5), None), None, t0);
    let bound = clock.response_wait(15 * SEC);
    assert_eq!((bound.wait, bound.expiry), (5 * SEC, Expiry::StreamIdle));
    let bound = clock.response_wait(2 * SEC);
    assert_eq!((bound.wait, bound.expiry), (2 * SEC, Expiry::Route));
    assert_eq!(clock.ran_out(&bound), Some(Expiry::Route));
}

#[test]
fn a_wait_that_ran_out_while_the_other_direction_moved_is_not_idle() {
    let t0 = Instant::now();
    let clock = StreamClock::new(&limits(Some(5), None), None, t0);
    let request = clock.request_wait(|| t0);
    // The response streamed while the request body waited.
    clock.moved();
    assert_eq!(clock.ran_out(&request), None);
    // The next wait, with nothing moving, is idle.
    let again = clock.request_wait(|| t0);
    assert_eq!(clock.ran_out(&again), Some(Expiry::StreamIdle));
    // The route timeout is not reset by the other direction.
    let route_bound = clock.response_wait(SEC);
    clock.moved();
    assert_eq!(clock.ran_out(&route_bound), Some(Expiry::Route));
}

#[test]
fn replies_are_envoys() {
    let (status, flag, body) = Expiry::StreamIdle.reply(false).spec();
    assert_eq!((status, body), (408, "stream timeout"));
    assert_eq!(flag.map(|f| f.code()), Some("SI"));
    assert_eq!(Expiry::StreamIdle.reply(true).status(), 504);
    let (status, flag, body) = Expiry::Request.reply(false).spec();
    assert_eq!((status, flag, body), (408, None, "request timeout"));
}
