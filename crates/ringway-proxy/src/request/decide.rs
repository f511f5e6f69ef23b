//! What happens to a request, whatever its protocol, in order: route it,
//! answer locally (no route, direct response, redirect), find its cluster
//! (waiting for on-demand discovery), check the declared body length, and
//! pick an endpoint.
//!
//! Request policies (fault injection, rate limits, RBAC, header edits) run
//! between routing and the cluster; admission (circuit breakers,
//! concurrency limits) between the cluster and the endpoint: each is a
//! step of [`decide`], written once for every protocol.

use std::rc::Rc;

use ringway_config::model::{Route, RouteAction};
use ringway_route::RequestView;

use super::cluster::route_cluster;
use super::context::RequestContext;
use super::reply::LocalReply;
use super::retry::RetryGate;
use super::stream_clock::StreamClock;
use crate::response_flag::ResponseFlag;
use crate::state::{ClusterState, Members};
use crate::upstream::pool::EndpointPool;

/// What to do with a request.
#[derive(Debug)]
pub(crate) enum Decision<'r> {
    /// Answer without forwarding.
    Reply(Reply<'r>),
    /// Forward to an endpoint.
    Forward(Forward<'r>),
}

/// An answer ringway writes itself.
#[derive(Debug)]
pub(crate) enum Reply<'r> {
    /// From the table of local replies.
    Local(LocalReply),
    /// A route's `direct_response`: its status and body, as configured.
    Direct { status: u16, body: &'r str },
    /// A route's redirect.
    Redirect { status: u16, location: String },
}

/// Where a request goes.
#[derive(Debug)]
pub(crate) struct Forward<'r> {
    pub route: &'r Route,
    pub cluster: Rc<ClusterState>,
    pub endpoint: Rc<EndpointPool>,
    /// The request body limit (413 beyond it).
    pub body_limit: Option<u64>,
    /// The stream's idle and request timeouts.
    pub clock: StreamClock,
    /// The route's retry policy at work, when it has one.
    pub retry: Option<RetryGate<'r>>,
}

impl Forward<'_> {
    /// The retry policy's flag for the answer (`URX`, `UO`), if any.
    pub(crate) fn retry_flag(&self) -> Option<ResponseFlag> {
        self.retry.as_ref().and_then(RetryGate::flag)
    }
}

/// Decides what happens to the request `view`, whose body declares
/// `declared_length` bytes (when it does).
pub(crate) async fn decide<'r>(
    ctx: &RequestContext<'r>,
    view: &RequestView<'_>,
    declared_length: Option<u64>,
) -> Decision<'r> {
    let listener = ctx.listener;
    let stats = &listener.stats;
    let Some(route) = ringway_route::route(&listener.config, view) else {
        stats.no_route.inc();
        return Decision::Reply(Reply::Local(LocalReply::NoRoute));
    };
    match &route.action {
        RouteAction::DirectResponse { status, body } => {
            stats.rq_direct_response.inc();
            return Decision::Reply(Reply::Direct {
                status: *status,
                body,
            });
        }
        RouteAction::Redirect(redirect) => {
            stats.rq_redirect.inc();
            return Decision::Reply(Reply::Redirect {
                status: redirect.status,
                location: ringway_route::redirect_location(route, redirect, view.host, view.target),
            });
        }
        RouteAction::Cluster(_)
        | RouteAction::ClusterFrom(_)
        | RouteAction::WeightedClusters(_) => {}
    }
    let cluster = match route_cluster(ctx, route, view.host, view.headers).await {
        Ok(cluster) => cluster,
        Err(why) => return Decision::Reply(Reply::Local(LocalReply::NoCluster(why))),
    };
    let body_limit = listener.body_limit(route);
    if let (Some(limit), Some(declared)) = (body_limit, declared_length)
        && declared > limit
    {
        stats.downstream_rq_too_large.inc();
        return Decision::Reply(Reply::Local(LocalReply::BodyTooLarge));
    }
    let Some(endpoint) = pick_endpoint(&cluster) else {
        cluster.stats.upstream_cx_none_healthy.inc();
        return Decision::Reply(Reply::Local(LocalReply::NoHealthyUpstream));
    };
    Decision::Forward(Forward {
        route,
        endpoint,
        body_limit,
        clock: StreamClock::new(&listener.config.limits, Some(route), ctx.started),
        retry: (route.retry_policy.as_ref()).map(|p| RetryGate::new(p, cluster.clone(), ctx.state)),
        cluster,
    })
}

/// The endpoint the cluster's balancer picks for the next request.
pub(crate) fn pick_endpoint(cluster: &ClusterState) -> Option<Rc<EndpointPool>> {
    let mut members = cluster.members();
    let Members {
        endpoints,
        balancer,
        ..
    } = &mut *members;
    let pick = balancer.pick(|i| endpoints.get(i).map_or(0, |e| e.active_requests.get()));
    pick.and_then(|i| endpoints.get(i)).cloned()
}
