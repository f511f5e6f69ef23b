//! Envoy's fully jittered exponential back-off between retries.

use std::time::Duration;

/// The wait before each retry: retry `n` (from 1) waits a uniformly random
/// time below `(2^n - 1) × base`, and never more than `max`. Envoy's
/// defaults are a 25 ms base and a maximum of ten times the base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackOff {
    base: Duration,
    max: Duration,
    /// The retry the next wait is for, from 1; it stops growing once the
    /// window passes `max`.
    step: u32,
}

impl BackOff {
    /// Envoy's default base interval.
    pub const DEFAULT_BASE: Duration = Duration::from_millis(25);

    /// A back-off with `base` and `max` (Envoy: `max` defaults to ten
    /// times `base`). A zero `base` never waits.
    pub fn new(base: Duration, max: Option<Duration>) -> Self {
        Self {
            base,
            max: max.unwrap_or(base.saturating_mul(10)),
            step: 1,
        }
    }

    /// The wait before the next retry, drawn with `random` (any `u64`).
    pub fn next(&mut self, random: u64) -> Duration {
        let base_ms = u64::try_from(self.base.as_millis()).unwrap_or(u64::MAX);
        let max_ms = u64::try_from(self.max.as_millis()).unwrap_or(u64::MAX);
        let multiplier = (1u64 << self.step.min(62)) - 1;
        let window = multiplier.saturating_mul(base_ms);
        if window == 0 {
            return Duration::ZERO;
        }
        if window <= max_ms {
            self.step += 1;
        }
        Duration::from_millis((random % window).min(max_ms))
    }
}

impl Default for BackOff {
    fn default() -> Self {
        Self::new(Self::DEFAULT_BASE, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn each_window_doubles_from_the_base_and_the_max_caps_it() {
        let mut b = BackOff::default();
        // Retry 1: below 25 ms; retry 2: below 75 ms; 3: below 175 ms.
        assert_eq!(b.next(24), ms(24));
        assert_eq!(b.next(75 + 74), ms(74));
        assert_eq!(b.next(174), ms(174));
        // Retry 4's window (375 ms) passes the 250 ms max: capped, and
        // the window stops growing.
        assert_eq!(b.next(374), ms(250));
        assert_eq!(b.next(100), ms(100));
        assert_eq!(b.step, 4);
    }

    #[test]
    fn draws_are_uniform_below_the_window() {
        let mut seen = [0u32; 25];
        for r in 0..2500u64 {
            let mut b = BackOff::default();
            let wait = b.next(r.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            seen[wait.as_millis() as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
    }

    #[test]
    fn a_zero_base_never_waits() {
        let mut b = BackOff::new(Duration::ZERO, None);
        assert_eq!(b.next(u64::MAX), Duration::ZERO);
    }
}
