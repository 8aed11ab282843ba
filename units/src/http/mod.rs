//! AO's HTTP API over the units, on warp: the messenger under `/mu`, the scheduler under `/su`,
//! the compute unit under `/cu`, node info at `/`, and the sliver of a gateway's GraphQL that AO's
//! clients need at `/graphql`. Paths and JSON shapes follow AO's units so
//! AO's client libraries can talk to a node (DESIGN.md §6).
//!
//! Routes are thin adapters: they parse, call one unit method and shape its answer. Every error is
//! a 4xx/5xx with a JSON `{error}` body; nothing a client sends can stop the server, and no client
//! can hold its connections idle ([`HttpLimits`]) or make it build an unbounded page
//! ([`PAGE_BYTES`]).

// Helpers return a ready error `Response` as their `Err`: it is the reply itself, built once on a
// cold path, so boxing it would only add noise.
#![allow(clippy::result_large_err)]

mod cu;
mod gateway;
mod location;
mod mu;
mod reply;
mod server;
mod su;

use std::convert::Infallible;
use std::future::Future;

use warp::Filter;

use crate::mu::Messenger;

pub use server::HttpLimits;
pub use su::PAGE_BYTES;

/// Who the node is (`GET /` answers [`crate::api::NodeInfo`] from it; contract: at least
/// `address` and `default_module`).
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub address: String,
    pub default_module: String,
    pub version: String,
    /// The Scheduler-Location records the node holds (its own and its peers'), served on
    /// `/graphql`.
    pub locations: crate::location::Locations,
}

impl NodeInfo {
    /// What `GET /` says of a healthy node.
    pub fn answer(&self) -> crate::api::NodeInfo {
        crate::api::NodeInfo {
            address: self.address.clone(),
            default_module: self.default_module.clone(),
            version: self.version.clone(),
            error: None,
        }
    }
}

/// Largest body a POST may carry.
pub const MAX_BODY: u64 = 16 * 1024 * 1024;

/// All routes of a node.
pub fn routes(
    mu: Messenger,
    info: NodeInfo,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Infallible> + Clone {
    // The health check tells the truth: a node whose store takes no writes is not healthy.
    let root = warp::path::end().and(warp::get()).map({
        let info = info.clone();
        let mu = mu.clone();
        move || {
            let mut answer = info.answer();
            match mu.scheduler().writer().failure() {
                None => reply::json(warp::http::StatusCode::OK, &answer),
                Some(why) => {
                    answer.error = Some(format!("the store cannot be written: {why}"));
                    reply::json(warp::http::StatusCode::SERVICE_UNAVAILABLE, &answer)
                }
            }
        }
    });
    let mu_routes = warp::path("mu").and(mu::routes(mu.clone()));
    let su_routes = warp::path("su").and(su::routes(mu.clone()));
    // The CU computes any process, its own node's or (from the owner's log) another's.
    let cu_routes = warp::path("cu").and(cu::routes(mu.clone()));
    // Clients take the gateway to be at the node's root (`GATEWAY_URL` = the node's URL).
    let gateway_routes = location::routes(mu, info.locations.clone());
    root.or(mu_routes)
        .unify()
        .or(su_routes)
        .unify()
        .or(cu_routes)
        .unify()
        .or(gateway_routes)
        .unify()
        .recover(reply::rejection)
        .unify()
}

/// Serves `routes` on an already bound listener until `shutdown` resolves, under the default
/// [`HttpLimits`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    mu: Messenger,
    info: NodeInfo,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    serve_with(listener, mu, info, HttpLimits::default(), shutdown).await;
}

/// [`serve`] under `limits`.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    mu: Messenger,
    info: NodeInfo,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    server::run(listener, routes(mu, info), limits, shutdown).await;
}
