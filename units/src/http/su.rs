//! `/su`: the scheduler's log, in AO's snake_case page shape, and `POST /` (the raw signed item),
//! where other nodes' messengers hand over items for processes scheduled here. Asked about a
//! process it does not schedule, the SU answers 307 to the owner's SU when it knows it.

use serde::Deserialize;
use serde_json::json;
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{MAX_BODY, reply};
use crate::api;
use crate::message::{DataItem, Tag, b64};
use crate::mu::{Messenger, MuError, RouteError};
use crate::store::{Assignment, ProcessId};

#[derive(Debug, Deserialize)]
struct LogQuery {
    // Text, so that an empty `from=` means "absent" here as it does on the CU.
    from: Option<String>,
    to: Option<String>,
    #[serde(default, deserialize_with = "reply::empty_is_none")]
    limit: Option<usize>,
    #[serde(rename = "process-id")]
    process_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OwnerQuery {
    owner: String,
    name: Option<String>,
    /// Only this node's processes (what a node asks its peers, so nobody asks on).
    #[serde(default)]
    local: bool,
}

const PAGE: usize = 100;

/// Most bytes of messages one log page carries; `has_next_page` sends the client on for the
/// rest. A single message larger than this still comes, alone on its page.
pub const PAGE_BYTES: usize = 8 * 1024 * 1024;

/// Not in AO's API (aos finds processes through an Arweave gateway): the processes an address
/// spawned here and, unless `local`, on the peers, optionally by name, oldest first.
async fn processes_of(mu: &Messenger, q: &OwnerQuery) -> Response {
    let mut list: Vec<api::ProcessSummary> =
        match mu.scheduler().processes_of(&q.owner, q.name.as_deref()) {
            Ok(list) => list
                .into_iter()
                .map(|p| api::ProcessSummary {
                    module: p.module,
                    owner: p.owner,
                    process_id: p.id,
                    scheduler: p.scheduler,
                    tags: p.tags,
                    timestamp: p.timestamp,
                })
                .collect(),
            Err(e) => return reply::error(reply::schedule_status(&e), e),
        };
    if !q.local {
        for found in mu.processes_on_peers(&q.owner, q.name.as_deref()).await {
            if found.owner == q.owner && !list.iter().any(|p| p.process_id == found.process_id) {
                list.push(found);
            }
        }
        list.sort_by_key(|p| p.timestamp);
    }
    reply::json(StatusCode::OK, &list)
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
            &json!({"timestamp": now_ms(), "block_height": crate::su::block_height(now_ms())}),
        )
    });
    let owned = warp::path!("processes")
        .and(warp::get())
        .and(warp::query::<OwnerQuery>())
        .then({
            let mu = mu.clone();
            move |q: OwnerQuery| {
                let mu = mu.clone();
                async move { processes_of(&mu, &q).await }
            }
        });
    let process = warp::path!("processes" / String).and(warp::get()).map({
        let mu = mu.clone();
        move |id: String| {
            elsewhere(&mu, &id, &format!("/processes/{id}"))
                .unwrap_or_else(|| process_info(&mu, &id))
        }
    });
    let raw_query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let by_id = warp::path!(String)
        .and(warp::get())
        .and(warp::query::<LogQuery>())
        .and(raw_query)
        .map({
            let mu = mu.clone();
            move |id: String, q: LogQuery, raw: String| match &q.process_id {
                Some(process) => elsewhere(&mu, process, &format!("/{id}?{raw}"))
                    .unwrap_or_else(|| message(&mu, &id, process)),
                None => elsewhere(&mu, &id, &format!("/{id}?{raw}"))
                    .unwrap_or_else(|| log_page(&mu, &id, &q)),
            }
        });
    let write = warp::path::end()
        .and(warp::post())
        .and(warp::body::content_length_limit(MAX_BODY))
        .and(warp::body::bytes())
        .then(move |body: bytes::Bytes| {
            let mu = mu.clone();
            async move { write(&mu, &body).await }
        });
    info.or(timestamp)
        .unify()
        .or(owned)
        .unify()
        .or(process)
        .unify()
        .or(by_id)
        .unify()
        .or(write)
        .unify()
}

/// `POST /`: schedules a signed item here, answering once it is committed; one for another
/// node's process is redirected (307) to that node's SU.
async fn write(mu: &Messenger, body: &[u8]) -> Response {
    match mu.submit_to_scheduler(body).await {
        Ok(submitted) => reply::json(StatusCode::CREATED, &submitted),
        Err(MuError::Route(RouteError::Elsewhere { url, process, .. })) => {
            reply::redirect(&url, format!("process {process} is scheduled at {url}"))
        }
        Err(e) => reply::error(reply::mu_status(&e), e),
    }
}

