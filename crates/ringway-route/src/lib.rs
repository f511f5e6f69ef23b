//! Request routing: virtual host and route selection over a validated
//! listener.
//!
//! Everything here is a pure function of a [`Listener`] from
//! `ringway-config` and a view of one request's head, called once per
//! request by a worker. Nothing allocates: hosts are compared
//! case-insensitively in place, and the request-target is only sliced.
//!
//! Selection follows Envoy. A virtual host is chosen by the `Host` value
//! with its port removed: an exact domain first, then the longest `*.suffix`
//! wildcard, then the longest `prefix.*` wildcard, then `*`. Within it, the
//! first route whose conditions all hold wins: its path match (`prefix`
//! against the whole target, query included; `path` and `regex` against the
//! path without the query; `prefix` and `path` ignore ASCII case when the
//! match says `case_sensitive: false`), its methods, its header matches and
//! its query parameter matches (see [`query_value`]).

#![forbid(unsafe_code)]

mod redirect;

use std::fmt;

use ringway_config::model::{DomainPattern, Listener, PathMatch, Route, RouteMatch, VirtualHost};

pub use redirect::redirect_location;

/// Looks up request headers by name.
pub trait HeaderLookup {
    /// The first value of the header called `lower_case_name`, which the
    /// implementation compares case-insensitively.
    fn find(&self, lower_case_name: &str) -> Option<&[u8]>;
}

/// The parts of a request that routing looks at.
#[derive(Clone, Copy)]
pub struct RequestView<'a> {
    pub method: &'a [u8],
    /// The raw `Host` value; it may carry a `:port` and may be empty.
    pub host: &'a [u8],
    /// The request-target as received; may include `?query`, and may be in
    /// absolute form (`http://host/path`).
    pub target: &'a [u8],
    pub headers: &'a dyn HeaderLookup,
}

/// A request without headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHeaders;

impl HeaderLookup for NoHeaders {
    fn find(&self, _lower_case_name: &str) -> Option<&[u8]> {
        None
    }
}

/// Headers as a slice of `(name, value)` pairs, names in any case.
#[derive(Debug, Clone, Copy)]
pub struct HeaderPairs<'a>(pub &'a [(&'a str, &'a [u8])]);

impl HeaderLookup for HeaderPairs<'_> {
    fn find(&self, lower_case_name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(lower_case_name))
            .map(|(_, value)| *value)
    }
}

impl fmt::Debug for RequestView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestView")
            .field("method", &String::from_utf8_lossy(self.method))
            .field("host", &String::from_utf8_lossy(self.host))
            .field("target", &String::from_utf8_lossy(self.target))
            .finish_non_exhaustive()
    }
}

/// The route for a request on `listener`, if any virtual host and route
/// match it.
pub fn route<'a>(listener: &'a Listener, req: &RequestView<'_>) -> Option<&'a Route> {
    select_route(select_virtual_host(listener, req.host)?, req)
}

/// The virtual host serving `host` (a raw `Host` value): an exact domain,
/// else the longest matching suffix wildcard, else the longest matching
/// prefix wildcard, else `*`.
pub fn select_virtual_host<'a>(listener: &'a Listener, host: &[u8]) -> Option<&'a VirtualHost> {
    let host = strip_port(host);
    let mut suffix: Option<(&VirtualHost, usize)> = None;
    let mut prefix: Option<(&VirtualHost, usize)> = None;
    let mut any = None;
    for vhost in &listener.virtual_hosts {
        for domain in &vhost.domains {
            match domain {
                DomainPattern::Exact(name) => {
                    if host.eq_ignore_ascii_case(name.as_bytes()) {
                        return Some(vhost);
                    }
                }
                DomainPattern::Suffix(tail) => {
                    let len = tail.len();
                    if suffix.is_none_or(|(_, best)| len > best)
                        && host.len() > len
                        && host[host.len() - len..].eq_ignore_ascii_case(tail.as_bytes())
                    {
                        suffix = Some((vhost, len));
                    }
                }
                DomainPattern::Prefix(head) => {
                    let len = head.len();
                    if prefix.is_none_or(|(_, best)| len > best)
                        && host.len() > len
                        && host[..len].eq_ignore_ascii_case(head.as_bytes())
                    {
                        prefix = Some((vhost, len));
                    }
                }
                DomainPattern::Any => {
                    any.get_or_insert(vhost);
                }
            }
        }
    }
    suffix.or(prefix).map(|(vhost, _)| vhost).or(any)
}

