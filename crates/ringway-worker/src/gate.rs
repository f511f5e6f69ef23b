//! Bounds the connections a worker serves at once on a listener: at the
//! limit the accept loop waits (new connections queue in the kernel) until
//! one closes.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

#[derive(Debug, Default)]
pub(crate) struct Gate {
    active: Cell<usize>,
    waiter: RefCell<Option<Waker>>,
}

/// Releases one place at the gate when dropped.
#[derive(Debug)]
pub(crate) struct Pass(Rc<Gate>);

impl Gate {
    /// Waits for a free place, then takes it. Returns whether it had to wait.
    pub(crate) async fn enter(self: &Rc<Self>, max: usize) -> (Pass, bool) {
        let mut waited = false;
        poll_fn(|cx| {
            if self.active.get() < max {
                Poll::Ready(())
            } else {
                waited = true;
                *self.waiter.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
        self.active.set(self.active.get() + 1);
        (Pass(self.clone()), waited)
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        self.0.active.set(self.0.active.get().saturating_sub(1));
        if let Some(waker) = self.0.waiter.borrow_mut().take() {
            waker.wake();
        }
    }
}
