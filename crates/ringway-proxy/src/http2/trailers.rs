//! Request trailers checked against what the client sent: `h2` drops a
//! pseudo-header field from a trailers block without a word, where RFC
//! 9113 §8.1 makes the request malformed. The connection's reader counts
//! each trailers block's fields as the bytes arrive
//! ([`ringway_h2wire::FrameScanner`]); the stream that receives the
//! trailers from `h2` compares.

use std::cell::RefCell;

use http::HeaderMap;
use ringway_h2wire::Trailers;

/// Trailers blocks seen on one connection and not yet checked.
#[derive(Debug, Default)]
pub(crate) struct TrailerAudit {
    found: RefCell<Vec<Trailers>>,
}

impl TrailerAudit {
    /// Blocks kept at most; an entry is removed when its stream checks it
    /// or ends, so this bounds only what a misbehaving client can leave.
    const MAX_PENDING: usize = 1024;

    /// A trailers block the reader found.
    pub(crate) fn record(&self, trailers: Trailers) {
        let mut found = self.found.borrow_mut();
        if found.len() >= Self::MAX_PENDING {
            found.remove(0);
        }
        found.push(trailers);
    }

    /// Whether `delivered`, the trailers `h2` gives stream `stream_id`,
    /// hold every field the client sent.
    pub(crate) fn well_formed(&self, stream_id: u32, delivered: &HeaderMap) -> bool {
        let mut found = self.found.borrow_mut();
        let Some(at) = found.iter().position(|t| t.stream_id == stream_id) else {
            // Not seen by the reader (evicted): nothing to compare with.
            return true;
        };
        let sent = found.remove(at).fields;
        sent == Some(delivered.len())
    }

    /// Forgets what is left of stream `stream_id` (it ended).
    pub(crate) fn forget(&self, stream_id: u32) {
        let mut found = self.found.borrow_mut();
        if !found.is_empty() {
            found.retain(|t| t.stream_id != stream_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn fewer_fields_delivered_than_sent_is_malformed() {
        let audit = TrailerAudit::default();
        let mut delivered = HeaderMap::new();
        delivered.insert("x-trailer", HeaderValue::from_static("1"));
        audit.record(Trailers {
            stream_id: 1,
            fields: Some(2),
        });
        audit.record(Trailers {
            stream_id: 3,
            fields: Some(1),
        });
        audit.record(Trailers {
            stream_id: 5,
            fields: None,
        });
        assert!(!audit.well_formed(1, &delivered));
        assert!(audit.well_formed(3, &delivered));
        assert!(!audit.well_formed(5, &delivered));
        // Checked entries are gone; unknown streams cannot be compared.
        assert!(audit.well_formed(1, &delivered));
        audit.record(Trailers {
            stream_id: 7,
            fields: Some(9),
        });
        audit.forget(7);
        assert!(audit.well_formed(7, &delivered));
    }
}
