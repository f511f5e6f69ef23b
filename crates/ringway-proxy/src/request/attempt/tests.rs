use std::future::Future;
use std::task::{Context, Poll, Waker};

use super::*;

const HELD: Replayable = Replayable {
    reused_connection: true,
    request_held: true,
};

/// A transport that ends its attempts as scripted and records whether
/// each asked for a fresh connection.
struct Scripted {
    ends: Vec<(AttemptEnd, Replayable)>,
    fresh: Vec<bool>,
}

impl Transport for Scripted {
    type Output = usize;

    async fn attempt(&mut self, fresh_connection: bool) -> Tried<usize> {
        self.fresh.push(fresh_connection);
        let n = self.fresh.len();
        let (end, replayable) = self.ends[n - 1];
        Tried {
            end,
            replayable,
            output: n,
        }
    }

    fn request_held(&self) -> bool {
        true
    }

    fn retarget(&mut self) {}
}

/// Polls a future that never waits.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("the scripted transport never waits"),
    }
}

fn run_script(ends: &[(AttemptEnd, Replayable)]) -> (usize, Vec<bool>, u64) {
    let stats = ringway_stats::WorkerStats::new().cluster("c");
    let mut transport = Scripted {
        ends: ends.to_vec(),
        fresh: Vec::new(),
    };
    let last = ready(run(&mut transport, None, &stats));
    (last, transport.fresh, stats.upstream_rq_retry.get())
}

#[test]
fn a_dead_pooled_connection_is_replayed_once_on_a_fresh_one() {
    let closed = (AttemptEnd::ClosedBeforeResponse, HELD);
    let (attempts, fresh, retries) = run_script(&[closed, closed, closed]);
    assert_eq!(attempts, 2);
    assert_eq!(fresh, [false, true]);
    assert_eq!(retries, 1);
}

#[test]
fn a_fresh_connection_closing_is_not_replayed() {
    let fresh_conn = Replayable {
        reused_connection: false,
        request_held: true,
    };
    let (attempts, _, retries) = run_script(&[(AttemptEnd::ClosedBeforeResponse, fresh_conn)]);
    assert_eq!((attempts, retries), (1, 0));
}

#[test]
fn a_request_no_longer_held_is_not_replayed() {
    let sent = Replayable {
        reused_connection: true,
        request_held: false,
    };
    for end in [
        AttemptEnd::ClosedBeforeResponse,
        AttemptEnd::Refused,
        AttemptEnd::GoingAway,
    ] {
        assert_eq!(run_script(&[(end, sent)]), (1, vec![false], 0), "{end:?}");
    }
}

#[test]
fn refused_and_going_away_streams_are_replayed() {
    let not_reused = Replayable {
        reused_connection: false,
        request_held: true,
    };
    for end in [AttemptEnd::Refused, AttemptEnd::GoingAway] {
        let (attempts, fresh, retries) =
            run_script(&[(end, not_reused), (AttemptEnd::Response(200), not_reused)]);
        assert_eq!((attempts, retries), (2, 1), "{end:?}");
        assert_eq!(fresh, [false, true]);
    }
}

#[test]
fn other_ends_stop_at_once() {
    for end in [
        AttemptEnd::ConnectFailure,
        AttemptEnd::ConnectTimeout,
        AttemptEnd::ResetBeforeResponse,
        AttemptEnd::Response(503),
        AttemptEnd::Timeout,
        AttemptEnd::Downstream,
    ] {
        assert_eq!(run_script(&[(end, HELD)]), (1, vec![false], 0), "{end:?}");
    }
}
