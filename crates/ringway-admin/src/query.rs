//! Query strings as the admin API reads them: `key=value` pairs split on
//! `&`, percent-decoded (`+` is kept as is, so `?filter=rq_.+` works), and
//! bare flags like `?usedonly`.

/// The decoded pairs of a query string, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(query: &str) -> Self {
        Self(
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    /// The first value of `key`, unless empty (as Envoy's admin reads a
    /// parameter).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Whether `key` is given, with a value or not (`?usedonly`).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `%XX` sequences decoded; a malformed one is kept as written.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_flags_and_decoding() {
        let q = Query::parse("filter=%5Ecluster%5C.a.%2B&usedonly&format=&x=1%2");
        assert_eq!(q.get("filter"), Some("^cluster\\.a.+"));
        assert!(q.has("usedonly") && q.get("usedonly").is_none());
        assert!(q.has("format") && q.get("format").is_none());
        assert_eq!(q.get("x"), Some("1%2"));
        assert_eq!(
            q.keys().collect::<Vec<_>>(),
            ["filter", "usedonly", "format", "x"]
        );
        assert!(Query::parse("").is_empty());
    }
}
