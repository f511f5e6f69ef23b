//! `bench-load`: an open-loop, constant-rate HTTP/1.1 load generator (the
//! wrk2 idea) for ringway's benchmarks.
//!
//! ```text
//! bench-load --url http://HOST:PORT/PATH --rate R --duration SECS
//!            --connections C [--threads T] [--cpus LIST] [--warmup SECS]
//!            [--timeout-ms MS] [--new-connection-per-request] [--json]
//! ```
//!
//! The total rate `R` is spread over `C` keep-alive connections: request `k`
//! of connection `j` is due `(k·C + j) / R` seconds after the start. A
//! connection sends each request when it is due, or as soon as the previous
//! response is in if it is behind (no pipelining). Latency is counted from
//! the *scheduled* time, so a stalled server is charged for the requests it
//! kept from being sent (coordinated omission); only the generator's own
//! timer lateness on an idle connection is left out (see
//! `bench_harness::schedule::corrected_latency`). Latencies go into a
//! per-thread HDR histogram (1 µs .. 60 s, 3 significant figures), merged at
//! the end.
//!
//! The client is hand-written on tokio's `TcpStream`: prebuilt request bytes,
//! a reused read buffer, heads parsed by `ringway_http1::parse_response` and
//! bodies framed by `ringway_http1::BodyDecoder`; nothing is allocated per
//! request.

#![forbid(unsafe_code)]
#![allow(clippy::print_stdout)]

use std::cell::RefCell;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use bench_harness::report::{self, Counts, Report};
use bench_harness::schedule::{Schedule, corrected_latency};
use bench_harness::{cpus, target::Target};
use clap::Parser;
use hdrhistogram::Histogram;
use ringway_http1::{BodyDecoder, BodyError, BodyFraming, HeaderSpan, Method, ResponseError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Read buffer per connection; also the bound on a response head.
const BUF_BYTES: usize = 64 * 1024;
/// Header lines accepted in a response head.
const MAX_HEADERS: usize = 128;
/// How long a `--new-connection-per-request` exchange waits for the server's
/// close after the response, so that TIME_WAIT stays on the server side.
const CLOSE_DRAIN: Duration = Duration::from_millis(200);

#[derive(Debug, Parser)]
#[command(
    name = "bench-load",
    about = "Open-loop constant-rate HTTP/1.1 load generator (coordinated-omission corrected)"
)]
struct Args {
    /// Target URL, http://HOST[:PORT][/PATH[?QUERY]].
    #[arg(long)]
    url: String,
    /// Total request rate, requests per second.
    #[arg(long)]
    rate: f64,
    /// Measured duration in seconds (after the warm-up).
    #[arg(long)]
    duration: f64,
    /// Keep-alive connections.
    #[arg(long)]
    connections: u64,
    /// Threads, each with its own runtime; connections are divided among
    /// them.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// CPUs to pin the threads to, as a Linux CPU list ("0-1,3").
    #[arg(long)]
    cpus: Option<String>,
    /// Seconds to run at the rate first without recording.
    #[arg(long, default_value_t = 0.0)]
    warmup: f64,
    /// Per-request timeout in milliseconds.
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
    /// Open a connection per request (sent with `Connection: close`).
    #[arg(long)]
    new_connection_per_request: bool,
    /// Print exactly one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// Why an exchange failed. Only counted; the first one is reported.
#[derive(Debug)]
enum ExchangeError {
    Connect(std::io::Error),
    Io(std::io::Error),
    Closed,
    Head(ResponseError),
    Body(BodyError),
    Trailing,
    Upgrade,
    Timeout,
}

impl std::fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "connect failed: {e}"),
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::Closed => f.write_str("connection closed before the response was complete"),
            Self::Head(e) => write!(f, "malformed response head: {e}"),
            Self::Body(e) => write!(f, "malformed response body: {e}"),
            Self::Trailing => f.write_str("bytes after the response (unsolicited data)"),
            Self::Upgrade => f.write_str("unexpected protocol upgrade"),
            Self::Timeout => f.write_str("timed out"),
        }
    }
}

impl From<std::io::Error> for ExchangeError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<ResponseError> for ExchangeError {
    fn from(e: ResponseError) -> Self {
        Self::Head(e)
    }
}

