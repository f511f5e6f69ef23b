//! The fetch loop on tokio, and the [`View`] it publishes after each round.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ringway_eureka::Registry;
use tokio::sync::{Notify, watch};

use crate::http::get_applications;
use crate::sync::{Fetch, Outcome, Stats, Sync};
use ringway_eureka::ServerUrl;

/// What the client needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Tried in order; the one that answered last goes first.
    pub urls: Vec<ServerUrl>,
    /// Time between fetches while a server answers (Eureka's default 30 s).
    pub fetch_interval: Duration,
    /// Bound on one request, connect to last byte.
    pub request_timeout: Duration,
}

/// The registry as of the last round, and how fresh it is.
#[derive(Debug, Clone)]
pub struct View {
    pub registry: Arc<Registry>,
    /// Bumped each time `registry` changes.
    pub generation: u64,
    /// Rounds finished (answered or not), to tell "asked before or after".
    pub rounds: u64,
    /// A registry has been fetched at least once.
    pub fetched: bool,
    /// Set while no server answers: since when.
    pub stale_since: Option<Instant>,
    /// The server that answered last.
    pub server: Option<String>,
    pub last_error: Option<String>,
    pub stats: Stats,
}

/// A running client: read its [`View`], or ask for a fetch now.
#[derive(Debug, Clone)]
pub struct EurekaClient {
    views: watch::Receiver<Arc<View>>,
    wake: Arc<Notify>,
}

impl ClientConfig {
    /// The request timeout for an interval: the interval itself, within
    /// 1 to 10 seconds.
    pub fn default_request_timeout(interval: Duration) -> Duration {
        interval.clamp(Duration::from_secs(1), Duration::from_secs(10))
    }
}

impl EurekaClient {
    /// The latest view.
    pub fn view(&self) -> Arc<View> {
        self.views.borrow().clone()
    }

    /// Told after every round.
    pub fn watch(&self) -> watch::Receiver<Arc<View>> {
        self.views.clone()
    }

    /// Starts a round now rather than at the next interval (for a name
    /// nobody has resolved yet). Requests made while one is due coalesce.
    pub fn fetch_now(&self) {
        self.wake.notify_one();
    }
}

/// Starts the client on the current tokio runtime.
pub fn spawn(config: ClientConfig) -> EurekaClient {
    let initial = Arc::new(View {
        registry: Arc::new(Registry::default()),
        generation: 0,
        rounds: 0,
        fetched: false,
        stale_since: None,
        server: None,
        last_error: None,
        stats: Stats::default(),
    });
    let (tx, views) = watch::channel(initial);
    let wake = Arc::new(Notify::new());
    tokio::spawn(run(config, tx, wake.clone()));
    EurekaClient { views, wake }
}

async fn run(config: ClientConfig, views: watch::Sender<Arc<View>>, wake: Arc<Notify>) {
    let mut sync = Sync::new(config.urls.len());
    loop {
        let round = round(&config, &mut sync).await;
        let previous = views.borrow().clone();
        let changed = round.changed;
        let view = View {
            registry: sync
                .registry()
                .cloned()
                .unwrap_or_else(|| previous.registry.clone()),
            generation: previous.generation + u64::from(changed),
            rounds: previous.rounds + 1,
            fetched: sync.registry().is_some(),
            stale_since: match (sync.stale(), previous.stale_since) {
                (false, _) => None,
                (true, Some(since)) => Some(since),
                (true, None) => Some(Instant::now()),
            },
            server: round.server.or_else(|| previous.server.clone()),
            last_error: round.error.or_else(|| previous.last_error.clone()),
            stats: sync.stats,
        };
        if views.send(Arc::new(view)).is_err() {
            return; // nobody reads any more
        }
        let delay = sync.delay(config.fetch_interval);
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = wake.notified() => {}
        }
    }
}

/// What one round did.
struct Round {
    changed: bool,
    server: Option<String>,
    error: Option<String>,
}

/// Tries each server in turn until one answers.
async fn round(config: &ClientConfig, sync: &mut Sync) -> Round {
    let fetch = sync.next_fetch();
    let path = match fetch {
        Fetch::Full => "apps/",
        Fetch::Delta => "apps/delta",
    };
    let mut error = None;
    for index in sync.server_order() {
        let Some(server) = config.urls.get(index) else {
            continue;
        };
        match get_applications(server, path, config.request_timeout).await {
            Ok(document) => {
                let instances = document.instances().count();
                let outcome = match fetch {
                    Fetch::Full => sync.on_full(index, document),
                    Fetch::Delta => sync.on_delta(index, &document),
                };
                if let Outcome::Mismatch { ours, theirs } = &outcome {
                    tracing::info!(%server, ours, theirs, "eureka: delta does not match the registry's hashcode; fetching it whole");
                    // Eureka's clients fetch whole at once rather than wait
                    // an interval with a registry known to be off.
                    return Box::pin(round(config, sync)).await;
                }
                if sync.stats.full_fetches == 1 && fetch == Fetch::Full {
                    tracing::info!(%server, instances, "eureka: registry fetched");
                }
                return Round {
                    changed: outcome == Outcome::Changed,
                    server: Some(server.to_string()),
                    error: None,
                };
            }
            Err(err) => {
                sync.on_request_failed();
                tracing::warn!(%server, %err, path, "eureka: fetch failed");
                error = Some(format!("{server}{path}: {err}"));
            }
        }
    }
    sync.on_round_failed();
    Round {
        changed: false,
        server: None,
        error,
    }
}
