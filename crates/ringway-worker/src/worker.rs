//! The worker thread: pinning, runtime, accept loops, command handling.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::TcpListener as StdListener;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use monoio::net::TcpListener;
use monoio::{IoUringDriver, LegacyDriver, RuntimeBuilder};
use ringway_config::model::{IoDriver, Snapshot};
use ringway_proxy::{Discovery, DiscoveryRequest, ProxyState};

use crate::gate::Gate;
use crate::handle::{Command, Driver, WorkerReport};

/// How often idle upstream connections are swept and access logs flushed.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(1);

/// How a worker hears from and talks to the control thread.
#[derive(Debug)]
pub(crate) struct Links {
    pub inbox: async_channel::Receiver<Command>,
    /// On-demand discovery questions; `None` without a control plane.
    pub discovery: Option<async_channel::Sender<DiscoveryRequest>>,
}

/// Accept loops by listener name; dropping the sender stops the loop.
type AcceptLoops = RefCell<HashMap<String, async_channel::Sender<()>>>;

pub(crate) fn run(
    id: usize,
    cpu: Option<usize>,
    io_driver: IoDriver,
    snapshot: Arc<Snapshot>,
    sockets: Vec<(String, StdListener)>,
    links: Links,
    started: mpsc::Sender<std::io::Result<Driver>>,
) {
    let Links { inbox, discovery } = links;
    if let Some(cpu) = cpu
        && !core_affinity::set_for_current(core_affinity::CoreId { id: cpu })
    {
        tracing::warn!(worker = id, cpu, "could not pin worker to its CPU");
    }
    let want_uring = match io_driver {
        IoDriver::Epoll => false,
        IoDriver::Uring => true,
        IoDriver::Auto => {
            let available = monoio::utils::detect_uring();
            if !available {
                tracing::info!(worker = id, "io_uring is not available here; using epoll");
            }
            available
        }
    };
    let failed = started.clone();
    let main = move |driver: Driver| {
        tracing::info!(worker = id, cpu = ?cpu, driver = %driver, "worker started");
        let _ = started.send(Ok(driver));
        worker_main(id, cpu, driver, snapshot, sockets, inbox, discovery)
    };
    if want_uring {
        match build_uring_runtime(id) {
            Ok(mut rt) => return rt.block_on(main(Driver::IoUring)),
            Err(err) if io_driver == IoDriver::Uring => {
                let _ = failed.send(Err(std::io::Error::new(
                    err.kind(),
                    format!("worker {id}: io_uring unavailable: {err}"),
                )));
                return;
            }
            Err(err) => {
                tracing::warn!(worker = id, %err, "io_uring refused; falling back to epoll")
            }
        }
    }
    match RuntimeBuilder::<LegacyDriver>::new().enable_timer().build() {
        Ok(mut rt) => rt.block_on(main(Driver::Epoll)),
        Err(err) => {
            let _ = failed.send(Err(std::io::Error::new(
                err.kind(),
                format!("worker {id}: no I/O driver: {err}"),
            )));
        }
    }
}

