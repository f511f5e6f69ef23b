//! The `--url` of `bench-load`: `http://HOST[:PORT][/PATH[?QUERY]]`.

use std::net::{SocketAddr, ToSocketAddrs};

/// A parsed `http://` target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `HOST[:PORT]` exactly as written, for the `Host` header.
    pub authority: String,
    /// The host without port (IPv6 literals keep their brackets).
    pub host: String,
    /// The port, 80 when absent.
    pub port: u16,
    /// Path and query, `/` when absent.
    pub path: String,
}

impl Target {
    /// Parses `url`; only `http://` is supported.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url:?}: only http:// URLs are supported"))?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes().get(i) == Some(&b'?') => {
                (&rest[..i], format!("/{}", &rest[i..]))
            }
            Some(i) => (&rest[..i], rest[i..].to_owned()),
            None => (rest, "/".to_owned()),
        };
        if authority.is_empty() {
            return Err(format!("{url:?}: missing host"));
        }
        if authority.contains('@') {
            return Err(format!("{url:?}: user info is not supported"));
        }
        let (host, port) = if let Some(after) = authority.strip_prefix('[') {
            let end = after
                .find(']')
                .ok_or_else(|| format!("{url:?}: unterminated IPv6 literal"))?;
            let host = &authority[..end + 2];
            match &after[end + 1..] {
                "" => (host, 80),
                p => (host, parse_port(p.strip_prefix(':').unwrap_or("x"), url)?),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, parse_port(p, url)?),
                None => (authority, 80),
            }
        };
        if host.is_empty() || path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(format!("{url:?}: bad host or path"));
        }
        Ok(Self {
            authority: authority.to_owned(),
            host: host.to_owned(),
            port,
            path,
        })
    }

    /// Resolves the host once, preferring IPv4.
    pub fn resolve(&self) -> Result<SocketAddr, String> {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = (host, self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.host))?
            .collect();
        addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or(addrs.first())
            .copied()
            .ok_or_else(|| format!("{} resolves to no address", self.host))
    }

    /// The bytes of one GET request; with `close`, asking the server to
    /// close the connection after the response.
    pub fn request_bytes(&self, close: bool) -> Vec<u8> {
        let connection = if close { "Connection: close\r\n" } else { "" };
        format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\n{connection}\r\n",
            self.path, self.authority
        )
        .into_bytes()
    }
}

fn parse_port(p: &str, url: &str) -> Result<u16, String> {
    p.parse().map_err(|_| format!("{url:?}: bad port {p:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_path() {
        let t = Target::parse("http://127.0.0.1:8080/a/b?x=1").ok();
        assert_eq!(
            t,
            Some(Target {
                authority: "127.0.0.1:8080".into(),
                host: "127.0.0.1".into(),
                port: 8080,
                path: "/a/b?x=1".into(),
            })
        );
    }

    #[test]
    fn defaults() {
        let t = Target::parse("http://localhost").ok();
        assert_eq!(t.as_ref().map(|t| t.port), Some(80));
        assert_eq!(t.as_ref().map(|t| t.path.as_str()), Some("/"));
        let t = Target::parse("http://h:1?delay_ms=5").ok();
        assert_eq!(t.map(|t| t.path), Some("/?delay_ms=5".to_owned()));
    }

    #[test]
    fn ipv6_literal() {
        let t = Target::parse("http://[::1]:9000/").ok();
        assert_eq!(t.as_ref().map(|t| t.host.as_str()), Some("[::1]"));
        assert_eq!(t.as_ref().map(|t| t.port), Some(9000));
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(Target::parse("https://x/").is_err());
        assert!(Target::parse("http:///").is_err());
        assert!(Target::parse("http://x:notaport/").is_err());
        assert!(Target::parse("http://x/a b").is_err());
    }

    #[test]
    fn request_bytes() {
        let t = Target::parse("http://127.0.0.1:1/p").ok();
        let req = t.map(|t| (t.request_bytes(false), t.request_bytes(true)));
        assert_eq!(
            req,
            Some((
                b"GET /p HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n".to_vec(),
                b"GET /p HTTP/1.1\r\nHost: 127.0.0.1:1\r\nConnection: close\r\n\r\n".to_vec()
            ))
        );
    }
}
