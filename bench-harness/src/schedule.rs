//! The open-loop schedule of `bench-load` and its latency arithmetic.
//!
//! With a total rate `R` spread over `C` connections, request `k` of
//! connection `j` is due `(k·C + j) / R` seconds after the start: every
//! connection sends at `R / C`, and the connections are staggered so that
//! together they send one request every `1 / R` seconds.

use std::time::{Duration, Instant};

/// Offset from the start at which request `k` of connection `conn` (of
/// `connections`) is due, at a total `rate` in requests per second.
pub fn due_offset(k: u64, conn: u64, connections: u64, rate: f64) -> Duration {
    // f64 is exact for indices far beyond any run length (2^53 requests).
    let index = k as f64 * connections as f64 + conn as f64;
    Duration::from_secs_f64(index / rate)
}

/// Per-connection schedule: yields successive due times.
#[derive(Debug, Clone)]
pub struct Schedule {
    start: Instant,
    conn: u64,
    connections: u64,
    rate: f64,
    next_k: u64,
}

impl Schedule {
    /// The schedule of connection `conn` of `connections` at total `rate`
    /// (requests per second, > 0) starting at `start`.
    pub fn new(start: Instant, conn: u64, connections: u64, rate: f64) -> Self {
        Self {
            start,
            conn,
            connections,
            rate,
            next_k: 0,
        }
    }

    /// When the next request is due (without moving on).
    pub fn peek(&self) -> Instant {
        self.start + due_offset(self.next_k, self.conn, self.connections, self.rate)
    }

    /// Moves on to the next request.
    pub fn advance(&mut self) {
        self.next_k += 1;
    }
}

/// Latency of one request, corrected for coordinated omission.
///
/// `due` is the scheduled time, `sent` when the request actually went out,
/// `complete` when its response was complete and `prev_complete` when the
/// connection's previous exchange ended (or the start). A request that could
/// not go out on time because the previous response was late is charged
/// that wait (`prev_complete - due`), exactly as "complete − scheduled" would.
/// Only the generator's own lateness beyond `max(due, prev_complete)` —
/// timer granularity (tokio's timer ticks in milliseconds) and scheduling
/// noise — is not charged to the server.
pub fn corrected_latency(
    due: Instant,
    sent: Instant,
    complete: Instant,
    prev_complete: Instant,
) -> Duration {
    complete.saturating_duration_since(sent) + prev_complete.saturating_duration_since(due)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_interleave_connections_evenly() {
        // 1000 req/s over 4 connections: one request every millisecond
        // overall, every 4 ms on each connection.
        let ms = |n: u64| Duration::from_millis(n);
        assert_eq!(due_offset(0, 0, 4, 1000.0), ms(0));
        assert_eq!(due_offset(0, 1, 4, 1000.0), ms(1));
        assert_eq!(due_offset(0, 3, 4, 1000.0), ms(3));
        assert_eq!(due_offset(1, 0, 4, 1000.0), ms(4));
        assert_eq!(due_offset(2, 2, 4, 1000.0), ms(10));
        let mut all: Vec<Duration> = (0..4)
            .flat_map(|j| (0..25).map(move |k| due_offset(k, j, 4, 1000.0)))
            .collect();
        all.sort();
        let want: Vec<Duration> = (0..100).map(ms).collect();
        assert_eq!(all, want);
    }

    #[test]
    fn fractional_rates() {
        // 3 req/s on one connection: due at 0, 1/3 s, 2/3 s, 1 s.
        let d = due_offset(3, 0, 1, 3.0);
        assert!(d.abs_diff(Duration::from_secs(1)) < Duration::from_nanos(2));
        let d = due_offset(1, 0, 1, 3.0);
        assert!(d.abs_diff(Duration::from_nanos(333_333_333)) < Duration::from_nanos(2));
    }

    #[test]
    fn schedule_walks_its_connection() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0, 1, 2, 10.0);
        assert_eq!(s.peek(), t0 + Duration::from_millis(100));
        s.advance();
        assert_eq!(s.peek(), t0 + Duration::from_millis(300));
        s.advance();
        assert_eq!(s.peek(), t0 + Duration::from_millis(500));
    }

    #[test]
    fn latency_on_time_excludes_timer_slop() {
        let t0 = Instant::now();
        let us = |n: u64| t0 + Duration::from_micros(n);
        // Due at 1000 µs, the timer fired 700 µs late, the server took
        // 50 µs: the server is charged 50 µs.
        let lat = corrected_latency(us(1000), us(1700), us(1750), us(400));
        assert_eq!(lat, Duration::from_micros(50));
    }

    #[test]
    fn latency_when_behind_counts_from_schedule() {
        let t0 = Instant::now();
        let us = |n: u64| t0 + Duration::from_micros(n);
        // Due at 1000 µs but the previous response only ended at 51_000
        // µs; sent right then, answered 50 ms later: 100 ms from schedule.
        let lat = corrected_latency(us(1000), us(51_000), us(101_000), us(51_000));
        assert_eq!(lat, Duration::from_micros(100_000));
    }
}
