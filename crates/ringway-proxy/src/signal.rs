//! A one-shot event on one thread: tasks wait until it fires.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Fires once; every waiter then wakes. Each pending [`Wait`] holds one
/// waker slot, updated in place when it is polled again and freed when it
/// is dropped, so the slots never outnumber the waiters; freed slots are
/// kept on a list, so taking one costs the same with ten waiters or ten
/// thousand (every idle connection of a listener waits on its drain).
#[derive(Debug, Default)]
pub(crate) struct Signal {
    fired: Cell<bool>,
    wakers: RefCell<Vec<Option<Waker>>>,
    free: RefCell<Vec<usize>>,
}

/// Completes once its [`Signal`] has fired.
#[derive(Debug)]
pub(crate) struct Wait<'a> {
    signal: &'a Signal,
    slot: Option<usize>,
}

impl Signal {
    pub(crate) fn fire(&self) {
        if !self.fired.replace(true) {
            self.free.take();
            for waker in self.wakers.take().into_iter().flatten() {
                waker.wake();
            }
        }
    }

    pub(crate) fn is_fired(&self) -> bool {
        self.fired.get()
    }

    /// Completes once the signal has fired.
    pub(crate) fn wait(&self) -> Wait<'_> {
        Wait {
            signal: self,
            slot: None,
        }
    }
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.fired.get() {
            return Poll::Ready(());
        }
        let mut wakers = self.signal.wakers.borrow_mut();
        match self.slot.and_then(|i| wakers.get_mut(i)) {
            Some(Some(waker)) => waker.clone_from(cx.waker()),
            Some(empty) => *empty = Some(cx.waker().clone()),
            None => {
                let waker = Some(cx.waker().clone());
                let i = match self.signal.free.borrow_mut().pop() {
                    Some(i) if i < wakers.len() => {
                        wakers[i] = waker;
                        i
                    }
                    _ => {
                        wakers.push(waker);
                        wakers.len() - 1
                    }
                };
                drop(wakers);
                self.slot = Some(i);
            }
        }
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let (Some(i), Ok(mut wakers)) = (self.slot, self.signal.wakers.try_borrow_mut())
            && let Some(slot) = wakers.get_mut(i)
            && slot.take().is_some()
            && let Ok(mut free) = self.signal.free.try_borrow_mut()
        {
            free.push(i);
        }
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
            // Waiters that went away free their slots.
            let other = Signal::default();
            for _ in 0..100 {
                let mut wait = Box::pin(other.wait());
                let waker = std::task::Waker::noop();
                let mut cx = std::task::Context::from_waker(waker);
                assert!(wait.as_mut().poll(&mut cx).is_pending());
                assert!(wait.as_mut().poll(&mut cx).is_pending());
            }
            assert_eq!(other.wakers.borrow().len(), 1);
        });
    }
}
