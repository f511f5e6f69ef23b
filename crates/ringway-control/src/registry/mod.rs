//! A Eureka-compatible registry inside ringway-control, so Eureka clients
//! (the Java `DiscoveryClient`, py-eureka-client, eureka-js-client, …)
//! register here directly. [`state`] is the registry without I/O,
//! [`api`] answers one request, [`server`] speaks HTTP, and
//! [`EurekaRegistry`] is the handle the rest of ringway-control reads.
//!
//! Everything is in memory: after a restart the registry is empty until
//! each client's next renewal gets 404 and the client registers again.

mod api;
mod route;
mod server;
mod state;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ringway_eureka::Registry;
use tokio::net::TcpListener;
use tokio::sync::watch;

use state::State;

/// Eviction runs at most this often.
const MIN_EVICTION_INTERVAL: Duration = Duration::from_millis(10);

/// How the registry runs.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How often leases that ran out are looked for.
    pub eviction_interval: Duration,
    /// How long a change stays in `/apps/delta`.
    pub delta_retention: Duration,
}

/// The registry, shared by its HTTP server, its eviction task and whoever
/// follows it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EurekaRegistry {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    changes: watch::Sender<u64>,
}

/// Starts the registry: its HTTP server on `listener` and its eviction
/// task, both for good.
pub fn start(listener: TcpListener, settings: Settings) -> EurekaRegistry {
    let registry = EurekaRegistry::new(settings.delta_retention);
    tokio::spawn(server::serve(listener, registry.clone()));
    let every = settings.eviction_interval.max(MIN_EVICTION_INTERVAL);
    tokio::spawn(evict_periodically(registry.clone(), every));
    registry
}

// === impl EurekaRegistry ===

impl EurekaRegistry {
    /// An empty registry.
    pub fn new(delta_retention: Duration) -> Self {
        let retention_ms = i64::try_from(delta_retention.as_millis()).unwrap_or(i64::MAX);
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State::new(retention_ms)),
                changes: watch::Sender::new(0),
            }),
        }
    }

    /// Every registered instance, with its current status (an override
    /// included).
    pub fn snapshot(&self) -> Registry {
        self.lock().snapshot()
    }

    /// Changes whenever an instance is registered, cancelled or evicted,
    /// or its status changes: whatever can alter which instances are UP
    /// for which VIP.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.shared.changes.subscribe()
    }

    /// Runs `f` on the state, then tells [`Self::changes`] watchers if
    /// membership changed.
    fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let (out, before, after) = {
            let mut state = self.lock();
            let before = state.membership();
            let out = f(&mut state);
            (out, before, state.membership())
        };
        if after != before {
            self.shared.changes.send_replace(after);
        }
        out
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Evicts instances whose leases ran out, every `interval`.
async fn evict_periodically(registry: EurekaRegistry, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = now_ms();
        let (evicted, left) = registry.update(|state| (state.evict(now), state.len()));
        for instance in evicted {
            let lease = instance.lease_info.unwrap_or_default();
            tracing::info!(
                app = %instance.app,
                id = %instance.id(),
                last_renewal_ms_ago = now.saturating_sub(lease.last_renewal_timestamp),
                lease_secs = lease.duration_secs,
                left,
                "Eureka instance evicted: no renewal within its lease"
            );
        }
    }
}

/// The wall clock in epoch milliseconds, as Eureka's timestamps are.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
