//! Envoy's `retry_on` conditions (and `x-envoy-retry-on`,
//! `x-envoy-retry-grpc-on`) as a set.

use std::fmt;

/// A set of retry conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct RetryOn(u32);

/// A name in a `retry_on` list that is not one of Envoy's conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCondition(pub String);

impl RetryOn {
    /// No condition: nothing is retried.
    pub const NONE: Self = Self(0);
    /// Any 5xx response, or none at all (connect failure, reset, refused
    /// stream, per-try timeout).
    pub const FIVE_XX: Self = Self(1);
    /// A 502, 503 or 504 response, or none at all.
    pub const GATEWAY_ERROR: Self = Self(1 << 1);
    /// No response: a disconnect, reset or per-try timeout.
    pub const RESET: Self = Self(1 << 2);
    /// No connection could be made.
    pub const CONNECT_FAILURE: Self = Self(1 << 3);
    /// The upstream refused the stream (HTTP/2 REFUSED_STREAM).
    pub const REFUSED_STREAM: Self = Self(1 << 4);
    /// A 409 response.
    pub const RETRIABLE_4XX: Self = Self(1 << 5);
    /// A response whose status is in the policy's `retriable_status_codes`.
    pub const RETRIABLE_STATUS_CODES: Self = Self(1 << 6);
    /// A response matching one of the policy's `retriable_headers`.
    pub const RETRIABLE_HEADERS: Self = Self(1 << 7);
    /// A response with `x-envoy-ratelimited` (from an upstream Envoy).
    pub const ENVOY_RATELIMITED: Self = Self(1 << 8);
    /// A reset before any of the request was sent.
    pub const RESET_BEFORE_REQUEST: Self = Self(1 << 9);
    /// gRPC status CANCELLED (1) in the response headers.
    pub const GRPC_CANCELLED: Self = Self(1 << 10);
    /// gRPC status DEADLINE_EXCEEDED (4).
    pub const GRPC_DEADLINE_EXCEEDED: Self = Self(1 << 11);
    /// gRPC status RESOURCE_EXHAUSTED (8).
    pub const GRPC_RESOURCE_EXHAUSTED: Self = Self(1 << 12);
    /// gRPC status INTERNAL (13).
    pub const GRPC_INTERNAL: Self = Self(1 << 13);
    /// gRPC status UNAVAILABLE (14).
    pub const GRPC_UNAVAILABLE: Self = Self(1 << 14);

    /// Envoy's names, in Envoy's spelling.
    const NAMES: [(&'static str, Self); 15] = [
        ("5xx", Self::FIVE_XX),
        ("gateway-error", Self::GATEWAY_ERROR),
        ("reset", Self::RESET),
        ("connect-failure", Self::CONNECT_FAILURE),
        ("refused-stream", Self::REFUSED_STREAM),
        ("retriable-4xx", Self::RETRIABLE_4XX),
        ("retriable-status-codes", Self::RETRIABLE_STATUS_CODES),
        ("retriable-headers", Self::RETRIABLE_HEADERS),
        ("envoy-ratelimited", Self::ENVOY_RATELIMITED),
        ("reset-before-request", Self::RESET_BEFORE_REQUEST),
        ("cancelled", Self::GRPC_CANCELLED),
        ("deadline-exceeded", Self::GRPC_DEADLINE_EXCEEDED),
        ("resource-exhausted", Self::GRPC_RESOURCE_EXHAUSTED),
        ("internal", Self::GRPC_INTERNAL),
        ("unavailable", Self::GRPC_UNAVAILABLE),
    ];

    /// The gRPC conditions.
    pub const GRPC: Self = Self(
        Self::GRPC_CANCELLED.0
            | Self::GRPC_DEADLINE_EXCEEDED.0
            | Self::GRPC_RESOURCE_EXHAUSTED.0
            | Self::GRPC_INTERNAL.0
            | Self::GRPC_UNAVAILABLE.0,
    );

    /// A comma-separated list of Envoy's condition names, as in a config's
    /// `retry_on` (spaces around names allowed, empty entries skipped);
    /// the first unknown name is an error.
    pub fn parse(list: &str) -> Result<Self, UnknownCondition> {
        let mut set = Self::NONE;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match Self::by_name(name) {
                Some(one) => set = set | one,
                None => return Err(UnknownCondition(name.to_owned())),
            }
        }
        Ok(set)
    }

    /// The same list as a request header carries it: unknown names are
    /// skipped, as Envoy skips them.
    pub fn parse_lenient(list: &[u8]) -> Self {
        let Ok(text) = std::str::from_utf8(list) else {
            return Self::NONE;
        };
        text.split(',')
            .filter_map(|n| Self::by_name(n.trim()))
            .fold(Self::NONE, |set, one| set | one)
    }

    fn by_name(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, one)| *one)
    }

    /// Whether any condition of `other` is in this set.
    pub fn any(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::BitOr for RetryOn {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl fmt::Display for RetryOn {
    /// Envoy's comma-separated names, in Envoy's order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (name, one) in Self::NAMES {
            if self.any(one) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

impl fmt::Display for UnknownCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = RetryOn::NAMES.iter().map(|(n, _)| *n).collect();
        write!(
            f,
            "unknown retry condition `{}` (known: {})",
            self.0,
            known.join(", ")
        )
    }
}

impl std::error::Error for UnknownCondition {}

impl serde::Serialize for RetryOn {
    /// As Envoy writes it: the comma-separated names.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_envoys_names_and_prints_them_back() {
        let set = RetryOn::parse("5xx, reset ,,unavailable").unwrap();
        assert!(set.any(RetryOn::FIVE_XX) && set.any(RetryOn::RESET));
        assert!(set.any(RetryOn::GRPC_UNAVAILABLE));
        assert!(!set.any(RetryOn::GATEWAY_ERROR));
        assert_eq!(set.to_string(), "5xx,reset,unavailable");
        assert_eq!(RetryOn::parse("").unwrap(), RetryOn::NONE);
    }

    #[test]
    fn an_unknown_name_is_an_error_in_config_and_skipped_in_a_header() {
        let err = RetryOn::parse("5xx,sometimes").unwrap_err();
        assert_eq!(err.0, "sometimes");
        assert!(err.to_string().contains("gateway-error"), "{err}");
        assert_eq!(
            RetryOn::parse_lenient(b"sometimes, gateway-error"),
            RetryOn::GATEWAY_ERROR
        );
        assert_eq!(RetryOn::parse_lenient(b"\xff"), RetryOn::NONE);
    }
}
