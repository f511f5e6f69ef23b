//! On-demand cluster discovery on one core.
//!
//! A request whose route names a cluster this worker does not have waits
//! here while the control thread asks the control plane for it. Requests
//! for the same name share one wait and one question to the control
//! thread (which in turn shares one subscription among all workers). The
//! wait ends when a snapshot with the cluster is applied (found), when the
//! control thread says the control plane has no such cluster (missing), or
//! when the request's own timeout passes.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use crate::signal::Signal;

/// Names waited for at once on one core, at most: beyond this, requests
/// for further unknown names are refused at once (bounds the state a
/// client sending random names can create).
const MAX_WAITING_NAMES: usize = 10_000;

/// Longest cluster name taken from a request.
pub(crate) const MAX_NAME_LEN: usize = 255;

/// A worker's question to the control thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryRequest {
    pub worker: usize,
    pub cluster: String,
}

/// How a wait for a cluster ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Discovered {
    /// The current snapshot now has it.
    Found,
    /// The control plane says it does not exist.
    Missing,
    TimedOut,
    /// There is no control plane to ask, or too many names are pending.
    Unavailable,
}

/// The waits of one core.
#[derive(Debug, Default)]
pub struct Discovery {
    outbox: Option<async_channel::Sender<DiscoveryRequest>>,
    waiting: RefCell<HashMap<String, Rc<Pending>>>,
}

#[derive(Debug, Default)]
struct Pending {
    done: Signal,
    found: Cell<bool>,
}

impl Discovery {
    /// `outbox` reaches the control thread; `None` when there is no
    /// control plane.
    pub fn new(outbox: Option<async_channel::Sender<DiscoveryRequest>>) -> Self {
        Self {
            outbox,
            waiting: RefCell::new(HashMap::new()),
        }
    }

    /// Waits up to `timeout` for `name` to be discovered.
    pub(crate) async fn wait_for(
        &self,
        worker: usize,
        name: &str,
        timeout: Duration,
    ) -> Discovered {
        let Some(outbox) = &self.outbox else {
            return Discovered::Unavailable;
        };
        let existing = self.waiting.borrow().get(name).cloned();
        let pending = match existing {
            Some(p) => p,
            None => {
                if self.waiting.borrow().len() >= MAX_WAITING_NAMES {
                    return Discovered::Unavailable;
                }
                let request = DiscoveryRequest {
                    worker,
                    cluster: name.to_owned(),
                };
                if outbox.try_send(request).is_err() {
                    return Discovered::Unavailable;
                }
                let p = Rc::new(Pending::default());
                self.waiting.borrow_mut().insert(name.to_owned(), p.clone());
                p
            }
        };
        match monoio::time::timeout(timeout, pending.done.wait()).await {
            Ok(()) if pending.found.get() => Discovered::Found,
            Ok(()) => Discovered::Missing,
            Err(_) => Discovered::TimedOut,
        }
    }

    /// A snapshot was applied: wakes the waits whose cluster it has.
    pub(crate) fn found_in(&self, has: impl Fn(&str) -> bool) {
        let mut waiting = self.waiting.borrow_mut();
        if waiting.is_empty() {
            return;
        }
        waiting.retain(|name, pending| {
            if has(name) {
                pending.found.set(true);
                pending.done.fire();
                false
            } else {
                true
            }
        });
    }

    /// The control plane says `name` does not exist: ends its waits.
    pub fn missing(&self, name: &str) {
        if let Some(pending) = self.waiting.borrow_mut().remove(name) {
            pending.done.fire();
        }
    }
}
