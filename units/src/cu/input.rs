//! What a process receives: the message JSON of DESIGN.md §3, built from a signed item and the
//! scheduler's assignment, and the env JSON built from the spawn.
//!
//! Everything here is a pure function of stored data, so a replay builds the same bytes.

use serde_json::{Value, json};

use crate::message::{DataItem, b64};
use crate::module::ModuleMeta;
use crate::store::{Assignment, ProcessRecord};

/// The message JSON for `item` at `assignment` in `process`'s log.
pub fn message_json(
    item: &DataItem,
    assignment: &Assignment,
    process: &ProcessRecord,
    read_only: bool,
) -> Value {
    let owner = item.owner_address();
    // A process-to-process message arrives signed by a node (the process's scheduler, or another
    // node its spawn lists as Authority) and names its real sender in From-Process. On anyone else's item that tag is an ordinary tag: a user
    // cannot send as a process, nor make another address the owner of a spawn.
    let from = crate::crank::sender(item, process);
    let target = item
        .target()
        .map(b64::encode)
        .unwrap_or_else(|| process.id.clone());
    json!({
        "Id": item.id(),
        "From": from,
        "Owner": owner,
        "Target": target,
        "Tags": item.tags(),
        "Data": text(item.data()),
        "Anchor": item.anchor().map(|a| text(a)),
        "Timestamp": assignment.timestamp,
        "Block-Height": assignment.block_height,
        "Nonce": assignment.slot,
        "Epoch": assignment.epoch,
        "Hash-Chain": assignment.hash_chain,
        "Module": process.module,
        "Cron": false,
        "Forwarded-By": item.tag("Forwarded-By"),
        "Read-Only": read_only,
    })
}

/// The env JSON a process sees with every message: the process as spawned and its module as
/// the module item presents it (a module known by hash: the node's constant description).
pub fn env_json(process: &ProcessRecord, module: &ModuleMeta) -> Value {
    let mut module_env = json!({"Id": process.module, "Tags": module.tags});
    if let Some(owner) = &module.owner {
        module_env["Owner"] = Value::String(owner.clone());
    }
    json!({
        "Process": {
            "Id": process.id,
            "Owner": process.owner,
            "Tags": process.tags,
        },
        "Module": module_env,
    })
}

/// AO's data and anchors are text; bytes that are not UTF-8 travel as base64url.
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => b64::encode(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Ed25519Signer, ItemDraft, Signer};

    fn record(scheduler: &str) -> ProcessRecord {
        ProcessRecord {
            id: "P".repeat(43),
            owner: "O".repeat(43),
            module: "M".repeat(43),
            scheduler: scheduler.to_owned(),
            tags: vec![],
            timestamp: 1,
            next_slot: 2,
            last_timestamp: 1,
            last_hash_chain: String::new(),
        }
    }

    #[test]
    fn forwarded_messages_come_from_the_sending_process() {
        let node = Ed25519Signer::from_secret([5; 32]);
        let item = node
            .sign(
                ItemDraft::new("hi")
                    .tag("Action", "Ping")
                    .tag("From-Process", "sender-process")
                    .target([1; 32]),
            )
            .unwrap();
        let assignment = Assignment {
            process: "p".into(),
            slot: 7,
            message: item.id(),
            timestamp: 1234,
            block_height: 0,
            epoch: 0,
            hash_chain: "chain".into(),
        };
        let msg = message_json(&item, &assignment, &record(&node.address()), false);
        assert_eq!(msg["From"], "sender-process");
        assert_eq!(msg["Owner"], node.address());
        assert_eq!(msg["Nonce"], 7);
        assert_eq!(msg["Timestamp"], 1234);
        assert_eq!(msg["Hash-Chain"], "chain");
        assert_eq!(msg["Data"], "hi");
        assert_eq!(msg["Tags"][0]["name"], "Action");
        let direct = node.sign(ItemDraft::new("x").target([1; 32])).unwrap();
        assert_eq!(
            message_json(&direct, &assignment, &record(&node.address()), true)["From"],
            node.address()
        );
    }

    #[test]
    fn a_user_cannot_send_as_a_process() {
        let node = Ed25519Signer::from_secret([5; 32]);
        let user = Ed25519Signer::from_secret([6; 32]);
        let forged = user
            .sign(
                ItemDraft::new("")
                    .tag("Type", "Process")
                    .tag("From-Process", "victim-address"),
            )
            .unwrap();
        let assignment = Assignment {
            process: forged.id(),
            slot: 0,
            message: forged.id(),
            timestamp: 1,
            block_height: 0,
            epoch: 0,
            hash_chain: "chain".into(),
        };
        let msg = message_json(&forged, &assignment, &record(&node.address()), false);
        assert_eq!(msg["From"], user.address());
    }
}
