//! `POST /graphql` for `Scheduler-Location` lookups, the way AO's scheduler-utils and aoconnect
//! make them on a gateway: `transactions(owners: [$owner], tags: [{Data-Protocol: ao},
//! {Type: Scheduler-Location}], sort: HEIGHT_DESC, first: 1) { edges { node { tags } } }`.
//! Answered from the node's [`Locations`] (its own record and the peers' it verified), newest
//! first, with the fields that let a reader verify each record. Every other query goes on to
//! the gateway's handler.

use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{MAX_BODY, gateway, reply};
use crate::location::Locations;
use crate::message::b64;
use crate::mu::Messenger;

pub fn routes(
    mu: Messenger,
    locations: Locations,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("graphql")
        .and(warp::post())
        .and(warp::body::content_length_limit(MAX_BODY))
        .and(warp::body::bytes())
        .map(move |body: bytes::Bytes| {
            let request: Option<Value> = serde_json::from_slice(&body).ok();
            match request.filter(asks_for_locations) {
                Some(request) => answer(&locations, &request),
                None => gateway::graphql(&mu, &body),
            }
        })
}

/// Whether the query (or its variables) filters on `Type=Scheduler-Location`.
fn asks_for_locations(request: &Value) -> bool {
    let query = request["query"].as_str().unwrap_or_default();
    query.contains("transactions")
        && (query.contains("Scheduler-Location")
            || request["variables"]
                .to_string()
                .contains("Scheduler-Location"))
}

fn answer(locations: &Locations, request: &Value) -> Response {
    let owners = owners(request);
    let edges: Vec<Value> = locations
        .records()
        .into_iter()
        .filter(|r| owners.as_ref().is_none_or(|o| o.contains(&r.address)))
        .take(first(request))
        .map(|r| {
            let node = r.graphql_node();
            json!({"cursor": node["id"], "node": node})
        })
        .collect();
    reply::json(
        StatusCode::OK,
        &json!({"data": {"transactions": {"pageInfo": {"hasNextPage": false}, "edges": edges}}}),
    )
}

/// The `owners:` argument — a variable or an inline list — or `None` if the query has none.
fn owners(request: &Value) -> Option<Vec<String>> {
    let query = request["query"].as_str().unwrap_or_default();
    let after = &query[query.find("owners:")? + "owners:".len()..];
    let list = after.trim_start().strip_prefix('[')?;
    let list = &list[..list.find(']').unwrap_or(list.len())];
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(name) = item.strip_prefix('$') {
            match &request["variables"][name] {
                Value::String(one) => out.push(one.clone()),
                Value::Array(many) => {
                    out.extend(many.iter().filter_map(Value::as_str).map(str::to_owned))
                }
                _ => {}
            }
        } else {
            out.push(item.trim_matches('"').to_owned());
        }
    }
    out.retain(|a| b64::decode_32(a).is_some());
    Some(out)
}

/// The `first:` argument (a number written inline), else every record.
fn first(request: &Value) -> usize {
    let query = request["query"].as_str().unwrap_or_default();
    query
        .find("first:")
        .map(|at| &query[at + "first:".len()..])
        .and_then(|rest| {
            let digits: String = rest
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_come_from_variables_or_inline() {
        let a = "A".repeat(43);
        let scheduler_utils = json!({
            "query": "query GetSchedulerLocation ($owner: String!) { transactions(owners: [$owner] tags: [{ name: \"Type\", values: [\"Scheduler-Location\"] }] first: 1) { edges { node { tags { name value } } } } }",
            "variables": {"owner": a},
        });
        assert!(asks_for_locations(&scheduler_utils));
        assert_eq!(owners(&scheduler_utils), Some(vec![a.clone()]));
        assert_eq!(first(&scheduler_utils), 1);
        let inline = json!({"query": format!("{{ transactions(owners: [\"{a}\", \"junk\"], tags: [{{name: \"Type\", values: [\"Scheduler-Location\"]}}]) {{ edges {{ node {{ id }} }} }} }}")});
        assert_eq!(owners(&inline), Some(vec![a]));
        let any = json!({"query": "{ transactions(tags: [{name: \"Type\", values: [\"Scheduler-Location\"]}]) { edges { node { id } } } }"});
        assert_eq!(owners(&any), None);
        assert_eq!(first(&any), usize::MAX);
        assert!(!asks_for_locations(
            &json!({"query": "{ transactions(ids: [\"x\"]) { edges { node { id } } } }"})
        ));
    }
}
