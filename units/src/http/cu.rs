//! `/cu`: results, cron results, dry-runs and state, in AO's camelCase page shape.

use serde::Deserialize;
use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use super::{MAX_BODY, reply};
use crate::api;
use crate::cu::Order;
use crate::message::b64;
use crate::mu::Messenger;
use crate::result::ProcessResult;
use crate::store::ProcessId;

#[derive(Debug, Deserialize)]
struct ProcessQuery {
    #[serde(rename = "process-id")]
    process_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ResultsQuery {
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    #[serde(default, deserialize_with = "reply::empty_is_none")]
    limit: Option<usize>,
}

pub fn routes(
    mu: Messenger,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let info = warp::path::end().and(warp::get()).map({
        let mu = mu.clone();
        move || {
            reply::json(
                StatusCode::OK,
                &json!({
                    "Unit": "Compute",
                    "Address": mu.address(),
                    "Hot": mu.compute().hot_memory(),
                }),
            )
        }
    });
    let result = warp::path!("result" / String)
        .and(warp::get())
        .and(warp::query::<ProcessQuery>())
        .then({
            let mu = mu.clone();
            move |message: String, q: ProcessQuery| {
                let mu = mu.clone();
                async move { answer(result(&mu, &message, q.process_id.as_deref()).await) }
            }
        });
    let results = warp::path!("results" / String)
        .and(warp::get())
        .and(warp::query::<ResultsQuery>())
        .then({
            let mu = mu.clone();
            move |process: String, q: ResultsQuery| {
                let mu = mu.clone();
                async move { answer(results(&mu, &process, &q).await) }
            }
        });
    let cron = warp::path!("cron" / String)
        .and(warp::get())
        .and(warp::query::<ResultsQuery>())
        .then({
            let mu = mu.clone();
            move |process: String, q: ResultsQuery| {
                let mu = mu.clone();
                async move { answer(cron(&mu, &process, &q).await) }
            }
        });
    let dry_run = warp::path!("dry-run")
        .and(warp::post())
        .and(warp::query::<ProcessQuery>())
        .and(warp::body::content_length_limit(MAX_BODY))
        .and(warp::body::bytes())
        .then({
            let mu = mu.clone();
            move |q: ProcessQuery, body: bytes::Bytes| {
                let mu = mu.clone();
                async move { answer(dry_run(&mu, q.process_id.as_deref(), &body).await) }
            }
        });
    let patch = warp::path!("patch" / String).and(warp::get()).then({
        let mu = mu.clone();
        move |process: String| {
            let mu = mu.clone();
            async move { answer(patch(&mu, &process).await) }
        }
    });
    let state = warp::path!("state" / String)
        .and(warp::get())
        .then(move |process: String| {
            let mu = mu.clone();
            async move { answer(state(&mu, &process).await) }
        });
    info.or(result)
        .unify()
        .or(results)
        .unify()
        .or(cron)
        .unify()
        .or(dry_run)
        .unify()
        .or(patch)
        .unify()
        .or(state)
        .unify()
}

/// Not in AO's legacy API: what the process published with `patch@1.0` sends, the newest value
/// of each key (HyperBEAM serves the same through its patch device).
async fn patch(mu: &Messenger, process: &str) -> Answer {
    let process = process_arg(Some(process))?;
    let patched = mu
        .compute()
        .patches(&process)
        .await
        .map_err(reply::from_cu)?;
    Ok(reply::json(StatusCode::OK, &patched))
}

/// A handler's answer: the error side is a ready 4xx/5xx reply, so handlers can use `?`.
type Answer = Result<Response, Response>;

fn answer(a: Answer) -> Response {
    a.unwrap_or_else(|error| error)
}

fn process_arg(process: Option<&str>) -> Result<ProcessId, Response> {
    let process =
        process.ok_or_else(|| reply::error(StatusCode::BAD_REQUEST, "process-id is required"))?;
    ProcessId::parse(process).ok_or_else(|| {
        reply::error(
            StatusCode::BAD_REQUEST,
            format!("process-id {process:?} is not a 43-character id"),
        )
    })
}

async fn result(mu: &Messenger, message: &str, process: Option<&str>) -> Answer {
    let process = process_arg(process)?;
    let message = b64::decode_32(message).ok_or_else(|| {
        reply::error(
            StatusCode::BAD_REQUEST,
            format!("message {message:?} is not a 43-character id"),
        )
    })?;
    let result = mu
        .compute()
        .result_of(&message, &process)
        .await
        .map_err(reply::from_cu)?;
    Ok(reply::json(StatusCode::OK, &result))
}

async fn results(mu: &Messenger, process: &str, q: &ResultsQuery) -> Answer {
    let process = process_arg(Some(process))?;
    let (from, to) = cursors(q, "slot number")?;
    let (limit, order) = window(q);
    let rows = mu
        .compute()
        .results(&process, from, to, limit + 1, order)
        .await
        .map_err(reply::from_cu)?;
    Ok(page(rows, limit))
}

/// Results of cron ticks; the cursors are the ticks' timestamps (ms).
async fn cron(mu: &Messenger, process: &str, q: &ResultsQuery) -> Answer {
    let process = process_arg(Some(process))?;
    let (from, to) = cursors(q, "timestamp")?;
    let (limit, order) = window(q);
    let rows = mu
        .compute()
        .cron_results(&process, from, to, limit + 1, order)
        .await
        .map_err(reply::from_cu)?;
    Ok(page(rows, limit))
}

/// The inclusive key range a query's cursors ask for. AO's cursors are exclusive: results after
/// `from`, up to and including `to`.
fn cursors(q: &ResultsQuery, what: &str) -> Result<(u64, u64), Response> {
    let parse = |cursor: &Option<String>, default: u64| -> Result<u64, Response> {
        match cursor.as_deref() {
            None | Some("") => Ok(default),
            Some(c) => c.parse().map_err(|_| {
                reply::error(
                    StatusCode::BAD_REQUEST,
                    format!("cursor {c:?} is not a {what}"),
                )
            }),
        }
    };
    let from = parse(&q.from, 0)?;
    let to = parse(&q.to, u64::MAX)?;
    let from = if q.from.as_deref().is_some_and(|c| !c.is_empty()) {
        from.saturating_add(1)
    } else {
        from
    };
    Ok((from, to))
}

/// How many results a page holds and in which order, as `q` asks (AO's default: 25, ascending).
fn window(q: &ResultsQuery) -> (usize, Order) {
    let descending = q
        .sort
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("DESC"));
    let order = if descending {
        Order::Descending
    } else {
        Order::Ascending
    };
    (q.limit.unwrap_or(25).clamp(1, 1000), order)
}

