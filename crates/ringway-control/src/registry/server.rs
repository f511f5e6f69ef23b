//! The registry's HTTP/1.1 server (hyper): reads a bounded, possibly
//! gzipped body, picks the formats (the body's from `Content-Type`, else
//! sniffed; the answer's from `Accept`: JSON when it names
//! `application/json`, else XML), asks [`api::answer`], and gzips the
//! answer when `Accept-Encoding` allows.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use ringway_eureka::Format;
use tokio::net::TcpListener;

use super::api::{self, Call, Reply};
use super::route::{Route, query_pairs};
use super::{EurekaRegistry, now_ms};

/// The largest request body taken, before and after gunzipping.
const MAX_BODY: usize = 1024 * 1024;
/// How long a request head, and then its body, may take to arrive.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

type Answer = Response<Full<Bytes>>;

/// Serves the registry for good.
pub async fn serve(listener: TcpListener, registry: EurekaRegistry) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(err) => {
                tracing::warn!(%err, "Eureka registry accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let registry = registry.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let registry = registry.clone();
                async move { Ok::<_, Infallible>(handle(&registry, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(registry: &EurekaRegistry, req: Request<Incoming>) -> Answer {
    let (parts, body) = req.into_parts();
    let Some(route) = Route::parse(parts.uri.path()) else {
        return text(StatusCode::NOT_FOUND, "not a Eureka endpoint\n".to_owned());
    };
    if !route.allowed().contains(&parts.method) {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{} answers {}\n", parts.uri.path(), route.allow_header()),
        );
        if let Ok(allow) = HeaderValue::from_str(&route.allow_header()) {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        return response;
    }
    let body = match read_body(body, &parts.headers).await {
        Ok(body) => body,
        Err(err) => return text(err.status(), format!("{err}\n")),
    };
    let query = query_pairs(parts.uri.query());
    let call = Call {
        method: &parts.method,
        route: &route,
        query: &query,
        body: &body,
        format: body_format(&parts.headers, &body),
    };
    let reply = registry.update(|state| api::answer(state, &call, now_ms()));
    respond(reply, &parts.headers)
}

/// Why a request body was refused.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("the request body did not arrive within {READ_TIMEOUT:?}")]
    TooSlow,
    #[error("the request body is over {MAX_BODY} bytes")]
    TooLarge,
    #[error("cannot read the request body: {0}")]
    Unreadable(String),
    #[error("the request body is not valid gzip: {0}")]
    NotGzip(std::io::Error),
    #[error("Content-Encoding `{0}` is not supported (gzip is)")]
    Encoding(String),
}

/// The body, whole and gunzipped.
async fn read_body(body: Incoming, headers: &HeaderMap) -> Result<Vec<u8>, BodyError> {
    let collected = tokio::time::timeout(READ_TIMEOUT, Limited::new(body, MAX_BODY).collect());
    let bytes = match collected.await {
        Err(_) => return Err(BodyError::TooSlow),
        Ok(Err(err)) if err.is::<http_body_util::LengthLimitError>() => {
            return Err(BodyError::TooLarge);
        }
        Ok(Err(err)) => return Err(BodyError::Unreadable(err.to_string())),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match encoding.as_str() {
        "" | "identity" => Ok(bytes.to_vec()),
        "gzip" | "x-gzip" => gunzip(&bytes),
        _ => Err(BodyError::Encoding(encoding)),
    }
}

fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    let limit = u64::try_from(MAX_BODY)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    flate2::read::GzDecoder::new(bytes)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(BodyError::NotGzip)?;
    if out.len() > MAX_BODY {
        return Err(BodyError::TooLarge);
    }
    Ok(out)
}

// === impl BodyError ===

impl BodyError {
    fn status(&self) -> StatusCode {
        match self {
            Self::TooSlow => StatusCode::REQUEST_TIMEOUT,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unreadable(_) | Self::NotGzip(_) => StatusCode::BAD_REQUEST,
            Self::Encoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }
}

/// A body's form: `Content-Type` when it names JSON or XML, else sniffed.
fn body_format(headers: &HeaderMap, body: &[u8]) -> Format {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.contains("json") {
        Format::Json
    } else if content_type.contains("xml") {
        Format::Xml
    } else {
        Format::sniff(body)
    }
}

/// JSON when `Accept` names `application/json`, else XML (as without
/// `Accept`).
fn answer_format(headers: &HeaderMap) -> Format {
    let json = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("application/json"));
    if json { Format::Json } else { Format::Xml }
}

/// Whether `Accept-Encoding` allows gzip: `gzip` (or `x-gzip`) listed
/// without `q=0`, or else `*` without `q=0`.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    for item in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let refused = parts.any(|p| {
            let p = p.trim().to_ascii_lowercase();
            p.strip_prefix("q=")
                .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        match coding.as_str() {
            "gzip" | "x-gzip" => gzip = Some(!refused),
            "*" => any = Some(!refused),
            _ => {}
        }
    }
    gzip.or(any).unwrap_or(false)
}

fn respond(reply: Reply, headers: &HeaderMap) -> Answer {
    let format = answer_format(headers);
    let body = match reply {
        Reply::Empty(status) => {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = status;
            return response;
        }
        Reply::Error(status, reason) => return text(status, reason),
        Reply::Applications(doc) => ringway_eureka::write_applications(&doc, format),
        Reply::Application(app) => ringway_eureka::write_application(&app, format),
        Reply::Instance(instance) => ringway_eureka::write_instance(&instance, format),
    };
    let (body, gzipped) = match accepts_gzip(headers).then(|| gzip(&body)).flatten() {
        Some(zipped) => (zipped, true),
        None => (body, false),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Accept-Encoding"),
    );
    if gzipped {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

fn text(status: StatusCode, body: String) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests;
