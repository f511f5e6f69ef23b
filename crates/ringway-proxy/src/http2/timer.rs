//! The clocks of an exchange with an HTTP/2 side.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use monoio::time::Sleep;

/// The clocks of one exchange: an overall deadline (from `grpc-timeout`),
/// and the route timeout, which starts once the request is complete and
/// bounds the wait for the response head.
#[derive(Debug)]
pub(crate) struct HeadTimer {
    timeout: Duration,
    head: Option<Pin<Box<Sleep>>>,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl HeadTimer {
    pub(crate) fn new(timeout: Duration, deadline: Option<Instant>) -> Self {
        Self {
            timeout,
            head: None,
            deadline: deadline.map(|d| Box::pin(monoio::time::sleep_until(d.into()))),
        }
    }

    /// Ready when the deadline passes, or the route timeout has passed
    /// since the first call with `request_complete`.
    pub(crate) fn poll_head(&mut self, cx: &mut Context<'_>, request_complete: bool) -> Poll<()> {
        if self.poll_deadline(cx).is_ready() {
            return Poll::Ready(());
        }
        if request_complete {
            let timeout = self.timeout;
            let head = self
                .head
                .get_or_insert_with(|| Box::pin(monoio::time::sleep(timeout)));
            return head.as_mut().poll(cx);
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