/// io_uring setup flags, best first. `DEFER_TASKRUN` (with
/// `SINGLE_ISSUER`) runs completion work only when the worker asks for
/// events, instead of interrupting it; `COOP_TASKRUN` at least avoids
/// forcing an interrupt per completion. Older kernels refuse them, so each
/// is tried in turn.
/// A named way to configure a ring.
type UringSetup = (&'static str, fn(&mut io_uring::Builder));

const URING_SETUPS: [UringSetup; 3] = [
    ("defer_taskrun", |b| {
        b.setup_single_issuer()
            .setup_defer_taskrun()
            .setup_coop_taskrun();
    }),
    ("coop_taskrun", |b| {
        b.setup_coop_taskrun();
    }),
    ("plain", |_| {}),
];

type UringRuntime = monoio::Runtime<monoio::time::TimeDriver<IoUringDriver>>;

fn build_uring_runtime(id: usize) -> std::io::Result<UringRuntime> {
    let mut last_err = None;
    let only = std::env::var("RINGWAY_URING_SETUP").ok();
    for (name, setup) in URING_SETUPS {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let mut builder = io_uring::IoUring::builder();
        setup(&mut builder);
        match RuntimeBuilder::<IoUringDriver>::new()
            .with_entries(1024)
            .uring_builder(builder)
            .enable_timer()
            .build()
        {
            Ok(rt) => {
                tracing::info!(worker = id, setup = name, "io_uring ring built");
                return Ok(rt);
            }
            Err(err) => last_err = Some(err),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no io_uring setup tried")))
}

async fn worker_main(
    id: usize,
    cpu: Option<usize>,
    driver: Driver,
    snapshot: Arc<Snapshot>,
    sockets: Vec<(String, StdListener)>,
    inbox: async_channel::Receiver<Command>,
    discovery: Option<async_channel::Sender<DiscoveryRequest>>,
) {
    let state = Rc::new(ProxyState::new(
        id,
        snapshot.clone(),
        Discovery::new(discovery),
    ));
    let loops: Rc<AcceptLoops> = Rc::new(RefCell::new(HashMap::new()));
    start_listeners(&state, &loops, &snapshot, sockets);

    let housekeeping = state.clone();
    monoio::spawn(async move {
        loop {
            monoio::time::sleep(HOUSEKEEPING_EVERY).await;
            housekeeping.sweep_idle();
            housekeeping.flush_access_logs();
        }
    });

    while let Ok(command) = inbox.recv().await {
        match command {
            Command::Apply {
                snapshot,
                sockets,
                done,
            } => {
                state.apply(snapshot.clone());
                loops
                    .borrow_mut()
                    .retain(|name, _| snapshot.listeners.iter().any(|l| &l.name == name));
                start_listeners(&state, &loops, &snapshot, sockets);
                let _ = done.send(());
            }
            Command::Report(reply) => {
                let stats = state.stats.snapshot();
                let requests_active = stats
                    .listeners
                    .values()
                    .map(|l| l.downstream_rq_active)
                    .sum();
                let _ = reply.send(WorkerReport {
                    id,
                    cpu,
                    driver,
                    connections_active: state.connections_active.get(),
                    requests_total: state.requests_total.get(),
                    requests_active,
                    stats,
                    hosts: state.host_stats(),
                });
            }
            Command::ResetCounters(done) => {
                state.reset_counters();
                let _ = done.send(());
            }
            Command::ClusterMissing(name) => state.discovery.missing(&name),
            Command::Drain => {
                state.start_draining();
                loops.borrow_mut().clear();
                state.flush_access_logs();
            }
        }
    }
    state.flush_access_logs();
}

fn start_listeners(
    state: &Rc<ProxyState>,
    loops: &Rc<AcceptLoops>,
    snapshot: &Snapshot,
    sockets: Vec<(String, StdListener)>,
) {
    for (name, socket) in sockets {
        let Some(config) = snapshot.listeners.iter().find(|l| l.name == name) else {
            continue;
        };
        let listener = match TcpListener::from_std(socket) {
            Ok(l) => l,
            Err(err) => {
                tracing::error!(listener = %name, %err, "cannot accept on listener socket");
                continue;
            }
        };
        let (stop, stopped) = async_channel::bounded::<()>(1);
        loops.borrow_mut().insert(name.clone(), stop);
        let max = config.limits.max_connections_per_worker;
        monoio::spawn(accept_loop(
            state.clone(),
            Rc::from(name.as_str()),
            listener,
            stopped,
            max,
        ));
    }
}

async fn accept_loop(
    state: Rc<ProxyState>,
    name: Rc<str>,
    listener: TcpListener,
    stopped: async_channel::Receiver<()>,
    max_connections: usize,
) {
    let gate = Rc::new(Gate::default());
    loop {
        let (pass, waited) = monoio::select! {
            p = gate.enter(max_connections) => p,
            _ = stopped.recv() => return,
        };
        if waited && let Some(l) = state.current().listeners.get(&*name) {
            l.stats.downstream_cx_overflow.inc();
        }
        let accepted = monoio::select! {
            a = listener.accept() => a,
            _ = stopped.recv() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                let state = state.clone();
                let name = name.clone();
                monoio::spawn(async move {
                    ringway_proxy::serve(state, name, stream, peer).await;
                    drop(pass);
                });
            }
            Err(err) => {
                tracing::warn!(listener = %name, %err, "accept failed");
                // Out of file descriptors and the like: back off briefly.
                monoio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}
