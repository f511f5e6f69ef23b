//! End-to-end checks of the two binaries: bench-origin answers HTTP/1.1,
//! h2c and gRPC (with trailers), and bench-load runs against it and prints
//! the documented JSON.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// A running bench-origin, killed on drop.
struct Origin {
    child: Child,
    addr: String,
}

impl Origin {
    fn start(extra: &[&str]) -> Self {
        let port_file: PathBuf = std::env::temp_dir().join(format!(
            "bench-origin-test-{}-{}.port",
            std::process::id(),
            extra.len()
        ));
        let _ = std::fs::remove_file(&port_file);
        let child = Command::new(env!("CARGO_BIN_EXE_bench-origin"))
            .args(["--listen", "127.0.0.1:0", "--threads", "1", "--port-file"])
            .arg(&port_file)
            .args(extra)
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn bench-origin");
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = loop {
            if let Ok(addr) = std::fs::read_to_string(&port_file)
                && !addr.is_empty()
            {
                break addr;
            }
            assert!(Instant::now() < deadline, "bench-origin did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        let _ = std::fs::remove_file(&port_file);
        Self { child, addr }
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http1_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn origin_serves_http1_with_overrides() {
    let origin = Origin::start(&["--body-bytes", "10"]);
    let resp = http1_get(&origin.addr, "/");
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.contains("content-type: text/plain\r\n"));
    assert!(resp.contains("content-length: 10\r\n"));
    let resp = http1_get(&origin.addr, "/x?size=3&status=503");
    assert!(resp.starts_with("HTTP/1.1 503 "), "{resp}");
    assert!(resp.ends_with("\r\n\r\nabc"), "{resp}");
    let resp = http1_get(&origin.addr, "/?size=nope");
    assert!(resp.starts_with("HTTP/1.1 400 "), "{resp}");
}

#[test]
fn origin_serves_h2c_and_grpc_trailers() {
    let origin = Origin::start(&["--body-bytes", "7"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(&origin.addr).await.unwrap();
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);

        let req = Request::get(format!("http://{}/", origin.addr))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.version(), hyper::Version::HTTP_2);
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.len(), 7);

        let req = Request::post(format!("http://{}/svc/Method", origin.addr))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(Full::new(Bytes::from_static(b"\0\0\0\0\x02hi")))
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/grpc");
        let collected = resp.into_body().collect().await.unwrap();
        let trailers = collected.trailers().cloned().expect("trailers");
        assert_eq!(trailers["grpc-status"], "0");
        assert_eq!(&collected.to_bytes()[..], b"\0\0\0\0\x07abcdefg");
    });
}

#[test]
fn load_reports_json_against_origin() {
    let origin = Origin::start(&[]);
    let out = Command::new(env!("CARGO_BIN_EXE_bench-load"))
        .args(["--url", &format!("http://{}/?status=200", origin.addr)])
        .args(["--rate", "400", "--duration", "0.5", "--connections", "4"])
        .args(["--threads", "2", "--warmup", "0.1", "--json"])
        .output()
        .expect("run bench-load");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["target_rate"], 400.0);
    assert_eq!(v["duration_s"], 0.5);
    assert_eq!(v["connections"], 4);
    // 400/s for 0.5 s: 200 scheduled; a stalled CI machine may miss the
    // last few before the end.
    let requests = v["requests"].as_u64().unwrap();
    assert!((180..=200).contains(&requests), "{text}");
    assert_eq!(v["responses_2xx"], requests);
    assert_eq!(v["errors"], 0);
    let achieved = v["achieved_rate"].as_f64().unwrap();
    assert!((360.0..=400.0).contains(&achieved), "{text}");
    assert!(v["latency_us"]["p50"].as_u64().unwrap() > 0);
    assert_eq!(v["spectrum"].as_array().unwrap().len(), 17);
}

#[test]
fn load_counts_errors_when_nothing_listens() {
    // Bind then drop to find a port that is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(env!("CARGO_BIN_EXE_bench-load"))
        .args(["--url", &format!("http://127.0.0.1:{port}/")])
        .args([
            "--rate",
            "100",
            "--duration",
            "0.3",
            "--connections",
            "2",
            "--json",
        ])
        .output()
        .expect("run bench-load");
    assert!(out.status.success(), "a run with errors still completes");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = v["errors"].as_u64().unwrap();
    assert!((20..=30).contains(&errors), "30 scheduled, got {errors}");
    assert_eq!(v["responses_2xx"], 0);
    assert_eq!(v["requests"], errors);
}

#[test]
fn load_rejects_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_bench-load"))
        .args(["--url", "https://x/", "--rate", "1", "--duration", "1"])
        .args(["--connections", "1"])
        .output()
        .expect("run bench-load");
    assert!(!out.status.success());
}