/// The first route of `vhost` whose conditions all hold for `req`.
pub fn select_route<'a>(vhost: &'a VirtualHost, req: &RequestView<'_>) -> Option<&'a Route> {
    let target = origin_form(req.target);
    vhost
        .routes
        .iter()
        .find(|route| route_matches(&route.matcher, target, req))
}

/// Rewrites the path of `target` by the route's `prefix_rewrite` or
/// `regex_rewrite`, writing the new target (origin form) into `out`,
/// cleared first. Returns `false`, leaving `out` alone, when the route has
/// neither, or (for `prefix_rewrite`) its `prefix` match does not cover
/// `target`. As in Envoy, `true` means the request goes up with an
/// `x-envoy-original-path`, even when the path came out the same.
pub fn rewrite_path(route: &Route, target: &[u8], out: &mut Vec<u8>) -> bool {
    if let Some(regex) = &route.regex_rewrite {
        let target = origin_form(target);
        let path_end = target
            .iter()
            .position(|&b| b == b'?')
            .unwrap_or(target.len());
        out.clear();
        regex.rewrite_into(&target[..path_end], out);
        if out.is_empty() {
            out.push(b'/');
        }
        out.extend_from_slice(&target[path_end..]);
        return true;
    }
    rewrite_prefix(route, target, out)
}

/// Rewrites the matched prefix of `target` to the route's `prefix_rewrite`,
/// writing the new target (origin form) into `out`, cleared first. Returns
/// `false`, leaving `out` alone, when the route has no `prefix_rewrite` or
/// no `prefix` match, or `target` does not start with the prefix.
///
/// Unlike Envoy, a rewrite ending in `/` followed by a remainder starting
/// with `/` keeps one slash: with `prefix: /demo` and `prefix_rewrite: /`,
/// `/demo/x` becomes `/x`, not `//x`. The result always starts with `/`.
pub fn rewrite_prefix(route: &Route, target: &[u8], out: &mut Vec<u8>) -> bool {
    match &route.prefix_rewrite {
        Some(rewrite) => replace_prefix(&route.matcher, rewrite, target, out),
        None => false,
    }
}

/// [`rewrite_prefix`] with `rewrite` in place of the route's own
/// `prefix_rewrite`; `false` unless `matcher` is a `prefix` match covering
/// `target`.
fn replace_prefix(matcher: &RouteMatch, rewrite: &str, target: &[u8], out: &mut Vec<u8>) -> bool {
    let PathMatch::Prefix(prefix) = &matcher.path else {
        return false;
    };
    let target = origin_form(target);
    let case_sensitive = matcher.case_sensitive;
    let Some(matched) = prefix_match_len(target, prefix.as_bytes(), case_sensitive) else {
        return false;
    };
    let rewrite = rewrite.as_bytes();
    let mut rest = &target[matched..];
    if rewrite.last() == Some(&b'/') && rest.first() == Some(&b'/') {
        rest = &rest[1..];
    }
    out.clear();
    if rewrite.first().or(rest.first()) != Some(&b'/') {
        out.push(b'/');
    }
    out.extend_from_slice(rewrite);
    out.extend_from_slice(rest);
    true
}

/// The first value of the query parameter `name` in an origin-form
/// `target`, as Envoy's route matching reads it: the text after the first
/// `?` split on `&`, each piece `key=value` or `key` (an empty value),
/// nothing percent-decoded.
pub fn query_value<'t>(target: &'t [u8], name: &str) -> Option<&'t [u8]> {
    let query = &target[target.iter().position(|&b| b == b'?')? + 1..];
    let query = match query.iter().position(|&b| b == b'#') {
        Some(end) => &query[..end],
        None => query,
    };
    query.split(|&b| b == b'&').find_map(|piece| {
        let (key, value) = match piece.iter().position(|&b| b == b'=') {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &b""[..]),
        };
        (key == name.as_bytes()).then_some(value)
    })
}

