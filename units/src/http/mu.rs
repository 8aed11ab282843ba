//! `/mu`: `POST /` takes a signed item (spawn or message) and answers 202 once it is scheduled,
//! or a module item (`Type=Module`), answered 202 once it is checked and stored;
//! `POST`/`DELETE /monitor/{process}` (with a signed item as the body) start and stop real-time
//! cron ticks.

use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{MAX_BODY, reply};
use crate::api;
use crate::message::DataItem;
use crate::mu::Messenger;
use crate::store::ProcessId;

pub fn routes(
    mu: Messenger,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let info = warp::path::end().and(warp::get()).map({
        let mu = mu.clone();
        move || {
            reply::json(
                StatusCode::OK,
                &serde_json::json!({"Unit": "Messenger", "Address": mu.address()}),
            )
        }
    });
    // Not in AO's API: whether what a message set off has been delivered, for batch clients.
    let crank = warp::path!("crank" / String).and(warp::get()).then({
        let mu = mu.clone();
        move |id: String| {
            let mu = mu.clone();
            async move {
                let outcome = match mu.crank_outcome(&id, std::time::Duration::ZERO).await {
                    Ok(outcome) => outcome,
                    Err(e) => return reply::error(reply::mu_status(&e), e),
                };
                let done = outcome.is_some();
                // What still waits, and why (a peer that is down, say).
                let pending = match mu.pending_of(&id) {
                    Ok(list) => list
                        .into_iter()
                        .map(|p| api::PendingDelivery {
                            attempts: p.stall.as_ref().map(|s| s.attempts),
                            reason: p.stall.map(|s| s.reason),
                            target: p.target,
                        })
                        .collect(),
                    Err(e) => return reply::error(reply::mu_status(&e), e),
                };
                let undeliverable = outcome
                    .unwrap_or_default()
                    .into_iter()
                    .map(|u| api::Undelivered {
                        target: u.target(),
                        reason: u.reason,
                    })
                    .collect();
                reply::json(
                    StatusCode::OK,
                    &api::CrankStatus {
                        done,
                        undeliverable,
                        pending,
                    },
                )
            }
        }
    });
    let monitor = warp::path!("monitor" / String)
        .and(
            warp::post()
                .map(|| true)
                .or(warp::delete().map(|| false))
                .unify(),
        )
        .and(warp::body::content_length_limit(MAX_BODY))
        .and(warp::body::bytes())
        .then({
            let mu = mu.clone();
            move |process: String, start: bool, body: bytes::Bytes| {
                let mu = mu.clone();
                async move { monitor(&mu, &process, start, &body).await }
            }
        });
    let submit = warp::path::end()
        .and(warp::post())
        .and(warp::body::content_length_limit(MAX_BODY))
        .and(warp::body::bytes())
        .then(move |body: bytes::Bytes| {
            let mu = mu.clone();
            async move {
                match mu.accept(&body).await {
                    Ok(id) => reply::json(StatusCode::ACCEPTED, &api::Accepted::new(id)),
                    Err(e) => reply::error(reply::mu_status(&e), e),
                }
            }
        });
    info.or(crank)
        .unify()
        .or(monitor)
        .unify()
        .or(submit)
        .unify()
}

async fn monitor(mu: &Messenger, process: &str, start: bool, body: &[u8]) -> Response {
    let Some(id) = ProcessId::parse(process) else {
        return reply::error(
            StatusCode::BAD_REQUEST,
            format!("process {process:?} is not a 43-character id"),
        );
    };
    let request = match DataItem::from_bytes(body) {
        Ok(item) => item,
        Err(e) => {
            return reply::error(
                StatusCode::BAD_REQUEST,
                format!("the body must be a signed data item: {e}"),
            );
        }
    };
    let outcome = if start {
        mu.monitor(&id, &request).await
    } else {
        mu.unmonitor(&id, &request).await
    };
    match outcome {
        Ok(()) => reply::json(StatusCode::OK, &api::Monitoring::new(request.id(), start)),
        Err(e) => reply::error(reply::mu_status(&e), e),
    }
}
