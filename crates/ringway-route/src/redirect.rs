//! The `Location` of a redirect route, built as Envoy builds it.

use ringway_config::model::{Redirect, RedirectPath, Route};

use crate::{origin_form, replace_prefix};

/// The `Location` for `redirect` (the action of `route`), from the request's
/// `host` and `target`. As in Envoy: the scheme is the redirect's or
/// `http`; the host is the redirect's or the request's, whose port is
/// dropped when the redirect sets one or changes the scheme away from the
/// port's default; the path is replaced whole, has its matched prefix
/// replaced, or stays; the request's query follows unless `strip_query`
/// (or a replacement path brings its own query).
pub fn redirect_location(route: &Route, redirect: &Redirect, host: &[u8], target: &[u8]) -> String {
    const REQUEST_SCHEME: &str = "http";
    let scheme = redirect.scheme.as_deref().unwrap_or(REQUEST_SCHEME);
    let host = match &redirect.host {
        Some(host) => host.as_bytes(),
        None => {
            let changes_scheme = scheme != REQUEST_SCHEME;
            request_host(host, redirect.port.is_some(), changes_scheme)
        }
    };
    let target = origin_form(target);
    let (path, query) = split_query(target);
    let mut new_path: Vec<u8> = Vec::new();
    let mut own_query = false;
    let (path, query) = match &redirect.path {
        None => (path, query),
        Some(RedirectPath::Replace(whole)) => {
            own_query = whole.contains('?');
            (whole.as_bytes(), if own_query { &b""[..] } else { query })
        }
        Some(RedirectPath::Prefix(rewrite)) => {
            if replace_prefix(&route.matcher, rewrite, target, &mut new_path) {
                let (p, q) = split_query(&new_path);
                (p, q)
            } else {
                (rewrite.as_bytes(), query)
            }
        }
    };
    let query = if redirect.strip_query && !own_query {
        &b""[..]
    } else {
        query
    };
    let mut location =
        String::with_capacity(scheme.len() + host.len() + path.len() + query.len() + 10);
    location.push_str(scheme);
    location.push_str("://");
    location.push_str(&String::from_utf8_lossy(host));
    if let Some(port) = redirect.port {
        location.push(':');
        location.push_str(&port.to_string());
    }
    if path.first() != Some(&b'/') {
        location.push('/');
    }
    location.push_str(&String::from_utf8_lossy(path));
    location.push_str(&String::from_utf8_lossy(query));
    location
}

/// `(path, "?query")`; the query part is empty when there is none.
fn split_query(target: &[u8]) -> (&[u8], &[u8]) {
    match target.iter().position(|&b| b == b'?') {
        Some(at) => target.split_at(at),
        None => (target, b""),
    }
}

/// The request's host, without its port when a new port is set or when
/// the scheme changes and the port is plain HTTP's default (`:80`).
fn request_host(host: &[u8], new_port: bool, changes_scheme: bool) -> &[u8] {
    let port_at = if host.first() == Some(&b'[') {
        host.windows(2).rposition(|w| w == b"]:").map(|at| at + 1)
    } else {
        host.iter().rposition(|&b| b == b':')
    };
    match port_at {
        Some(at) if new_port || (changes_scheme && &host[at..] == b":80") => &host[..at],
        _ => host,
    }
}

#[cfg(test)]
mod tests;
