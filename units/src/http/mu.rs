//! `/mu`: `POST /` takes a signed item (spawn or message) and answers 202 once it is scheduled.

use serde_json::json;
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{MAX_BODY, reply};
use crate::mu::Messenger;

pub fn routes(
    mu: Messenger,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let info = warp::path::end().and(warp::get()).map({
        let mu = mu.clone();
        move || {
            reply::json(
                StatusCode::OK,
                &json!({"Unit": "Messenger", "Address": mu.address()}),
            )
        }
    });
    // Not in AO's API: whether what a message set off has been delivered, for batch clients.
    let crank = warp::path!("crank" / String).and(warp::get()).then({
        let mu = mu.clone();
        move |id: String| {
            let mu = mu.clone();
            async move {
                match mu.wait_cranked(&id, std::time::Duration::ZERO).await {
                    Ok(done) => reply::json(StatusCode::OK, &json!({"done": done})),
                    Err(e) => reply::error(reply::mu_status(&e), e),
                }
            }
        }
    });
    let submit = warp::path::end()
        .and(warp::post())
        .and(warp::body::content_length_limit(MAX_BODY))
        .and(warp::body::bytes())
        .then(move |body: bytes::Bytes| {
            let mu = mu.clone();
            async move {
                match mu.submit(&body).await {
                    Ok(submitted) => reply::json(
                        StatusCode::ACCEPTED,
                        &json!({"id": submitted.id, "message": "Processing DataItem"}),
                    ),
                    Err(e) => reply::error(reply::mu_status(&e), e),
                }
            }
        });
    info.or(crank).unify().or(submit).unify()
}
