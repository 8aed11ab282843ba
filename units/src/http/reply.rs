//! Building replies and turning failures into JSON errors with the right status.

use std::convert::Infallible;

use serde::Serialize;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use crate::cron::CronError;
use crate::cu::CuError;
use crate::mu::{ForwardError, MuError, RouteError};
use crate::su::ScheduleError;

pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

/// A body that is JSON already.
pub fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static("application/json"),
    );
    response
}

pub fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    json(
        status,
        &crate::api::ApiError {
            error: message.to_string(),
        },
    )
}

pub fn schedule_status(e: &ScheduleError) -> StatusCode {
    match e {
        ScheduleError::Duplicate(_) => StatusCode::CONFLICT,
        ScheduleError::BadCron(CronError::NotOwner { .. }) => StatusCode::FORBIDDEN,
        ScheduleError::UnknownProcess(_) | ScheduleError::UnknownMessage(_) => {
            StatusCode::NOT_FOUND
        }
        ScheduleError::NoTarget
        | ScheduleError::WrongScheduler(..)
        | ScheduleError::BadCron(_)
        | ScheduleError::BadLimit(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn compute_status(e: &CuError) -> StatusCode {
    match e {
        CuError::UnknownProcess(_) | CuError::UnknownMessage(..) => StatusCode::NOT_FOUND,
        CuError::UnknownModule(_) => StatusCode::UNPROCESSABLE_ENTITY,
        CuError::BadModule(_) => StatusCode::BAD_REQUEST,
        CuError::Busy(..) => StatusCode::TOO_MANY_REQUESTS,
        // Another node's log could not be had, or did not verify: the owner's failure.
        CuError::Remote { .. } => StatusCode::BAD_GATEWAY,
        CuError::Unlocated { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn mu_status(e: &MuError) -> StatusCode {
    match e {
        MuError::Malformed(_) => StatusCode::BAD_REQUEST,
        MuError::BadSignature(_) => StatusCode::UNAUTHORIZED,
        MuError::UnknownModule(_) | MuError::NoCron(_) => StatusCode::UNPROCESSABLE_ENTITY,
        MuError::Schedule(e) => schedule_status(e),
        MuError::Compute(e) => compute_status(e),
        MuError::Route(e) => route_status(e),
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The owner's refusal passes through as the owner gave it; not reaching the owner is a gateway
/// failure (502), not knowing where to go is 422 (a scheduler without a record) or 503 (peers
/// that could tell did not answer).
pub fn route_status(e: &RouteError) -> StatusCode {
    match e {
        RouteError::UnknownScheduler(_) => StatusCode::UNPROCESSABLE_ENTITY,
        RouteError::Elsewhere { .. } => StatusCode::TEMPORARY_REDIRECT,
        RouteError::Unlocated { .. } => StatusCode::SERVICE_UNAVAILABLE,
        RouteError::Forward(ForwardError::Duplicate { .. }) => StatusCode::CONFLICT,
        RouteError::Forward(ForwardError::Refused { status, .. }) => {
            StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST)
        }
        _ => StatusCode::BAD_GATEWAY,
    }
}

/// A 307 to `url`, with a JSON body saying why.
pub fn redirect(url: &str, why: impl std::fmt::Display) -> Response {
    let mut response = error(StatusCode::TEMPORARY_REDIRECT, why);
    if let Ok(location) = warp::http::HeaderValue::from_str(url) {
        response
            .headers_mut()
            .insert(warp::http::header::LOCATION, location);
    }
    response
}

pub fn from_cu(e: CuError) -> Response {
    error(compute_status(&e), e)
}

/// Unmatched paths, wrong methods, oversized or unreadable bodies: all JSON. A request can be
/// refused by several routes at once; the most specific reason wins, and a wrong method only when
/// no route for that method had anything else to say (so a chunked `POST /mu` is told it needs
/// a length, not that `GET /mu` exists).
pub async fn rejection(r: warp::Rejection) -> Result<Response, Infallible> {
    let (status, message) = if r.is_not_found() {
        (StatusCode::NOT_FOUND, "no such route".to_owned())
    } else if let Some(e) = r.find::<warp::reject::PayloadTooLarge>() {
        (StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
    } else if let Some(e) = r.find::<warp::reject::LengthRequired>() {
        (StatusCode::LENGTH_REQUIRED, e.to_string())
    } else if let Some(e) = r.find::<warp::reject::UnsupportedMediaType>() {
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, e.to_string())
    } else if let Some(e) = r.find::<warp::reject::InvalidQuery>() {
        (StatusCode::BAD_REQUEST, e.to_string())
    } else if let Some(e) = r.find::<warp::body::BodyDeserializeError>() {
        (StatusCode::BAD_REQUEST, e.to_string())
    } else if let Some(e) = r.find::<warp::reject::MethodNotAllowed>() {
        (StatusCode::METHOD_NOT_ALLOWED, e.to_string())
    } else {
        (StatusCode::BAD_REQUEST, format!("bad request: {r:?}"))
    };
    Ok(error(status, message))
}

/// For optional query numbers: `limit=` (empty) is the same as no `limit` at all.
pub fn empty_is_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text: Option<String> = serde::Deserialize::deserialize(deserializer)?;
    match text.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
    }
}
