//! One GET to a Eureka server over plain HTTP/1.1: a fresh connection per
//! request (one request per interval does not need a pool), JSON asked
//! for, gzip accepted, the body bounded, the whole exchange timed out.

use std::io::Read;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, HOST, USER_AGENT};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use ringway_eureka::{Applications, Format, ParseError};
use tokio::net::TcpStream;

use ringway_eureka::ServerUrl;

/// The largest registry document read (after gzip decoding).
pub const MAX_BODY: usize = 64 << 20;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("connect: {0}")]
    Connect(std::io::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    #[error("status {0}")]
    Status(u16),
    #[error("response body over {MAX_BODY} bytes, or unreadable: {0}")]
    Body(String),
    #[error("gzip: {0}")]
    Gzip(std::io::Error),
    #[error("not a Eureka document: {0}")]
    Parse(#[from] ParseError),
}

/// `GET {base}{path}` and read the body as an `applications` document
/// (JSON or XML, whichever the server sent).
pub async fn get_applications(
    server: &ServerUrl,
    path: &str,
    timeout: Duration,
) -> Result<Applications, FetchError> {
    let body = tokio::time::timeout(timeout, get(server, path))
        .await
        .map_err(|_| FetchError::Timeout(timeout))??;
    let format = Format::sniff(&body);
    Ok(ringway_eureka::parse_applications(&body, format)?)
}

async fn get(server: &ServerUrl, path: &str) -> Result<Vec<u8>, FetchError> {
    let stream = TcpStream::connect((server.host.as_str(), server.port))
        .await
        .map_err(FetchError::Connect)?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(%err, "eureka: connection ended");
        }
    });
    let request = http::Request::get(server.target(path))
        .header(HOST, server.authority())
        .header(ACCEPT, "application/json")
        .header(ACCEPT_ENCODING, "gzip")
        .header(USER_AGENT, concat!("ringway/", env!("CARGO_PKG_VERSION")))
        .body(Empty::<Bytes>::new())
        .map_err(|e| FetchError::Body(e.to_string()))?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    if status != http::StatusCode::OK {
        return Err(FetchError::Status(status.as_u16()));
    }
    let gzip = response
        .headers()
        .get(CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let _ = response.headers().get(CONTENT_TYPE);
    let body = Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| FetchError::Body(e.to_string()))?
        .to_bytes();
    if !gzip {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut out)
        .map_err(FetchError::Gzip)?;
    if out.len() > MAX_BODY {
        return Err(FetchError::Body("gzip body too large".into()));
    }
    Ok(out)
}