impl From<BodyError> for ExchangeError {
    fn from(e: BodyError) -> Self {
        Self::Body(e)
    }
}

/// What one thread's connections share.
#[derive(Debug)]
struct ThreadCtx {
    addr: SocketAddr,
    request: Vec<u8>,
    close_per_request: bool,
    connections: u64,
    rate: f64,
    timeout: Duration,
    t0: Instant,
    measure_start: Instant,
    end: Instant,
    stats: RefCell<ThreadStats>,
}

/// What one thread measured.
#[derive(Debug)]
struct ThreadStats {
    hist: Histogram<u64>,
    counts: Counts,
    first_error: Option<String>,
}

/// A response that arrived: its status and whether the connection may be
/// reused.
#[derive(Debug, Clone, Copy)]
struct Answer {
    status: u16,
    keep_alive: bool,
}

async fn connect(addr: SocketAddr) -> Result<TcpStream, ExchangeError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(ExchangeError::Connect)?;
    stream.set_nodelay(true).map_err(ExchangeError::Connect)?;
    Ok(stream)
}

/// Reads one response to a GET into `buf` (reused), returning once its
/// body is complete.
async fn read_response(
    stream: &mut TcpStream,
    buf: &mut [u8],
    headers: &mut Vec<HeaderSpan>,
) -> Result<Answer, ExchangeError> {
    let mut filled = 0;
    let head = loop {
        if filled > 0 {
            match ringway_http1::parse_response(
                &buf[..filled],
                Method::Get,
                buf.len(),
                MAX_HEADERS,
                headers,
            )? {
                // Interim 1xx: the final response follows.
                Some(head) if head.status < 200 && head.status != 101 => {
                    buf.copy_within(head.head_len..filled, 0);
                    filled -= head.head_len;
                    continue;
                }
                Some(head) => break head,
                None => {}
            }
        }
        let Some(spare) = buf.get_mut(filled..).filter(|s| !s.is_empty()) else {
            return Err(ExchangeError::Head(ResponseError::HeadTooLarge));
        };
        let n = stream.read(spare).await?;
        if n == 0 {
            return Err(ExchangeError::Closed);
        }
        filled += n;
    };
    if head.upgrade {
        return Err(ExchangeError::Upgrade);
    }
    let until_close = head.framing == BodyFraming::UntilClose;
    let answer = Answer {
        status: head.status,
        keep_alive: head.keep_alive,
    };
    let mut decoder = BodyDecoder::new(head.framing);
    let progress = decoder.advance(&buf[head.head_len..filled])?;
    if progress.done {
        return if head.head_len + progress.consumed == filled {
            Ok(answer)
        } else {
            Err(ExchangeError::Trailing)
        };
    }
    loop {
        let n = stream.read(buf).await?;
        if n == 0 {
            return if until_close {
                Ok(Answer {
                    keep_alive: false,
                    ..answer
                })
            } else {
                Err(ExchangeError::Closed)
            };
        }
        let progress = decoder.advance(&buf[..n])?;
        if progress.done {
            return if progress.consumed == n {
                Ok(answer)
            } else {
                Err(ExchangeError::Trailing)
            };
        }
    }
}

/// One request/response on the connection in `slot`, (re)connecting first
/// when it is empty; leaves the slot empty when the connection cannot be
/// reused.
async fn exchange(
    slot: &mut Option<TcpStream>,
    ctx: &ThreadCtx,
    buf: &mut [u8],
    headers: &mut Vec<HeaderSpan>,
) -> Result<Answer, ExchangeError> {
    let stream = match slot {
        Some(stream) => stream,
        None => slot.insert(connect(ctx.addr).await?),
    };
    stream.write_all(&ctx.request).await?;
    // The caller closes a connection that cannot be reused (see
    // `finish_close`).
    read_response(stream, buf, headers).await
}