/// The origin-form part (`/path?query`) of a request-target. An
/// absolute-form target (`http://host/path?q`) loses its scheme and
/// authority; one with an empty path gives `/` (or `?q`, which matching
/// treats as `/?q`). Any other target is returned as it is.
pub fn origin_form(target: &[u8]) -> &[u8] {
    if target.first() == Some(&b'/') {
        return target;
    }
    let Some(authority) = authority_start(target) else {
        return target;
    };
    let rest = &target[authority..];
    match rest.iter().position(|&b| b == b'/' || b == b'?') {
        Some(path) => &rest[path..],
        None => b"/",
    }
}

/// The authority (`host[:port]`) of an absolute-form request-target
/// (`http://host:port/path`), which takes the place of `Host` (RFC 9112
/// 3.2.2); `None` for any other form. Userinfo (`user@`) is left out.
pub fn absolute_form_authority(target: &[u8]) -> Option<&[u8]> {
    if target.first() == Some(&b'/') {
        return None;
    }
    let start = authority_start(target)?;
    let rest = &target[start..];
    let end = rest
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    Some(match authority.iter().rposition(|&b| b == b'@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    })
}

/// Where the authority begins in `scheme://authority...`, if `target`
/// starts with a URI scheme.
fn authority_start(target: &[u8]) -> Option<usize> {
    let colon = target.iter().position(|&b| b == b':')?;
    let (scheme, after) = target.split_at(colon);
    let valid = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    (valid && after.starts_with(b"://")).then_some(colon + 3)
}

/// `host` without a trailing `:port`; `[v6]:port` keeps its brackets.
fn strip_port(host: &[u8]) -> &[u8] {
    if host.first() == Some(&b'[') {
        return match host.iter().position(|&b| b == b']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.iter().position(|&b| b == b':') {
        Some(colon) if !host[colon + 1..].contains(&b':') => &host[..colon],
        _ => host,
    }
}

fn route_matches(matcher: &RouteMatch, target: &[u8], req: &RequestView<'_>) -> bool {
    let method_ok =
        matcher.methods.is_empty() || matcher.methods.iter().any(|m| m.as_bytes() == req.method);
    method_ok
        && path_matches(&matcher.path, matcher.case_sensitive, target)
        && matcher
            .headers
            .iter()
            .all(|h| h.matches(req.headers.find(&h.name)))
        && matcher
            .query_parameters
            .iter()
            .all(|q| q.matches(query_value(target, &q.name)))
}

fn path_matches(path: &PathMatch, case_sensitive: bool, target: &[u8]) -> bool {
    match path {
        PathMatch::Prefix(prefix) => {
            prefix_match_len(target, prefix.as_bytes(), case_sensitive).is_some()
        }
        PathMatch::Exact(exact) if case_sensitive => path_only(target) == exact.as_bytes(),
        PathMatch::Exact(exact) => path_only(target).eq_ignore_ascii_case(exact.as_bytes()),
        PathMatch::Regex(pattern) => pattern.is_match(path_only(target)),
    }
}

/// How many bytes of `target` `prefix` covers, if it is a prefix. A target
/// with an empty path (`""` or `?q`) is taken as starting with `/`.
fn prefix_match_len(target: &[u8], prefix: &[u8], case_sensitive: bool) -> Option<usize> {
    let starts = |t: &[u8], p: &[u8]| {
        if case_sensitive {
            t.starts_with(p)
        } else {
            t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p)
        }
    };
    if starts(target, prefix) {
        return Some(prefix.len());
    }
    let empty_path = target.is_empty() || target[0] == b'?';
    match prefix.split_first() {
        Some((b'/', tail)) if empty_path && starts(target, tail) => Some(tail.len()),
        _ => None,
    }
}

/// The path of an origin-form target, without its query; `/` if empty.
fn path_only(target: &[u8]) -> &[u8] {
    let end = target
        .iter()
        .position(|&b| b == b'?')
        .unwrap_or(target.len());
    match &target[..end] {
        b"" => b"/",
        path => path,
    }
}

#[cfg(test)]
mod tests;
