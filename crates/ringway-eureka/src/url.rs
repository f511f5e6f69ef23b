//! A Eureka server's base URL, like `http://10.0.0.5:8761/eureka/`.

use std::fmt;

/// A parsed `http://host[:port]/base/` URL. Request paths (`apps/`,
/// `apps/delta`) are appended to `base_path`, which ends with `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    pub host: String,
    pub port: u16,
    pub base_path: String,
}

/// Why a URL is not one the client can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUrl {
    #[error("`{0}`: only http:// URLs are supported (https:// is not)")]
    Scheme(String),
    #[error("`{0}`: no host")]
    NoHost(String),
    #[error("`{0}`: the port must be a number from 1 to 65535")]
    Port(String),
    #[error("`{0}`: user info, queries and fragments are not supported")]
    Extra(String),
}

impl ServerUrl {
    /// Parses a base URL. A missing path means `/`; a missing trailing
    /// slash is added (`…/eureka` and `…/eureka/` are the same server).
    pub fn parse(text: &str) -> Result<Self, InvalidUrl> {
        let rest = text
            .strip_prefix("http://")
            .ok_or_else(|| InvalidUrl::Scheme(text.to_owned()))?;
        if rest.contains(['@', '?', '#']) {
            return Err(InvalidUrl::Extra(text.to_owned()));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let (host, port) =
            split_host_port(authority).ok_or_else(|| InvalidUrl::Port(text.to_owned()))?;
        if host.is_empty() {
            return Err(InvalidUrl::NoHost(text.to_owned()));
        }
        let mut base_path = path.to_owned();
        if !base_path.ends_with('/') {
            base_path.push('/');
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            base_path,
        })
    }

    /// The request target for `path` under this server, like
    /// `/eureka/apps/delta`.
    pub fn target(&self, path: &str) -> String {
        format!("{}{}", self.base_path, path.trim_start_matches('/'))
    }

    /// `host:port`, with brackets around an IPv6 host.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.authority(), self.base_path)
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; `None` for a bad port.
fn split_host_port(authority: &str) -> Option<(&str, u16)> {
    let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p != 0);
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(p) => Some((host, port(p)?)),
            None if after.is_empty() => Some((host, 80)),
            None => None,
        };
    }
    match authority.rsplit_once(':') {
        Some((host, p)) => Some((host, port(p)?)),
        None => Some((authority, 80)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_parse_with_and_without_trailing_slash() {
        let url = ServerUrl::parse("http://127.0.0.1:8761/eureka/").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("127.0.0.1", 8761));
        assert_eq!(url.target("apps/delta"), "/eureka/apps/delta");
        assert_eq!(
            ServerUrl::parse("http://127.0.0.1:8761/eureka").unwrap(),
            url
        );
        let bare = ServerUrl::parse("http://registry").unwrap();
        assert_eq!((bare.port, bare.target("apps/")), (80, "/apps/".to_owned()));
        let v6 = ServerUrl::parse("http://[::1]:8761/eureka/v2/").unwrap();
        assert_eq!(v6.authority(), "[::1]:8761");
        assert_eq!(v6.to_string(), "http://[::1]:8761/eureka/v2/");
    }

    #[test]
    fn unusable_urls_say_why() {
        for (text, want) in [
            ("https://r:8761/eureka/", "https:// is not"),
            ("r:8761/eureka/", "only http://"),
            ("http://:8761/", "no host"),
            ("http://r:0/", "the port"),
            ("http://r:99999/", "the port"),
            ("http://u@r/", "user info"),
        ] {
            let err = ServerUrl::parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