/// After a `Connection: close` exchange: wait briefly for the server's FIN
/// so the server holds TIME_WAIT, else close with a reset so the client
/// does not pile up TIME_WAIT sockets either.
async fn finish_close(mut stream: TcpStream, buf: &mut [u8]) {
    let drained = tokio::time::timeout(CLOSE_DRAIN, async {
        loop {
            match stream.read(buf).await {
                Ok(0) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    })
    .await;
    if !matches!(drained, Ok(true)) {
        let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    }
}

/// Drives one connection through its schedule until the end of the run.
///
/// The wait for the due time is on tokio's timer, which ticks in whole
/// milliseconds (as wrk2's event loop does): requests due within the same
/// millisecond go out together. Their latency still starts at the later of
/// the due time and the previous response (see `corrected_latency`), but the
/// server does see millisecond-sized bursts at high rates.
async fn run_connection(conn: u64, mut slot: Option<TcpStream>, ctx: Rc<ThreadCtx>) {
    let mut schedule = Schedule::new(ctx.t0, conn, ctx.connections, ctx.rate);
    let mut buf = vec![0u8; BUF_BYTES];
    let mut headers: Vec<HeaderSpan> = Vec::with_capacity(MAX_HEADERS);
    let mut prev_complete = ctx.t0;
    loop {
        let due = schedule.peek();
        if due >= ctx.end || Instant::now() >= ctx.end {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let sent = Instant::now();
        let outcome = tokio::time::timeout(
            ctx.timeout,
            exchange(&mut slot, &ctx, &mut buf, &mut headers),
        )
        .await
        .unwrap_or(Err(ExchangeError::Timeout));
        let complete = Instant::now();
        let measured = due >= ctx.measure_start;
        if measured {
            let mut stats = ctx.stats.borrow_mut();
            match &outcome {
                Ok(answer) => {
                    let latency = corrected_latency(due, sent, complete, prev_complete);
                    let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                    stats.hist.saturating_record(us.max(report::LATENCY_LOW_US));
                    if (200..300).contains(&answer.status) {
                        stats.counts.responses_2xx += 1;
                    } else {
                        stats.counts.non_2xx += 1;
                    }
                }
                Err(e) => {
                    stats.counts.errors += 1;
                    if stats.first_error.is_none() {
                        stats.first_error = Some(e.to_string());
                    }
                }
            }
        }
        let reusable = matches!(&outcome, Ok(a) if a.keep_alive) && !ctx.close_per_request;
        if !reusable {
            // After an error the stream is just dropped.
            let stream = slot.take();
            if let Some(stream) = stream
                && outcome.is_ok()
            {
                finish_close(stream, &mut buf).await;
            }
        }
        prev_complete = Instant::now();
        schedule.advance();
    }
}

/// Settings every thread needs.
#[derive(Debug, Clone)]
struct Plan {
    addr: SocketAddr,
    request: Vec<u8>,
    close_per_request: bool,
    connections: u64,
    threads: usize,
    rate: f64,
    timeout: Duration,
    warmup: Duration,
    duration: Duration,
}

/// One load thread: pins itself, opens its connections, waits for the
/// common start, runs them and returns its statistics.
fn load_thread(
    index: usize,
    cpu: Option<usize>,
    plan: Arc<Plan>,
    ready: Arc<Barrier>,
    start: Arc<OnceLock<Instant>>,
) -> Result<ThreadStats, String> {
    if let Some(cpu) = cpu
        && !cpus::pin_current_thread(cpu)
    {
        eprintln!("bench-load: could not pin thread {index} to CPU {cpu}; running unpinned");
    }
    let conns: Vec<u64> = (0..plan.connections)
        .filter(|j| (*j as usize) % plan.threads == index)
        .collect();
    let prepared = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build runtime: {e}"))
        .and_then(|rt| {
            let hist = report::new_histogram()?;
            // Open the keep-alive connections before the clock starts; one
            // that fails is retried (and counted) at its first request.
            let streams: Vec<Option<TcpStream>> = if plan.close_per_request {
                conns.iter().map(|_| None).collect()
            } else {
                rt.block_on(async {
                    let mut streams = Vec::with_capacity(conns.len());
                    for _ in &conns {
                        let s = tokio::time::timeout(plan.timeout, connect(plan.addr)).await;
                        streams.push(s.ok().and_then(Result::ok));
                    }
                    streams
                })
            };
            Ok((rt, hist, streams))
        });
    // Every thread reaches the barrier (twice: ready, then go once the main
    // thread has set the start time), even after a failure, so that the
    // main thread never waits forever.
    ready.wait();
    ready.wait();
    let (rt, hist, streams) = prepared?;
    let t0 = *start.get().ok_or("the start time was not set")?;
    let measure_start = t0 + plan.warmup;
    let ctx = Rc::new(ThreadCtx {
        addr: plan.addr,
        request: plan.request.clone(),
        close_per_request: plan.close_per_request,
        connections: plan.connections,
        rate: plan.rate,
        timeout: plan.timeout,
        t0,
        measure_start,
        end: measure_start + plan.duration,
        stats: RefCell::new(ThreadStats {
            hist,
            counts: Counts::default(),
            first_error: None,
        }),
    });
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        let mut tasks = Vec::with_capacity(conns.len());
        for (conn, stream) in conns.iter().zip(streams) {
            tasks.push(tokio::task::spawn_local(run_connection(
                *conn,
                stream,
                Rc::clone(&ctx),
            )));
        }
        for task in tasks {
            let _ = task.await;
        }
    });
    drop(local);
    Rc::try_unwrap(ctx)
        .map(|ctx| ctx.stats.into_inner())
        .map_err(|_| "connection tasks outlived their thread".to_owned())
}

fn secs(flag: &str, v: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(v)
        .map_err(|_| format!("{flag} must be a non-negative number of seconds"))
}

fn run(args: &Args) -> Result<Report, String> {
    if !(args.rate.is_finite() && args.rate > 0.0) {
        return Err("--rate must be a positive number".into());
    }
    if !(args.duration.is_finite() && args.duration > 0.0) {
        return Err("--duration must be positive".into());
    }
    if args.connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    if args.threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    if args.timeout_ms == 0 {
        return Err("--timeout-ms must be at least 1".into());
    }
    let target = Target::parse(&args.url)?;
    let addr = target.resolve()?;
    let cpu_list = match &args.cpus {
        Some(list) => cpus::parse_cpu_list(list)?,
        None => Vec::new(),
    };
    let threads = args
        .threads
        .min(usize::try_from(args.connections).unwrap_or(usize::MAX));
    let plan = Arc::new(Plan {
        addr,
        request: target.request_bytes(args.new_connection_per_request),
        close_per_request: args.new_connection_per_request,
        connections: args.connections,
        threads,
        rate: args.rate,
        timeout: Duration::from_millis(args.timeout_ms),
        warmup: secs("--warmup", args.warmup)?,
        duration: secs("--duration", args.duration)?,
    });

    let ready = Arc::new(Barrier::new(threads + 1));
    let start = Arc::new(OnceLock::new());
    let mut handles = Vec::with_capacity(threads);
    for i in 0..threads {
        let cpu = (!cpu_list.is_empty()).then(|| cpu_list[i % cpu_list.len()]);
        let (plan, ready, start) = (Arc::clone(&plan), Arc::clone(&ready), Arc::clone(&start));
        let handle = std::thread::Builder::new()
            .name(format!("load-{i}"))
            .spawn(move || load_thread(i, cpu, plan, ready, start))
            .map_err(|e| format!("cannot spawn load thread: {e}"))?;
        handles.push(handle);
    }
    ready.wait();
    // A common start shortly ahead, so every thread's schedule lines up.
    let t0 = Instant::now() + Duration::from_millis(2);
    let _ = start.set(t0);
    ready.wait();
    let mut hist = report::new_histogram()?;
    let mut counts = Counts::default();
    let mut first_error: Option<String> = None;
    for handle in handles {
        let stats = handle
            .join()
            .map_err(|_| "a load thread panicked".to_owned())??;
        hist.add(&stats.hist)
            .map_err(|e| format!("cannot merge histograms: {e}"))?;
        counts.add(&stats.counts);
        first_error = first_error.or(stats.first_error);
    }
    if let Some(e) = first_error {
        eprintln!("bench-load: {} error(s); first: {e}", counts.errors);
    }
    Ok(Report::new(
        args.rate,
        args.duration,
        args.connections,
        &counts,
        &hist,
    ))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(report) => {
            if args.json {
                match serde_json::to_string(&report) {
                    Ok(json) => println!("{json}"),
                    Err(e) => {
                        eprintln!("bench-load: cannot encode the report: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                print!("{}", report.summary());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-load: {e}");
            ExitCode::FAILURE
        }
    }
}
