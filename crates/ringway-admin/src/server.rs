//! The HTTP server and request dispatch.

use std::convert::Infallible;
use std::rc::Rc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use ringway_worker::WorkerReport;
use tokio::net::TcpListener;

use crate::render;

/// Server state as `/ready` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Live,
    /// Waiting for the control plane's first answers (503), up to the
    /// `xds.initial_fetch_timeout`.
    Initializing,
    Draining,
    HealthcheckFailed,
}

/// A process-wide stat kept by the control thread (not by the workers),
/// such as the control plane connection's: Envoy-style dotted name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlStat {
    pub name: &'static str,
    pub value: i64,
    pub gauge: bool,
    pub help: &'static str,
}

/// What the admin API needs from the process. Implemented by the binary;
/// every method runs on the control thread.
pub trait Control {
    /// Reports from every worker.
    fn reports(&self) -> impl std::future::Future<Output = Vec<WorkerReport>>;
    fn snapshot(&self) -> std::sync::Arc<ringway_config::model::Snapshot>;
    /// (listener name, address it accepts on)
    fn listeners(&self) -> Vec<(String, std::net::SocketAddr)>;
    fn readiness(&self) -> Readiness;
    fn set_healthcheck_failed(&self, failed: bool);
    fn drain_listeners(&self);
    fn quit(&self);
    /// Static facts for `/server_info`.
    fn server_info(&self) -> serde_json::Value;
    /// Lines added under `LIVE` in `/ready` (e.g. that the control plane is
    /// unreachable and the config is stale).
    fn readiness_detail(&self) -> Vec<String> {
        Vec::new()
    }
    /// Stats the control thread keeps, added to `/stats`.
    fn control_stats(&self) -> Vec<ControlStat> {
        Vec::new()
    }
}

/// Serves the admin API until the process exits. Must run inside a tokio
/// `LocalSet`.
pub async fn serve<C: Control + 'static>(listener: TcpListener, control: Rc<C>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(err) => {
                tracing::warn!(%err, "admin accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let control = control.clone();
        tokio::task::spawn_local(async move {
            let service = hyper::service::service_fn(move |req| {
                let control = control.clone();
                async move { Ok::<_, Infallible>(handle(&*control, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle<C: Control>(control: &C, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let format = query_param(&query, "format");
    let filter = query_param(&query, "filter");
    let method = req.method().clone();
    let mutating = matches!(
        path.as_str(),
        "/healthcheck/fail" | "/healthcheck/ok" | "/drain_listeners" | "/quitquitquit"
    );
    if mutating && method != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "this endpoint needs POST\n");
    }
    if !mutating && method != Method::GET && method != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "this endpoint needs GET\n");
    }
    match path.as_str() {
        "/" => text(StatusCode::OK, render::INDEX),
        "/ready" => match control.readiness() {
            Readiness::Live => {
                let mut body = String::from("LIVE\n");
                for line in control.readiness_detail() {
                    body.push_str(&line);
                    body.push('\n');
                }
                text(StatusCode::OK, &body)
            }
            Readiness::Initializing => text(StatusCode::SERVICE_UNAVAILABLE, "INITIALIZING\n"),
            Readiness::Draining => text(StatusCode::SERVICE_UNAVAILABLE, "DRAINING\n"),
            Readiness::HealthcheckFailed => {
                text(StatusCode::SERVICE_UNAVAILABLE, "HEALTHCHECK_FAILED\n")
            }
        },
        "/stats" => {
            let merged = render::merge(&control.reports().await);
            match format.as_deref() {
                Some("json") => json(&render::stats_json(&merged, filter.as_deref())),
                Some("prometheus") => prometheus(&merged, &control.control_stats()),
                _ => {
                    let mut out = render::control_stats_text(&control.control_stats());
                    out.push_str(&render::stats_text(&merged, None));
                    text(
                        StatusCode::OK,
                        &render::filter_lines(out, filter.as_deref()),
                    )
                }
            }
        }
        "/stats/prometheus" => prometheus(
            &render::merge(&control.reports().await),
            &control.control_stats(),
        ),
        "/clusters" => {
            let snapshot = control.snapshot();
            match format.as_deref() {
                Some("json") => json(&render::clusters_json(&snapshot)),
                _ => text(StatusCode::OK, &render::clusters_text(&snapshot)),
            }
        }
        "/listeners" => {
            let listeners = control.listeners();
            match format.as_deref() {
                Some("json") => json(&render::listeners_json(&listeners)),
                _ => text(StatusCode::OK, &render::listeners_text(&listeners)),
            }
        }
        "/config_dump" => match serde_json::to_value(&*control.snapshot()) {
            Ok(v) => json(&v),
            Err(err) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("cannot render config: {err}\n"),
            ),
        },
        "/server_info" => json(&control.server_info()),
        "/workers" => json(&render::workers_json(&control.reports().await)),
        "/healthcheck/fail" => {
            control.set_healthcheck_failed(true);
            text(StatusCode::OK, "OK\n")
        }
        "/healthcheck/ok" => {
            control.set_healthcheck_failed(false);
            text(StatusCode::OK, "OK\n")
        }
        "/drain_listeners" => {
            control.drain_listeners();
            text(StatusCode::OK, "OK\n")
        }
        "/quitquitquit" => {
            control.quit();
            text(StatusCode::OK, "OK\n")
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "unknown admin path; GET / lists them\n",
        ),
    }
}

fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| v.to_owned())
    })
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    respond(
        status,
        "text/plain; charset=utf-8",
        body.to_owned().into_bytes(),
    )
}

fn json(value: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut body = serde_json::to_vec_pretty(value).unwrap_or_default();
    body.push(b'\n');
    respond(StatusCode::OK, "application/json", body)
}

fn prometheus(
    merged: &ringway_stats::StatsSnapshot,
    extra: &[ControlStat],
) -> Response<Full<Bytes>> {
    let mut out = render::control_stats_prometheus(extra);
    merged.render_prometheus(&mut out);
    respond(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        out.into_bytes(),
    )
}

fn respond(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}