/// A 307 to the owner's SU (`path` under it) when `id` names a process scheduled elsewhere that
/// this node knows of. Only what is known already: a redirect never sets off a lookup.
fn elsewhere(mu: &Messenger, id: &str, path: &str) -> Option<Response> {
    let process = ProcessId::parse(id)?;
    if mu.scheduler().store().process(&process).ok()?.is_some() {
        return None;
    }
    let url = mu.known_owner_url(&process)?;
    let path = path.trim_end_matches('?');
    Some(reply::redirect(
        &format!("{url}{path}"),
        format!("process {id} is scheduled at {url}"),
    ))
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
                &api::ProcessInfo {
                    anchor: item.anchor,
                    block: 0,
                    data: item.data,
                    module: record.module,
                    owner: item.owner,
                    process_id: record.id,
                    scheduler: record.scheduler,
                    signature: item.signature,
                    tags: record.tags,
                    timestamp: record.timestamp,
                },
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
    let (from, to) = match (slot_arg(&q.from, 0), slot_arg(&q.to, u64::MAX)) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    // One extra tells whether another page follows.
    let log = match store.log(&process, from, to, limit + 1) {
        Ok(log) => log,
        Err(e) => return reply::error(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    // Each edge is serialised as it is read, so the page's size is known before the next
    // message is loaded and a page never holds more than PAGE_BYTES plus one message. The page
    // is an `api::LogPage`, written out by hand around the edges.
    let mut edges: Vec<Vec<u8>> = Vec::new();
    let mut bytes = 0;
    for assignment in log.iter().take(limit) {
        let message = match b64::decode_32(&assignment.message).map(|m| item_json(mu, &m)) {
            Some(Ok(item)) => item,
            Some(Err(r)) => return r,
            None => None,
        };
        let edge = api::LogEdge {
            cursor: assignment.slot.to_string(),
            node: api::ScheduledMessage {
                assignment: assignment_json(assignment),
                message,
            },
        };
        let edge = match serde_json::to_vec(&edge) {
            Ok(edge) => edge,
            Err(e) => return reply::error(StatusCode::INTERNAL_SERVER_ERROR, e),
        };
        if !edges.is_empty() && bytes + edge.len() > PAGE_BYTES {
            break;
        }
        bytes += edge.len();
        edges.push(edge);
    }
    let has_next_page = log.len() > edges.len();
    let mut body = Vec::with_capacity(bytes + edges.len() + 64);
    body.extend_from_slice(br#"{"page_info":{"has_next_page":"#);
    body.extend_from_slice(if has_next_page { b"true" } else { b"false" });
    body.extend_from_slice(br#"},"edges":["#);
    for (i, edge) in edges.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(edge);
    }
    body.extend_from_slice(b"]}");
    reply::json_bytes(StatusCode::OK, body)
}

/// A slot bound of a log query; empty is the same as absent.
fn slot_arg(arg: &Option<String>, default: u64) -> Result<u64, Response> {
    match arg.as_deref() {
        None | Some("") => Ok(default),
        Some(text) => text.parse().map_err(|_| {
            reply::error(
                StatusCode::BAD_REQUEST,
                format!("{text:?} is not a slot number"),
            )
        }),
    }
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
        Ok(message) => reply::json(
            StatusCode::OK,
            &api::ScheduledMessage {
                assignment: assignment_json(&assignment),
                message,
            },
        ),
        Err(r) => r,
    }
}

/// A stored item in AO's JSON form.
fn item_json(mu: &Messenger, id: &[u8; 32]) -> Result<Option<api::Item>, Response> {
    let bytes = match mu.scheduler().store().message(id) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(e) => return Err(reply::error(StatusCode::INTERNAL_SERVER_ERROR, e)),
    };
    let item = DataItem::from_bytes(&bytes)
        .map_err(|e| reply::error(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let text =
        |bytes: &[u8]| String::from_utf8(bytes.to_vec()).unwrap_or_else(|_| b64::encode(bytes));
    Ok(Some(api::Item {
        anchor: item.anchor().map(|a| text(a.as_slice())),
        data: text(item.data()),
        id: item.id(),
        owner: api::Owner {
            address: item.owner_address(),
            key: b64::encode(item.owner()),
        },
        signature: b64::encode(item.signature()),
        tags: item.tags().to_vec(),
        target: item.target().map(b64::encode),
    }))
}

fn assignment_json(a: &Assignment) -> api::AssignmentJson {
    let tag = |name: &str, value: String| Tag {
        name: name.to_owned(),
        value,
    };
    api::AssignmentJson {
        id: None,
        tags: vec![
            tag("Process", a.process.clone()),
            tag("Epoch", a.epoch.to_string()),
            tag("Nonce", a.slot.to_string()),
            tag("Hash-Chain", a.hash_chain.clone()),
            tag("Block-Height", a.block_height.to_string()),
            tag("Timestamp", a.timestamp.to_string()),
            tag("Message", a.message.clone()),
        ],
    }
}
