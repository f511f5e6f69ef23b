//! Request paths and query strings. Every route is served under both
//! `/eureka/` and `/eureka/v2/`; empty segments (a trailing slash) are
//! skipped and each segment is percent-decoded on its own, so an id may
//! carry an encoded `/` or `:`.

use hyper::Method;

/// What a path names. Application names keep the case they came in;
/// [`super::state::State`] upper-cases them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/apps`
    Apps,
    /// `/apps/delta`
    Delta,
    /// `/apps/{APP}`
    App(String),
    /// `/apps/{APP}/{id}`
    Instance { app: String, id: String },
    /// `/apps/{APP}/{id}/status`
    Status { app: String, id: String },
    /// `/apps/{APP}/{id}/metadata`
    Metadata { app: String, id: String },
    /// `/instances/{id}`
    InstanceById(String),
    /// `/vips/{vip}`
    Vip(String),
    /// `/svips/{svip}`
    SecureVip(String),
}

const PREFIXES: [&str; 2] = ["/eureka/v2", "/eureka"];

// === impl Route ===

impl Route {
    /// The route a path names; `None` for any other path.
    pub fn parse(path: &str) -> Option<Self> {
        let rest = PREFIXES.iter().find_map(|prefix| {
            path.strip_prefix(prefix)
                .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        })?;
        let segments: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s, false))
            .collect::<Option<_>>()?;
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let own = |s: &str| s.to_owned();
        Some(match segments.as_slice() {
            ["apps"] => Self::Apps,
            ["apps", "delta"] => Self::Delta,
            ["apps", app] => Self::App(own(app)),
            ["apps", app, id] => Self::Instance {
                app: own(app),
                id: own(id),
            },
            ["apps", app, id, "status"] => Self::Status {
                app: own(app),
                id: own(id),
            },
            ["apps", app, id, "metadata"] => Self::Metadata {
                app: own(app),
                id: own(id),
            },
            ["instances", id] => Self::InstanceById(own(id)),
            ["vips", vip] => Self::Vip(own(vip)),
            ["svips", vip] => Self::SecureVip(own(vip)),
            _ => return None,
        })
    }

    /// The methods this route answers (HEAD wherever GET is).
    pub fn allowed(&self) -> &'static [Method] {
        match self {
            Self::Apps | Self::App(_) => &[Method::GET, Method::HEAD, Method::POST],
            Self::Instance { .. } => &[Method::GET, Method::HEAD, Method::PUT, Method::DELETE],
            Self::Status { .. } => &[Method::PUT, Method::DELETE],
            Self::Metadata { .. } => &[Method::PUT],
            Self::Delta | Self::InstanceById(_) | Self::Vip(_) | Self::SecureVip(_) => {
                &[Method::GET, Method::HEAD]
            }
        }
    }

    /// The `Allow` header value for a 405.
    pub fn allow_header(&self) -> String {
        self.allowed()
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The pairs of a query string, in order, decoded (`+` is a space).
/// A pair that does not decode to UTF-8 is skipped.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(key, true)?, percent_decode(value, true)?))
        })
        .collect()
}

/// The first value of `key`.
pub fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Decodes `%XX` (and `+` as a space when `plus` is set); `None` for a
/// malformed escape or a result that is not UTF-8.
fn percent_decode(text: &str, plus: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(app: &str, id: &str) -> Route {
        Route::Instance {
            app: app.to_owned(),
            id: id.to_owned(),
        }
    }

    #[test]
    fn paths() {
        let table = [
            ("/eureka/apps", Some(Route::Apps)),
            ("/eureka/apps/", Some(Route::Apps)),
            ("/eureka/v2/apps/", Some(Route::Apps)),
            ("/eureka/apps/delta", Some(Route::Delta)),
            ("/eureka/v2/apps/delta/", Some(Route::Delta)),
            ("/eureka/apps/orders", Some(Route::App("orders".into()))),
            (
                "/eureka/apps/PY-SVC/127.0.0.1%3Apy-svc%3A9001",
                Some(instance("PY-SVC", "127.0.0.1:py-svc:9001")),
            ),
            ("/eureka/apps/a/b%2Fc", Some(instance("a", "b/c"))),
            (
                "/eureka/apps/a/id/status",
                Some(Route::Status {
                    app: "a".into(),
                    id: "id".into(),
                }),
            ),
            (
                "/eureka/apps/a/id/metadata/",
                Some(Route::Metadata {
                    app: "a".into(),
                    id: "id".into(),
                }),
            ),
            (
                "/eureka/instances/i-1",
                Some(Route::InstanceById("i-1".into())),
            ),
            ("/eureka/vips/orders", Some(Route::Vip("orders".into()))),
            (
                "/eureka/svips/orders-secure",
                Some(Route::SecureVip("orders-secure".into())),
            ),
            ("/eureka", None),
            ("/eurekaapps", None),
            ("/apps", None),
            ("/eureka/v3/apps", None),
            ("/eureka/apps/a/id/other", None),
            ("/eureka/apps/a/%zz", None),
            ("/eureka/apps/a/%ff", None),
            ("/eureka/apps/a/%4", None),
        ];
        for (path, want) in table {
            assert_eq!(Route::parse(path), want, "{path}");
        }
    }

    #[test]
    fn queries() {
        let pairs = query_pairs(Some(
            "status=UP&lastDirtyTimestamp=17&k=a+b%26c&flag&&bad=%zz",
        ));
        assert_eq!(
            pairs,
            [
                ("status".to_owned(), "UP".to_owned()),
                ("lastDirtyTimestamp".to_owned(), "17".to_owned()),
                ("k".to_owned(), "a b&c".to_owned()),
                ("flag".to_owned(), String::new()),
            ]
        );
        assert_eq!(param(&pairs, "k"), Some("a b&c"));
        assert_eq!(param(&pairs, "none"), None);
        assert!(query_pairs(None).is_empty());
    }

    #[test]
    fn allowed_methods() {
        assert_eq!(Route::Apps.allow_header(), "GET, HEAD, POST");
        assert_eq!(
            Route::Status {
                app: "a".into(),
                id: "b".into()
            }
            .allow_header(),
            "PUT, DELETE"
        );
    }
}
