//! `POST /graphql`: the smallest part of an Arweave gateway's GraphQL that AO's clients need from a
//! node that has no gateway behind it. aoconnect's `spawn` looks up the module's transaction and
//! checks its tags (`Data-Protocol`, `Type=Module`, `Module-Format`, `Input-Encoding`,
//! `Output-Encoding`) before it sends the spawn.
//!
//! Answered honestly from what the node holds: `transactions(ids: …)` finds module items (their
//! signer as owner, their signed tags, as a gateway answers any transaction), modules known by
//! hash (the node as owner, the node's description as tags: see `crate::module::ModuleMeta`),
//! processes and messages (with their signed tags and owner).
//! Ids may come as variables or inline. Every other query gets an empty `transactions` connection,
//! never invented data.

use serde_json::{Value, json};
use warp::http::StatusCode;
use warp::reply::Response;

use super::reply;
use crate::message::{DataItem, b64};
use crate::mu::Messenger;

/// The answer to a GraphQL request body; `POST /graphql` is routed by `location::routes`,
/// which answers `Scheduler-Location` queries itself and hands the rest here.
pub(super) fn graphql(mu: &Messenger, body: &[u8]) -> Response {
    let request: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return reply::error(
                StatusCode::BAD_REQUEST,
                "a GraphQL request is a JSON object {query, variables}",
            );
        }
    };
    let query = request["query"].as_str().unwrap_or_default();
    if !query.contains("transactions") {
        return reply::error(
            StatusCode::BAD_REQUEST,
            "this node answers only `transactions(ids: …)` queries",
        );
    }
    let edges: Vec<Value> = requested_ids(&request)
        .iter()
        .filter_map(|id| transaction(mu, id))
        .map(|node| json!({"cursor": node["id"], "node": node}))
        .collect();
    reply::json(
        StatusCode::OK,
        &json!({"data": {"transactions": {"pageInfo": {"hasNextPage": false}, "edges": edges}}}),
    )
}

/// Every 43-character id named by the query's `ids` argument: the strings in the variables, or
/// the quoted ids written inline in the query.
fn requested_ids(request: &Value) -> Vec<String> {
    let query = request["query"].as_str().unwrap_or_default();
    let Some(after) = query.find("ids:").map(|at| &query[at + 4..]) else {
        return Vec::new();
    };
    let argument = after.trim_start();
    let mut ids = Vec::new();
    if let Some(name) = argument.strip_prefix('$') {
        let name: String = name
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        match &request["variables"][name.as_str()] {
            Value::Array(values) => {
                ids.extend(values.iter().filter_map(|v| v.as_str()).map(str::to_owned))
            }
            Value::String(one) => ids.push(one.clone()),
            _ => {}
        }
    } else if let Some(list) = argument.strip_prefix('[') {
        let list = &list[..list.find(']').unwrap_or(list.len())];
        ids.extend(
            list.split(',')
                .map(|s| s.trim().trim_matches('"').to_owned())
                .filter(|s| !s.is_empty()),
        );
    }
    ids.retain(|id| b64::decode_32(id).is_some());
    ids
}

/// The gateway's view of one id: a module of this node, or a signed item it stores.
fn transaction(mu: &Messenger, id: &str) -> Option<Value> {
    if let Some(module) = mu.compute().module_meta(id).ok()? {
        let owner = module.owner.clone().unwrap_or_else(|| mu.address());
        return Some(json!({
            "id": id,
            "owner": {"address": owner},
            "tags": module.tags,
            "block": null,
        }));
    }
    let raw = b64::decode_32(id)?;
    let bytes = mu.scheduler().store().message(&raw).ok()??;
    let item = DataItem::from_bytes(&bytes).ok()?;
    Some(json!({
        "id": id,
        "owner": {"address": item.owner_address()},
        "recipient": item.target().map(b64::encode).unwrap_or_default(),
        "tags": item.tags(),
        "data": {"size": item.data().len().to_string()},
        "block": null,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_variables_or_inline() {
        let id = "A".repeat(43);
        let from_variables = json!({
            "query": "query GetTransactions ($transactionIds: [ID!]!) { transactions(ids: $transactionIds) { edges { node { tags { name value } } } } }",
            "variables": {"transactionIds": [id, "not-an-id"]},
        });
        assert_eq!(requested_ids(&from_variables), vec![id.clone()]);
        let inline = json!({"query": format!("{{ transactions(ids: [\"{id}\"]) {{ edges {{ node {{ id }} }} }} }}")});
        assert_eq!(requested_ids(&inline), vec![id]);
        assert!(
            requested_ids(
                &json!({"query": "{ transactions(owners: [\"x\"]) { edges { node { id } } } }"})
            )
            .is_empty()
        );
    }
}
