//! The client's decisions, without I/O: what to fetch next, how a fetched
//! document changes the local registry, which server to try first, and how
//! long to wait before the next round.

use std::sync::Arc;
use std::time::Duration;

use ringway_eureka::{Applications, Registry};

/// Fetches back off to at most this many intervals while no server answers.
pub const MAX_BACKOFF_INTERVALS: u32 = 10;

/// What the next round asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// `GET apps/`: the whole registry.
    Full,
    /// `GET apps/delta`: what changed recently.
    Delta,
}

/// What a fetched document did to the local registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The registry is now different.
    Changed,
    /// Nothing changed.
    Unchanged,
    /// The delta, applied, does not give the server's hashcode: it was
    /// dropped, and a full fetch comes next.
    Mismatch { ours: String, theirs: String },
}

/// Counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub full_fetches: u64,
    pub delta_fetches: u64,
    /// Requests that failed (each URL tried counts once).
    pub failed_requests: u64,
    pub hashcode_mismatches: u64,
}

/// The local registry and what the client decided so far.
#[derive(Debug, Clone)]
pub struct Sync {
    /// Shared with the views published from it (one copy, not two).
    registry: Option<Arc<Registry>>,
    full_next: bool,
    /// Rounds in a row in which no server answered.
    failed_rounds: u32,
    /// The server that answered last, tried first.
    preferred: usize,
    servers: usize,
    pub stats: Stats,
}

impl Sync {
    /// A client with `servers` URLs (at least one) and nothing fetched.
    pub fn new(servers: usize) -> Self {
        Self {
            registry: None,
            full_next: true,
            failed_rounds: 0,
            preferred: 0,
            servers: servers.max(1),
            stats: Stats::default(),
        }
    }

    /// The registry as last fetched; `None` before the first success.
    pub fn registry(&self) -> Option<&Arc<Registry>> {
        self.registry.as_ref()
    }

    /// What to ask for: the whole registry until one is held, after a
    /// hashcode mismatch and after any failed round; a delta otherwise.
    pub fn next_fetch(&self) -> Fetch {
        if self.full_next || self.registry.is_none() {
            Fetch::Full
        } else {
            Fetch::Delta
        }
    }

    /// The servers to try this round, in order: the one that answered
    /// last first, then the others in configured order.
    pub fn server_order(&self) -> impl Iterator<Item = usize> + use<> {
        let (n, first) = (self.servers, self.preferred);
        (0..n).map(move |i| (first + i) % n)
    }

    /// A full fetch from server `server` succeeded.
    pub fn on_full(&mut self, server: usize, document: Applications) -> Outcome {
        self.answered(server);
        self.stats.full_fetches += 1;
        self.full_next = false;
        let registry = Registry::from_full(document);
        if self.registry.as_deref() == Some(&registry) {
            return Outcome::Unchanged;
        }
        self.registry = Some(Arc::new(registry));
        Outcome::Changed
    }

    /// A delta from server `server` arrived: applied to a copy, kept only
    /// if the copy's hashcode is the server's.
    pub fn on_delta(&mut self, server: usize, delta: &Applications) -> Outcome {
        self.answered(server);
        self.stats.delta_fetches += 1;
        let Some(current) = &self.registry else {
            self.full_next = true;
            return Outcome::Unchanged;
        };
        if delta.applications.is_empty() && current.hashcode() == delta.apps_hashcode {
            return Outcome::Unchanged;
        }
        let mut next = (**current).clone();
        next.apply_delta(delta);
        let ours = next.hashcode();
        if ours != delta.apps_hashcode {
            self.stats.hashcode_mismatches += 1;
            self.full_next = true;
            return Outcome::Mismatch {
                ours,
                theirs: delta.apps_hashcode.clone(),
            };
        }
        if next == **current {
            return Outcome::Unchanged;
        }
        self.registry = Some(Arc::new(next));
        Outcome::Changed
    }

    /// One request failed (the next server is tried).
    pub fn on_request_failed(&mut self) {
        self.stats.failed_requests += 1;
    }

    /// No server answered this round: the registry stays, stale; the next
    /// round fetches everything.
    pub fn on_round_failed(&mut self) {
        self.failed_rounds = self.failed_rounds.saturating_add(1);
        self.full_next = true;
    }

    /// Whether the last round failed (the registry may be out of date).
    pub fn stale(&self) -> bool {
        self.failed_rounds > 0
    }

    /// How long until the next round: the interval while servers answer;
    /// after failures, doubling from there up to ten intervals.
    pub fn delay(&self, interval: Duration) -> Duration {
        if self.failed_rounds == 0 {
            return interval;
        }
        let factor = 1u32
            .checked_shl(self.failed_rounds)
            .unwrap_or(u32::MAX)
            .min(MAX_BACKOFF_INTERVALS);
        interval.saturating_mul(factor)
    }

    fn answered(&mut self, server: usize) {
        self.failed_rounds = 0;
        self.preferred = server % self.servers;
    }
}

#[cfg(test)]
mod tests;
