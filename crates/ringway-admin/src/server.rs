//! The HTTP server and request dispatch.

use std::convert::Infallible;
use std::rc::Rc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use ringway_stats::Select;
use tokio::net::TcpListener;

use crate::clusters;
use crate::config_dump::{self, DumpQuery};
use crate::control::{Control, LogChange, Readiness};
use crate::query::Query;
use crate::render::{self, ENDPOINTS};

/// Envoy's log level names, as `/logging` takes them.
const LEVELS: &[&str] = &[
    "trace", "debug", "info", "warning", "error", "critical", "off",
];

type Reply = Response<Full<Bytes>>;

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

async fn handle<C: Control>(control: &C, req: Request<Incoming>) -> Reply {
    let path = req.uri().path().to_owned();
    let query = Query::parse(req.uri().query().unwrap_or(""));
    let method = req.method().clone();
    let Some(endpoint) = ENDPOINTS.iter().find(|e| e.path == path) else {
        return text(
            StatusCode::NOT_FOUND,
            &format!("invalid path. {}", render::help()),
        );
    };
    // As Envoy: state-changing endpoints need POST (listing loggers is
    // also allowed with GET).
    let listing_loggers = path == "/logging" && query.is_empty();
    if endpoint.post && method != Method::POST && !listing_loggers {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("Method {method} not allowed, POST required."),
        );
    }
    match path.as_str() {
        "/" | "/help" => text(StatusCode::OK, &render::help()),
        "/ready" => ready(control),
        "/stats" => stats(control, &query, query.get("format")).await,
        "/stats/prometheus" => stats(control, &query, Some("prometheus")).await,
        "/clusters" => {
            let snapshot = control.snapshot();
            let hosts = clusters::merge_hosts(&control.reports().await);
            let dynamic = |name: &str| control.cluster_version(name).is_some();
            match query.get("format") {
                Some("json") => json(&clusters::json(&snapshot, &hosts, &dynamic)),
                _ => text(StatusCode::OK, &clusters::text(&snapshot, &hosts, &dynamic)),
            }
        }
        "/listeners" => {
            let listeners = control.listeners();
            match query.get("format") {
                Some("json") => json(&render::listeners_json(&listeners)),
                _ => text(StatusCode::OK, &render::listeners_text(&listeners)),
            }
        }
        "/config_dump" => config_dump(control, &query),
        "/ringway/config" => match serde_json::to_value(&*control.snapshot()) {
            Ok(v) => json(&v),
            Err(err) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("cannot render config: {err}\n"),
            ),
        },
        "/server_info" => json(&control.server_info()),
        "/hot_restart_version" => text(StatusCode::OK, "disabled"),
        "/certs" => json(&serde_json::json!({ "certificates": [] })),
        "/memory" => json(&ringway_envoy::text::render(&crate::memory::memory(), true)),
        "/runtime" => json(&control.runtime().borrow().to_json()),
        "/runtime_modify" => runtime_modify(control, req, query).await,
        "/logging" => logging(control, &query),
        "/workers" => json(&render::workers_json(&control.reports().await)),
        "/reset_counters" => {
            control.reset_counters().await;
            text(StatusCode::OK, "OK\n")
        }
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
        _ => text(StatusCode::NOT_FOUND, "invalid path.\n"),
    }
}

/// `/ready`: the state's name (Envoy's), 200 only when LIVE.
fn ready<C: Control>(control: &C) -> Reply {
    let readiness = control.readiness();
    let mut body = format!("{}\n", readiness.envoy_state());
    if readiness != Readiness::Live {
        return text(StatusCode::SERVICE_UNAVAILABLE, &body);
    }
    for line in control.readiness_detail() {
        body.push_str(&line);
        body.push('\n');
    }
    text(StatusCode::OK, &body)
}

async fn stats<C: Control>(control: &C, query: &Query, format: Option<&str>) -> Reply {
    if let Some(mode) = query.get("histogram_buckets").filter(|m| *m != "none") {
        return text(
            StatusCode::BAD_REQUEST,
            &format!("histogram_buckets={mode} is not supported by ringway (only summaries)\n"),
        );
    }
    let filter = match query.get("filter").filter(|f| !f.is_empty()) {
        None => None,
        Some(f) => match regex::Regex::new(f) {
            Ok(re) => Some(re),
            Err(err) => {
                return text(StatusCode::BAD_REQUEST, &format!("Invalid regex: {err}\n"));
            }
        },
    };
    let matches = |name: &str| filter.as_ref().is_some_and(|re| re.is_match(name));
    let select = Select {
        used_only: query.has("usedonly"),
        name: filter
            .is_some()
            .then_some(&matches as &dyn Fn(&str) -> bool),
    };
    let merged = render::merge(&control.reports().await);
    let extra = control.control_stats();
    match format {
        Some("json") => json(&render::stats_json(&merged, &extra, &select)),
        Some("prometheus") => respond(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            render::stats_prometheus(&merged, &extra, &select).into_bytes(),
        ),
        None | Some("text") => text(
            StatusCode::OK,
            &render::stats_text(&merged, &extra, &select),
        ),
        Some(other) => text(
            StatusCode::BAD_REQUEST,
            &format!("usage: /stats?format=(json|prometheus|text): {other} is not supported\n"),
        ),
    }
}

