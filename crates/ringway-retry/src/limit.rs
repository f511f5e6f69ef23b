//! How many retries a cluster allows at once: Envoy's retry budget, or its
//! older fixed `max_retries` circuit breaker.

/// Envoy's `retry_budget`: retries in progress may be at most
/// `budget_percent` of the requests in progress, and always at least
/// `min_retry_concurrency`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    pub budget_percent: f64,
    pub min_retry_concurrency: u32,
}

impl Default for RetryBudget {
    /// Envoy's defaults: 20% and 3.
    fn default() -> Self {
        Self {
            budget_percent: 20.0,
            min_retry_concurrency: 3,
        }
    }
}

/// A cluster's limit on retries in progress. Unlike Envoy, whose clusters
/// get a fixed `max_retries` of 3 unless they configure a budget
/// (envoy#10869), ringway's default is the default budget, so the limit
/// grows with the load and a failing upstream sees at most (1 + 20%) of
/// the offered requests. A retry counts from the decision to retry until
/// its attempt ends, back-off included (envoy#30205 counts only attempts
/// in flight).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetryLimit {
    Budget(RetryBudget),
    /// Envoy's `max_retries` threshold without a budget.
    MaxRetries(u32),
}

impl RetryLimit {
    /// Retries allowed in progress while `active_requests` are.
    pub fn max_active(&self, active_requests: u64) -> u64 {
        match self {
            Self::MaxRetries(n) => u64::from(*n),
            Self::Budget(b) => {
                let share = (active_requests as f64 * b.budget_percent / 100.0) as u64;
                share.max(u64::from(b.min_retry_concurrency))
            }
        }
    }

    /// Whether one more retry may start while `active_requests` requests
    /// and `active_retries` retries are in progress.
    pub fn allows(&self, active_requests: u64, active_retries: u64) -> bool {
        active_retries < self.max_active(active_requests)
    }
}

impl Default for RetryLimit {
    fn default() -> Self {
        Self::Budget(RetryBudget::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_budget_is_a_fifth_of_the_load_and_at_least_three() {
        let limit = RetryLimit::default();
        assert_eq!(limit.max_active(0), 3);
        assert_eq!(limit.max_active(10), 3);
        assert_eq!(limit.max_active(100), 20);
        assert_eq!(limit.max_active(1001), 200);
        assert!(limit.allows(100, 19));
        assert!(!limit.allows(100, 20));
    }

    #[test]
    fn max_retries_is_fixed() {
        let limit = RetryLimit::MaxRetries(3);
        assert_eq!(limit.max_active(10_000), 3);
        assert!(!limit.allows(10_000, 3));
        assert!(!RetryLimit::MaxRetries(0).allows(1, 0));
    }
}
