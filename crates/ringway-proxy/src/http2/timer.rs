//! The clocks of an exchange with an HTTP/2 side.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use monoio::time::Sleep;

use crate::request::{Expiry, StreamClock};

/// The clocks of one exchange: an overall deadline (from `grpc-timeout`),
/// and the route timeout, which starts once the request is complete and
/// bounds the wait for the response head (or the stream idle timeout,
/// when shorter).
#[derive(Debug)]
pub(crate) struct HeadTimer<'a> {
    timeout: Duration,
    clock: &'a StreamClock,
    head: Option<(Pin<Box<Sleep>>, Expiry)>,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<'a> HeadTimer<'a> {
    pub(crate) fn new(
        timeout: Duration,
        clock: &'a StreamClock,
        deadline: Option<Instant>,
    ) -> Self {
        Self {
            timeout,
            clock,
            head: None,
            deadline: deadline.map(|d| Box::pin(monoio::time::sleep_until(d.into()))),
        }
    }

    /// Ready when the deadline passes ([`Expiry::Route`]), or the route
    /// timeout (or the shorter stream idle timeout) has passed since the
    /// first call with `request_complete`.
    pub(crate) fn poll_head(
        &mut self,
        cx: &mut Context<'_>,
        request_complete: bool,
    ) -> Poll<Expiry> {
        if self.poll_deadline(cx).is_ready() {
            return Poll::Ready(Expiry::Route);
        }
        if request_complete {
            let (timeout, clock) = (self.timeout, self.clock);
            let (head, expiry) = self.head.get_or_insert_with(|| {
                let bound = clock.response_wait(timeout);
                (Box::pin(monoio::time::sleep(bound.wait)), bound.expiry)
            });
            return head.as_mut().poll(cx).map(|()| *expiry);
        }
        Poll::Pending
    }

    /// Ready when the overall deadline passes.
    pub(crate) fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.deadline {
            Some(d) => d.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}