fn config_dump<C: Control>(control: &C, query: &Query) -> Reply {
    for key in query.keys() {
        if !matches!(key, "resource" | "mask" | "name_regex" | "include_eds") {
            return text(
                StatusCode::BAD_REQUEST,
                &format!("/config_dump does not take the parameter `{key}`\n"),
            );
        }
    }
    let name_regex = match query.get("name_regex").filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => match regex::Regex::new(&format!("^(?:{r})$")) {
            Ok(re) => Some(re),
            Err(err) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("Error while parsing name_regex from {r}: {err}\n"),
                );
            }
        },
    };
    let dump_query = DumpQuery {
        resource: query
            .get("resource")
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
        mask: query
            .get("mask")
            .filter(|m| !m.is_empty())
            .map(str::to_owned),
        name_regex,
        include_eds: query.has("include_eds"),
    };
    let version = |name: &str| control.cluster_version(name);
    match config_dump::config_dump(&control.config(), &version, &dump_query) {
        Ok(dump) => json(&dump),
        Err((status, message)) => text(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            &message,
        ),
    }
}

/// `/runtime_modify`: the query's pairs, else a form body's.
async fn runtime_modify<C: Control>(control: &C, req: Request<Incoming>, query: Query) -> Reply {
    let mut pairs = query;
    let form = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/x-www-form-urlencoded");
    if pairs.is_empty() && form {
        let body = req.into_body().collect().await.map(|b| b.to_bytes());
        if let Ok(body) = body {
            pairs = Query::parse(&String::from_utf8_lossy(&body));
        }
    }
    if pairs.is_empty() {
        return text(
            StatusCode::BAD_REQUEST,
            "usage: /runtime_modify?key1=value1&key2=value2&keyN=valueN\n       or send the parameters as form values\nuse an empty value to remove a previously added override",
        );
    }
    match control.runtime().borrow_mut().modify(pairs.pairs()) {
        Ok(()) => text(StatusCode::OK, "OK\n"),
        Err(err) => text(StatusCode::SERVICE_UNAVAILABLE, &err),
    }
}

/// `/logging`: changes levels as asked, then lists the loggers.
fn logging<C: Control>(control: &C, query: &Query) -> Reply {
    let mut out = String::new();
    let mut status = StatusCode::OK;
    if !query.is_empty()
        && let Err(err) = log_change(query).and_then(|c| control.set_log_levels(c))
    {
        status = StatusCode::BAD_REQUEST;
        out.push_str(&format!("error: {err}\n\n"));
        out.push_str("usage: /logging?<name>=<level> (change single level)\n");
        out.push_str(
            "usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n",
        );
        out.push_str("usage: /logging?level=<level> (change all levels)\n");
        out.push_str(&format!("levels: {} \n", LEVELS.join(" ")));
    }
    out.push_str("active loggers:\n");
    for (name, level) in control.loggers() {
        out.push_str(&format!("  {name}: {level}\n"));
    }
    out.push('\n');
    text(status, &out)
}

/// The change a `/logging` query asks for, in Envoy's three forms.
fn log_change(query: &Query) -> Result<LogChange, String> {
    let [(key, value)] = query.pairs() else {
        return Err("invalid number of parameters".into());
    };
    let level = |l: &str| -> Result<String, String> {
        LEVELS
            .contains(&l)
            .then(|| l.to_owned())
            .ok_or_else(|| format!("unknown logger level {l}"))
    };
    match key.as_str() {
        "level" => Ok(LogChange::All(level(value)?)),
        "paths" => value
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|pair| match pair.split_once(':') {
                Some((name, l)) if !name.is_empty() && !l.is_empty() => {
                    Ok((name.trim().to_owned(), level(l.trim())?))
                }
                _ => Err("empty logger name or empty logger level".to_owned()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(LogChange::Loggers),
        name => Ok(LogChange::Loggers(vec![(name.to_owned(), level(value)?)])),
    }
}

fn text(status: StatusCode, body: &str) -> Reply {
    respond(
        status,
        "text/plain; charset=UTF-8",
        body.to_owned().into_bytes(),
    )
}

fn json(value: &serde_json::Value) -> Reply {
    let mut body = serde_json::to_vec_pretty(value).unwrap_or_default();
    body.push(b'\n');
    respond(StatusCode::OK, "application/json", body)
}

fn respond(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Reply {
    use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, X_CONTENT_TYPE_OPTIONS};
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    // As Envoy's admin answers.
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache, max-age=0"),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_changes_in_envoy_forms() {
        let q = |s: &str| log_change(&Query::parse(s));
        assert_eq!(q("level=debug"), Ok(LogChange::All("debug".into())));
        assert_eq!(
            q("paths=upstream:debug,http:warning"),
            Ok(LogChange::Loggers(vec![
                ("upstream".into(), "debug".into()),
                ("http".into(), "warning".into())
            ]))
        );
        assert_eq!(
            q("router=trace"),
            Ok(LogChange::Loggers(vec![("router".into(), "trace".into())]))
        );
        assert_eq!(q("level=loud"), Err("unknown logger level loud".into()));
        assert_eq!(
            q("a=debug&b=info"),
            Err("invalid number of parameters".into())
        );
        assert_eq!(
            q("paths=upstream"),
            Err("empty logger name or empty logger level".into())
        );
    }

    #[test]
    fn endpoints_are_sorted_and_help_marks_post() {
        assert!(ENDPOINTS.windows(2).all(|w| w[0].path < w[1].path));
        let help = render::help();
        assert!(help.starts_with("admin commands are:\n"));
        assert!(help.contains("  /reset_counters (POST): "));
        assert!(help.contains("  /stats: "));
    }
}
