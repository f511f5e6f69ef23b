//! One request against the registry, without I/O: a route, a method, the
//! query and the (already decompressed) body in, a [`Reply`] out. The
//! server turns replies into responses in the format the client asked for.

use hyper::{Method, StatusCode};
use ringway_eureka::{Application, Applications, Format, Instance, Status};

use super::route::{Route, param};
use super::state::{Refused, Renewal, State};

/// A request, as the state machine sees it.
#[derive(Debug)]
pub struct Call<'a> {
    pub method: &'a Method,
    pub route: &'a Route,
    pub query: &'a [(String, String)],
    pub body: &'a [u8],
    /// The form of `body`.
    pub format: Format,
}

/// What to answer.
#[derive(Debug, PartialEq)]
pub enum Reply {
    Applications(Applications),
    Application(Application),
    Instance(Box<Instance>),
    /// No body: 200 for renewals, cancels, status and metadata changes,
    /// 204 for registrations.
    Empty(StatusCode),
    /// A plain-text reason.
    Error(StatusCode, String),
}

// === impl Reply ===

impl Reply {
    fn not_found(what: impl std::fmt::Display) -> Self {
        Self::Error(StatusCode::NOT_FOUND, format!("{what}\n"))
    }

    fn bad_request(what: impl std::fmt::Display) -> Self {
        Self::Error(StatusCode::BAD_REQUEST, format!("{what}\n"))
    }

    fn refused(refused: Refused) -> Self {
        Self::not_found(refused)
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Empty(status) | Self::Error(status, _) => *status,
            _ => StatusCode::OK,
        }
    }
}

/// Answers one call; `now` is epoch milliseconds. The method has been
/// checked against [`Route::allowed`].
pub fn answer(state: &mut State, call: &Call<'_>, now: i64) -> Reply {
    let method = call.method;
    let reply = match call.route {
        Route::Apps if method == Method::POST => register(state, None, call, now),
        Route::Apps => Reply::Applications(state.applications()),
        Route::Delta => Reply::Applications(state.delta(now)),
        Route::App(app) if method == Method::POST => register(state, Some(app), call, now),
        Route::App(app) => match state.application(app) {
            Some(application) => Reply::Application(application),
            None => Reply::not_found(format_args!("no application {app}")),
        },
        Route::Instance { app, id } => match *method {
            Method::PUT => renew(state, app, id, call.query, now),
            Method::DELETE => match state.cancel(app, id, now) {
                Ok(instance) => {
                    tracing::info!(app = %instance.app, id, "Eureka instance cancelled");
                    Reply::Empty(StatusCode::OK)
                }
                Err(refused) => Reply::refused(refused),
            },
            _ => found(state.instance(app, id)),
        },
        Route::Status { app, id } => status(state, app, id, call, now),
        Route::Metadata { app, id } => {
            let pairs = call.query.to_vec();
            match state.update_metadata(app, id, pairs, now) {
                Ok(()) => Reply::Empty(StatusCode::OK),
                Err(refused) => Reply::refused(refused),
            }
        }
        Route::InstanceById(id) => found(state.instance_by_id(id)),
        Route::Vip(vip) => Reply::Applications(state.vip(vip, false)),
        Route::SecureVip(vip) => Reply::Applications(state.vip(vip, true)),
    };
    tracing::debug!(%method, route = ?call.route, status = %reply.status(), "Eureka request");
    reply
}

fn found(instance: Option<&Instance>) -> Reply {
    match instance {
        Some(instance) => Reply::Instance(Box::new(instance.clone())),
        None => Reply::not_found("no such instance"),
    }
}

/// `POST /apps/{APP}`, or `POST /apps` with the application from the body.
fn register(state: &mut State, app: Option<&str>, call: &Call<'_>, now: i64) -> Reply {
    let instance = match ringway_eureka::parse_instance(call.body, call.format) {
        Ok(instance) => instance,
        Err(err) => {
            let form = match call.format {
                Format::Json => "JSON",
                Format::Xml => "XML",
            };
            return Reply::bad_request(format_args!("not a Eureka instance ({form}): {err}"));
        }
    };
    let app = app.map_or_else(|| instance.app.clone(), str::to_owned);
    match state.register(&app, instance, now) {
        Ok(registered) => {
            if let Some(instance) = state.instance(&registered.app, &registered.id) {
                let lease = instance.lease_info.unwrap_or_default();
                tracing::info!(
                    app = %registered.app,
                    id = %registered.id,
                    status = %instance.status,
                    address = %format_args!("{}:{}", instance.ip_addr, instance.port.number),
                    vip = instance.vip_address.as_deref().unwrap_or(""),
                    lease_secs = lease.duration_secs,
                    again = !registered.is_new,
                    "Eureka instance registered"
                );
            }
            Reply::Empty(StatusCode::NO_CONTENT)
        }
        Err(invalid) => Reply::bad_request(invalid),
    }
}

/// `PUT /apps/{APP}/{id}`: a heartbeat.
fn renew(state: &mut State, app: &str, id: &str, query: &[(String, String)], now: i64) -> Reply {
    let status = param(query, "status")
        .filter(|s| !s.is_empty())
        .map(Status::parse);
    let last_dirty = match param(query, "lastDirtyTimestamp").filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(ts) => Some(ts),
            Err(_) => {
                return Reply::bad_request(format_args!(
                    "lastDirtyTimestamp must be epoch milliseconds, not `{text}`"
                ));
            }
        },
    };
    match state.renew(app, id, Renewal { status, last_dirty }, now) {
        Ok(()) => Reply::Empty(StatusCode::OK),
        Err(refused) => {
            tracing::info!(app, id, reason = %refused, "Eureka renewal refused (404): the client registers again");
            Reply::refused(refused)
        }
    }
}

/// `PUT /apps/{APP}/{id}/status?value=` and `DELETE …/status[?value=]`.
fn status(state: &mut State, app: &str, id: &str, call: &Call<'_>, now: i64) -> Reply {
    let value = match param(call.query, "value").filter(|v| !v.is_empty()) {
        None => None,
        Some(text) => match Status::ALL
            .into_iter()
            .find(|s| s.as_str() == text.to_ascii_uppercase())
        {
            Some(status) => Some(status),
            None => {
                return Reply::bad_request(format_args!(
                    "value `{text}` is not a status (UP, DOWN, STARTING, OUT_OF_SERVICE, UNKNOWN)"
                ));
            }
        },
    };
    let result = if *call.method == Method::PUT {
        match value {
            Some(Status::Unknown) | None => {
                return Reply::bad_request("value must be UP, DOWN, STARTING or OUT_OF_SERVICE");
            }
            Some(status) => state.set_override(app, id, status, now).map(|()| {
                tracing::info!(app, id, %status, "Eureka status override set");
            }),
        }
    } else {
        state.clear_override(app, id, value, now).map(|()| {
            tracing::info!(app, id, "Eureka status override removed");
        })
    };
    match result {
        Ok(()) => Reply::Empty(StatusCode::OK),
        Err(refused) => Reply::refused(refused),
    }
}

#[cfg(test)]
mod tests;
