//! A one-shot event on one thread: tasks wait until it fires.

use std::cell::{Cell, RefCell};
use std::task::{Poll, Waker};

/// Fires once; every waiter then wakes. Holders should be few and
/// long-lived (one per connection, say): each waiting task keeps a waker
/// here until the signal fires or is dropped.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    fired: Cell<bool>,
    wakers: RefCell<Vec<Waker>>,
}

impl Signal {
    pub(crate) fn fire(&self) {
        if !self.fired.replace(true) {
            for waker in self.wakers.take() {
                waker.wake();
            }
        }
    }

    pub(crate) fn is_fired(&self) -> bool {
        self.fired.get()
    }

    /// Completes once the signal has fired.
    pub(crate) async fn wait(&self) {
        std::future::poll_fn(|cx| {
            if self.fired.get() {
                return Poll::Ready(());
            }
            let mut wakers = self.wakers.borrow_mut();
            if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn wakes_waiters_once_fired() {
        let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
            .enable_timer()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let signal = std::rc::Rc::new(Signal::default());
            let waiter = {
                let signal = signal.clone();
                monoio::spawn(async move {
                    signal.wait().await;
                    7
                })
            };
            monoio::time::sleep(std::time::Duration::from_millis(5)).await;
            assert!(!signal.is_fired());
            signal.fire();
            assert_eq!(waiter.await, 7);
            signal.wait().await;
        });
    }
}
