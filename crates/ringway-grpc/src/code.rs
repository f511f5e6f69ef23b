//! gRPC status codes.

/// A gRPC status code, as sent in `grpc-status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Code {
    Ok = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

impl Code {
    /// The status a gRPC client infers from an HTTP status when there is no
    /// `grpc-status` (the mapping of gRPC's "HTTP to gRPC status code"
    /// document); ringway uses it for its own replies unless it knows
    /// better (a timeout is `DeadlineExceeded`).
    pub fn for_http_status(status: u16) -> Self {
        match status {
            200 => Self::Ok,
            400 => Self::Internal,
            401 => Self::Unauthenticated,
            403 => Self::PermissionDenied,
            404 => Self::Unimplemented,
            413 | 431 => Self::ResourceExhausted,
            429 | 502 | 503 | 504 => Self::Unavailable,
            _ => Self::Unknown,
        }
    }

    /// The decimal text sent in `grpc-status`.
    pub fn as_str(self) -> &'static str {
        const TEXT: [&str; 17] = [
            "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
            "16",
        ];
        TEXT[self as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_mapping() {
        assert_eq!(Code::for_http_status(503), Code::Unavailable);
        assert_eq!(Code::for_http_status(404), Code::Unimplemented);
        assert_eq!(Code::for_http_status(418), Code::Unknown);
        assert_eq!(Code::Unavailable.as_str(), "14");
        assert_eq!(Code::Unauthenticated.as_str(), "16");
    }
}
