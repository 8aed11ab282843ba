//! `/su`: the scheduler's log, in AO's snake_case page shape.

use serde::Deserialize;
use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::reply;
use crate::message::{DataItem, b64};
use crate::mu::Messenger;
use crate::store::{Assignment, ProcessId};

#[derive(Debug, Deserialize)]
struct LogQuery {
    from: Option<u64>,
    to: Option<u64>,
    limit: Option<usize>,
    #[serde(rename = "process-id")]
    process_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OwnerQuery {
    owner: String,
    name: Option<String>,
}

const PAGE: usize = 100;

/// Not in AO's API (aos finds processes through an Arweave gateway): the processes an address
/// spawned here, optionally by name, oldest first.
fn processes_of(mu: &Messenger, q: &OwnerQuery) -> Response {
    match mu.scheduler().processes_of(&q.owner, q.name.as_deref()) {
        Ok(list) => reply::json(
            StatusCode::OK,
            &list
                .into_iter()
                .map(|p| json!({"process_id": p.id, "owner": p.owner, "tags": p.tags, "timestamp": p.timestamp, "module": p.module}))
                .collect::<Vec<_>>(),
        ),
        Err(e) => reply::error(reply::schedule_status(&e), e),
    }
}

pub fn routes(
    mu: Messenger,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let info = warp::path::end().and(warp::get()).map({
        let mu = mu.clone();
        move || {
            let processes: Vec<String> = mu
                .scheduler()
                .store()
                .processes()
                .map(|ps| ps.into_iter().map(|p| p.id).collect())
                .unwrap_or_default();
            reply::json(
                StatusCode::OK,
                &json!({"Unit": "Scheduler", "Address": mu.address(), "Timestamp": now_ms(), "Processes": processes}),
            )
        }
    });
    let timestamp = warp::path!("timestamp").and(warp::get()).map(|| {
        reply::json(
            StatusCode::OK,
            &json!({"timestamp": now_ms(), "block_height": 0}),
        )
    });
    let owned = warp::path!("processes")
        .and(warp::get())
        .and(warp::query::<OwnerQuery>())
        .map({
            let mu = mu.clone();
            move |q: OwnerQuery| processes_of(&mu, &q)
        });
    let process = warp::path!("processes" / String).and(warp::get()).map({
        let mu = mu.clone();
        move |id: String| process_info(&mu, &id)
    });
    let by_id = warp::path!(String)
        .and(warp::get())
        .and(warp::query::<LogQuery>())
        .map(move |id: String, q: LogQuery| match &q.process_id {
            Some(process) => message(&mu, &id, process),
            None => log_page(&mu, &id, &q),
        });
    info.or(timestamp)
        .unify()
        .or(owned)
        .unify()
        .or(process)
        .unify()
        .or(by_id)
        .unify()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn parse_process(id: &str) -> Result<ProcessId, Response> {
    ProcessId::parse(id).ok_or_else(|| {
        reply::error(
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not a 43-character id"),
        )
    })
}

fn process_info(mu: &Messenger, id: &str) -> Response {
    let process = match parse_process(id) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match mu.scheduler().store().process(&process) {
        Ok(Some(record)) => match item_json(mu, &process.0) {
            Ok(Some(item)) => reply::json(
                StatusCode::OK,
                &json!({
                    "process_id": record.id,
                    "owner": item["owner"],
                    "tags": record.tags,
                    "timestamp": record.timestamp,
                    "data": item["data"],
                    "anchor": item["anchor"],
                    "signature": item["signature"],
                    "block": 0,
                    "module": record.module,
                    "scheduler": record.scheduler,
                }),
            ),
            Ok(None) => reply::error(StatusCode::NOT_FOUND, format!("no spawn message for {id}")),
            Err(r) => r,
        },
        Ok(None) => reply::error(StatusCode::NOT_FOUND, format!("no process {id}")),
        Err(e) => reply::error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

fn log_page(mu: &Messenger, id: &str, q: &LogQuery) -> Response {
    let process = match parse_process(id) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let store = mu.scheduler().store();
    match store.process(&process) {
        Ok(Some(_)) => {}
        Ok(None) => return reply::error(StatusCode::NOT_FOUND, format!("no process {id}")),
        Err(e) => return reply::error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
    let limit = q.limit.unwrap_or(PAGE).clamp(1, 1000);
    let from = q.from.unwrap_or(0);
    let to = q.to.unwrap_or(u64::MAX);
    // One extra tells whether another page follows.
    let mut log = match store.log(&process, from, to, limit + 1) {
        Ok(log) => log,
        Err(e) => return reply::error(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let has_next_page = log.len() > limit;
    log.truncate(limit);
    let mut edges = Vec::with_capacity(log.len());
    for assignment in &log {
        let message = match b64::decode_32(&assignment.message).map(|m| item_json(mu, &m)) {
            Some(Ok(Some(item))) => item,
            Some(Err(r)) => return r,
            _ => Value::Null,
        };
        edges.push(json!({
            "cursor": assignment.slot.to_string(),
            "node": {"message": message, "assignment": assignment_json(assignment)},
        }));
    }
    reply::json(
        StatusCode::OK,
        &json!({"page_info": {"has_next_page": has_next_page}, "edges": edges}),
    )
}

fn message(mu: &Messenger, id: &str, process: &str) -> Response {
    let (Some(message), Ok(process)) = (b64::decode_32(id), parse_process(process)) else {
        return reply::error(
            StatusCode::BAD_REQUEST,
            "message and process-id must be 43-character ids",
        );
    };
    let store = mu.scheduler().store();
    let slot = match store.slot_of(&message, &process) {
        Ok(Some(slot)) => slot,
        Ok(None) => {
            return reply::error(
                StatusCode::NOT_FOUND,
                format!("no message {id} in process {process}"),
            );
        }
        Err(e) => return reply::error(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let assignment = match store.log(&process, slot, slot, 1) {
        Ok(mut log) if !log.is_empty() => log.remove(0),
        Ok(_) => return reply::error(StatusCode::NOT_FOUND, "log entry missing"),
        Err(e) => return reply::error(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    match item_json(mu, &message) {
        Ok(item) => reply::json(
            StatusCode::OK,
            &json!({"message": item, "assignment": assignment_json(&assignment)}),
        ),
        Err(r) => r,
    }
}

/// A stored item in AO's JSON form.
fn item_json(mu: &Messenger, id: &[u8; 32]) -> Result<Option<Value>, Response> {
    let bytes = match mu.scheduler().store().message(id) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(e) => return Err(reply::error(StatusCode::INTERNAL_SERVER_ERROR, e)),
    };
    let item = DataItem::from_bytes(&bytes)
        .map_err(|e| reply::error(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok(Some(json!({
        "id": item.id(),
        "owner": {"address": item.owner_address(), "key": b64::encode(item.owner())},
        "signature": b64::encode(item.signature()),
        "anchor": item.anchor().map(|a| String::from_utf8(a.to_vec()).unwrap_or_else(|_| b64::encode(a))),
        "target": item.target().map(b64::encode),
        "tags": item.tags(),
        "data": String::from_utf8(item.data().to_vec()).unwrap_or_else(|_| b64::encode(item.data())),
    })))
}

fn assignment_json(a: &Assignment) -> Value {
    json!({
        "id": null,
        "tags": [
            {"name": "Process", "value": a.process},
            {"name": "Epoch", "value": a.epoch.to_string()},
            {"name": "Nonce", "value": a.slot.to_string()},
            {"name": "Hash-Chain", "value": a.hash_chain},
            {"name": "Block-Height", "value": a.block_height.to_string()},
            {"name": "Timestamp", "value": a.timestamp.to_string()},
            {"name": "Message", "value": a.message},
        ],
    })
}
