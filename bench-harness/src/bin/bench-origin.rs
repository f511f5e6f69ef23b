//! `bench-origin`: a minimal, fast origin server for ringway's benchmarks.
//!
//! One OS thread per core, each pinned, with its own tokio current-thread
//! runtime and its own `SO_REUSEPORT` listening socket on the same address.
//! Every connection speaks HTTP/1.1 (keep-alive) or HTTP/2 cleartext with
//! prior knowledge, detected from the connection preface. Each request is
//! answered with a pre-allocated body (`--body-bytes`, overridable per
//! request with `?size=N&status=S&delay_ms=D`); a POST with
//! `content-type: application/grpc*` gets a gRPC-shaped answer: one
//! length-prefixed message and `grpc-status: 0` trailers.
//!
//! ```text
//! bench-origin --listen 127.0.0.1:PORT [--threads N] [--cpus LIST]
//!              [--body-bytes N] [--status CODE] [--delay-ms MS]
//!              [--port-file PATH]
//! ```

#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bench_harness::{cpus, query};
use bytes::{BufMut, Bytes, BytesMut};
use clap::Parser;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::sync::{mpsc, watch};

/// Bodies up to this size are slices of one shared buffer, also for
/// per-request `?size=` overrides.
const SHARED_BODY_BYTES: usize = 1 << 20;

#[derive(Debug, Parser)]
#[command(
    name = "bench-origin",
    about = "Thread-per-core HTTP/1.1 + h2c origin server for benchmarks"
)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long)]
    listen: SocketAddr,
    /// Worker threads (default: the number of CPUs in --cpus, or in the
    /// process affinity mask).
    #[arg(long)]
    threads: Option<usize>,
    /// CPUs to pin the workers to, as a Linux CPU list ("0-1,3").
    #[arg(long)]
    cpus: Option<String>,
    /// Response body size in bytes.
    #[arg(long, default_value_t = 64)]
    body_bytes: usize,
    /// Response status code.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u16).range(100..=999))]
    status: u16,
    /// Delay before each response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Write the bound "IP:PORT" to this file once listening.
    #[arg(long)]
    port_file: Option<PathBuf>,
}

/// What every worker answers with, built once.
#[derive(Debug)]
struct Config {
    /// `max(body_bytes, SHARED_BODY_BYTES)` bytes of filler; bodies are
    /// slices of it.
    filler: Bytes,
    body_bytes: usize,
    /// The default body.
    body: Bytes,
    /// The default gRPC message: 5-byte prefix and `body_bytes` bytes.
    grpc_message: Bytes,
    status: StatusCode,
    delay: Duration,
}

impl Config {
    fn new(body_bytes: usize, status: u16, delay_ms: u64) -> Result<Self, String> {
        let status = StatusCode::from_u16(status).map_err(|e| format!("--status {status}: {e}"))?;
        let filler = Bytes::from(filler_bytes(body_bytes.max(SHARED_BODY_BYTES)));
        let body = filler.slice(..body_bytes);
        let grpc_message = grpc_message(&filler, body_bytes)?;
        Ok(Self {
            filler,
            body_bytes,
            body,
            grpc_message,
            status,
            delay: Duration::from_millis(delay_ms),
        })
    }

    /// A body of `size` bytes: a slice of the shared buffer when it fits.
    fn body_of(&self, size: usize) -> Bytes {
        if size == self.body_bytes {
            self.body.clone()
        } else if size <= self.filler.len() {
            self.filler.slice(..size)
        } else {
            Bytes::from(filler_bytes(size))
        }
    }

    fn grpc_of(&self, size: usize) -> Result<Bytes, String> {
        if size == self.body_bytes {
            Ok(self.grpc_message.clone())
        } else {
            grpc_message(&self.filler, size)
        }
    }
}

/// Printable filler: a repeating alphabet with a newline every 64 bytes.
fn filler_bytes(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| match i % 64 {
            63 => b'\n',
            n => b'a' + (n % 26) as u8,
        })
        .collect()
}

/// One gRPC length-prefixed message (uncompressed) of `size` bytes.
fn grpc_message(filler: &Bytes, size: usize) -> Result<Bytes, String> {
    let len = u32::try_from(size).map_err(|_| format!("gRPC message of {size} bytes too big"))?;
    let mut msg = BytesMut::with_capacity(5 + size);
    msg.put_u8(0);
    msg.put_u32(len);
    if size <= filler.len() {
        msg.put_slice(&filler[..size]);
    } else {
        msg.put_slice(&filler_bytes(size));
    }
    Ok(msg.freeze())
}

/// A response body: at most one data frame, then optional trailers.
#[derive(Debug)]
struct OriginBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl OriginBody {
    fn full(data: Bytes) -> Self {
        Self {
            data: Some(data),
            trailers: None,
        }
    }

    fn with_trailers(data: Bytes, trailers: HeaderMap) -> Self {
        Self {
            data: Some(data),
            trailers: Some(trailers),
        }
    }
}

impl Body for OriginBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(data) = this.data.take()
            && !data.is_empty()
        {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if let Some(trailers) = this.trailers.take() {
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.data.as_ref().is_none_or(Bytes::is_empty) && self.trailers.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        let len = self.data.as_ref().map_or(0, |d| d.len() as u64);
        if self.trailers.is_none() {
            SizeHint::with_exact(len)
        } else {
            // Not exact: a length would make HTTP/1.1 drop the trailers'
            // chunked framing; h2 sends them either way.
            let mut hint = SizeHint::new();
            hint.set_lower(len);
            hint
        }
    }
}

static TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain");
static APPLICATION_GRPC: HeaderValue = HeaderValue::from_static("application/grpc");
static GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");

async fn handle(
    req: Request<Incoming>,
    cfg: Arc<Config>,
) -> Result<Response<OriginBody>, Infallible> {
    let overrides = match req.uri().query().map(query::parse) {
        None => query::Overrides::default(),
        Some(Ok(o)) => o,
        Some(Err(msg)) => {
            return Ok(plain(
                StatusCode::BAD_REQUEST,
                Bytes::from_static(msg.as_bytes()),
            ));
        }
    };
    let grpc = req.method() == Method::POST
        && req
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));

    // Read and discard the request body.
    let mut body = req.into_body();
    while !body.is_end_stream() {
        match body.frame().await {
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }

    let delay = overrides.delay_ms.map_or(cfg.delay, Duration::from_millis);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }

    let size = overrides.size.unwrap_or(cfg.body_bytes);
    if grpc {
        let message = match cfg.grpc_of(size) {
            Ok(m) => m,
            Err(msg) => return Ok(plain(StatusCode::BAD_REQUEST, Bytes::from(msg))),
        };
        let mut trailers = HeaderMap::with_capacity(1);
        trailers.insert(GRPC_STATUS.clone(), HeaderValue::from_static("0"));
        let mut resp = Response::new(OriginBody::with_trailers(message, trailers));
        resp.headers_mut()
            .insert(CONTENT_TYPE, APPLICATION_GRPC.clone());
        return Ok(resp);
    }

    let status = match overrides.status.map(StatusCode::from_u16) {
        None => cfg.status,
        Some(Ok(s)) => s,
        Some(Err(_)) => {
            return Ok(plain(
                StatusCode::BAD_REQUEST,
                Bytes::from_static(b"bad status"),
            ));
        }
    };
    Ok(plain(status, cfg.body_of(size)))
}

fn plain(status: StatusCode, body: Bytes) -> Response<OriginBody> {
    let mut resp = Response::new(OriginBody::full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, TEXT_PLAIN.clone());
    resp
}

/// A non-blocking `SO_REUSEPORT` listener on `addr`.
fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    Ok(socket.into())
}

fn connection_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(1024)
        .initial_stream_window_size(1 << 20)
        .initial_connection_window_size(4 << 20);
    builder
}

/// One worker thread: pin, build a runtime, accept and serve until told to
/// stop.
fn worker(
    cpu: Option<usize>,
    listener: std::net::TcpListener,
    cfg: Arc<Config>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    if let Some(cpu) = cpu
        && !cpus::pin_current_thread(cpu)
    {
        eprintln!("bench-origin: could not pin a worker to CPU {cpu}; running unpinned");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build runtime: {e}"))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| format!("cannot register listener: {e}"))?;
        let builder = Arc::new(connection_builder());
        loop {
            let accepted = tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                accepted = listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, _peer)) => stream,
                Err(_) => {
                    // Out of descriptors or a connection reset before
                    // accept: back off briefly rather than spin.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            };
            // Best effort: a socket that cannot take the option still works.
            let _ = stream.set_nodelay(true);
            let builder = Arc::clone(&builder);
            let cfg = Arc::clone(&cfg);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| handle(req, Arc::clone(&cfg)));
                // Connection errors (resets, protocol errors) end only that
                // connection; nothing is logged per connection.
                let _ = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
        Ok(())
    })
}

fn write_port_file(path: &Path, addr: SocketAddr) -> Result<(), String> {
    // Write then rename so a poller never sees a partial address.
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, addr.to_string())
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write --port-file {}: {e}", path.display()))
}

fn run(args: Args) -> Result<(), String> {
    let cpu_list = cpus::resolve(args.cpus.as_deref())?;
    let threads = args.threads.unwrap_or(cpu_list.len());
    if threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    let cfg = Arc::new(Config::new(args.body_bytes, args.status, args.delay_ms)?);

    // The first socket settles the port (0 picks one); the rest reuse it.
    let first = bind(args.listen).map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = first
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let mut listeners = vec![first];
    for _ in 1..threads {
        listeners.push(bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?);
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let (err_tx, mut err_rx) = mpsc::unbounded_channel::<String>();
    let mut handles = Vec::with_capacity(threads);
    for (i, listener) in listeners.into_iter().enumerate() {
        let cpu = cpu_list.get(i % cpu_list.len().max(1)).copied();
        let cfg = Arc::clone(&cfg);
        let stop_rx = stop_rx.clone();
        let err_tx = err_tx.clone();
        let handle = std::thread::Builder::new()
            .name(format!("origin-{i}"))
            .spawn(move || {
                if let Err(e) = worker(cpu, listener, cfg, stop_rx) {
                    let _ = err_tx.send(e);
                }
            })
            .map_err(|e| format!("cannot spawn worker thread: {e}"))?;
        handles.push(handle);
    }
    drop(err_tx);

    if let Some(path) = &args.port_file {
        write_port_file(path, addr)?;
    }
    eprintln!("bench-origin: listening on {addr} with {threads} thread(s)");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build runtime: {e}"))?;
    let outcome = rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(|e| format!("cannot watch SIGINT: {e}")),
            _ = term.recv() => Ok(()),
            Some(e) = err_rx.recv() => Err(e),
        }
    });
    let _ = stop_tx.send(true);
    for handle in handles {
        let _ = handle.join();
    }
    outcome
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-origin: {e}");
            ExitCode::FAILURE
        }
    }
}
