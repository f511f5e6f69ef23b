//! Per-request overrides that `bench-origin` reads from the query string:
//! `?size=N&status=S&delay_ms=D`.

/// Overrides found in a query string; `None` where the key is absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Response body size in bytes (`size`).
    pub size: Option<usize>,
    /// Response status code (`status`).
    pub status: Option<u16>,
    /// Delay before answering, in milliseconds (`delay_ms`).
    pub delay_ms: Option<u64>,
}

/// Parses the overrides from a query string (without the `?`). Unknown keys
/// are ignored; a known key with a value that is not a number is an error.
/// Allocates nothing.
pub fn parse(query: &str) -> Result<Overrides, &'static str> {
    let mut out = Overrides::default();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "size" => out.size = Some(value.parse().map_err(|_| "bad size")?),
            "status" => out.status = Some(value.parse().map_err(|_| "bad status")?),
            "delay_ms" => out.delay_ms = Some(value.parse().map_err(|_| "bad delay_ms")?),
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_keys() {
        assert_eq!(
            parse("size=10&status=503&delay_ms=50"),
            Ok(Overrides {
                size: Some(10),
                status: Some(503),
                delay_ms: Some(50)
            })
        );
    }

    #[test]
    fn ignores_unknown_and_empty() {
        assert_eq!(parse(""), Ok(Overrides::default()));
        assert_eq!(parse("x=1&&y"), Ok(Overrides::default()));
        assert_eq!(
            parse("a=b&size=3"),
            Ok(Overrides {
                size: Some(3),
                ..Overrides::default()
            })
        );
    }

    #[test]
    fn rejects_bad_numbers() {
        assert!(parse("size=abc").is_err());
        assert!(parse("status=").is_err());
        assert!(parse("delay_ms=-1").is_err());
    }
}
