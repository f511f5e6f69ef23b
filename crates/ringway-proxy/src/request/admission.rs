//! A request admitted to an endpoint: counted in the endpoint's active
//! requests (which least-request balancing reads) and the cluster's
//! `upstream_rq_active` from admission until the exchange ends, whatever
//! way it ends. Circuit breakers and concurrency limits will refuse here.

use std::time::Instant;

use crate::state::ClusterState;
use crate::upstream::pool::EndpointPool;

/// An admitted request; dropping it ends the count.
#[derive(Debug)]
pub(crate) struct Admitted<'a> {
    cluster: &'a ClusterState,
    endpoint: &'a EndpointPool,
    at: Instant,
}

impl<'a> Admitted<'a> {
    pub(crate) fn new(cluster: &'a ClusterState, endpoint: &'a EndpointPool) -> Self {
        endpoint
            .active_requests
            .set(endpoint.active_requests.get() + 1);
        cluster.stats.upstream_rq_active.inc();
        Self {
            cluster,
            endpoint,
            at: Instant::now(),
        }
    }

    /// Records the exchange's time in `upstream_rq_time` (a response came
    /// back from the upstream).
    #[inline]
    pub(crate) fn responded(&self) {
        self.cluster
            .stats
            .record_upstream_rq_time(self.at.elapsed());
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        let active = &self.endpoint.active_requests;
        active.set(active.get().saturating_sub(1));
        self.cluster.stats.upstream_rq_active.dec();
    }
}