/// One page in AO's CU shape from `rows` already in page order: up to `limit` of them, and
/// whether there are more (the caller reads one row beyond the page to know).
fn page(rows: Vec<(u64, ProcessResult)>, limit: usize) -> Response {
    let has_next_page = rows.len() > limit;
    let edges = rows
        .into_iter()
        .take(limit)
        .map(|(key, result)| api::ResultEdge {
            cursor: key.to_string(),
            node: result,
        })
        .collect();
    reply::json(
        StatusCode::OK,
        &api::ResultsPage {
            edges,
            page_info: api::ResultsPageInfo { has_next_page },
        },
    )
}

async fn dry_run(mu: &Messenger, process: Option<&str>, body: &[u8]) -> Answer {
    let process = process_arg(process)?;
    let message: api::DryRun = match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => serde_json::from_value(v).map_err(|e| {
            reply::error(
                StatusCode::BAD_REQUEST,
                format!("the dry-run body is not a message: {e}"),
            )
        })?,
        Ok(_) => {
            return Err(reply::error(
                StatusCode::BAD_REQUEST,
                "the dry-run body must be a JSON object",
            ));
        }
        Err(e) => {
            return Err(reply::error(
                StatusCode::BAD_REQUEST,
                format!("the dry-run body is not JSON: {e}"),
            ));
        }
    };
    let result = mu
        .compute()
        .dry_run(&process, message.to_value())
        .await
        .map_err(reply::from_cu)?;
    Ok(reply::json(StatusCode::OK, &result))
}

async fn state(mu: &Messenger, process: &str) -> Answer {
    let process = process_arg(Some(process))?;
    let bytes = mu.compute().state(&process).await.map_err(reply::from_cu)?;
    Ok(warp::reply::with_header(bytes, "content-type", "application/octet-stream").into_response())
}
