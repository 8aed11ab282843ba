//! Cranking, the protocol between the compute unit and the messenger: what a result asks to be
//! delivered, which crank (user message) each delivery belongs to and how deep in it, the bounds
//! on a crank, and the item a delivery becomes once the node signs it.
//!
//! Crank bookkeeping travels in tags (`Pushed-For`, `Crank-Depth`, `From-Process`) on the items
//! the node signs. Anyone can write those tags on an item of their own, so they are believed only
//! on items signed by a signer the receiving process trusts ([`trusts`]): its scheduler (the node
//! that schedules it, which forwards its local cranks) or an address its spawn lists as
//! `Authority` (another node that forwards messages of processes it computes — aos's
//! `ao.isTrusted`). On anyone else's item they are ordinary tags and the item starts a crank of
//! its own. The rule reads only the item and the spawn, so every node that replays the log
//! agrees on it.

use crate::result::ProcessResult;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::message::{DataItem, ItemDraft, Tag};
use crate::store::{Delivery, DeliveryKind, ProcessRecord};

/// Hops a forwarded message is from the user's message that started its crank.
pub const CRANK_DEPTH_TAG: &str = "Crank-Depth";
/// The id of the user's message that started the crank.
pub const PUSHED_FOR_TAG: &str = "Pushed-For";
/// The process that sent a forwarded message (the node signs it on the process's behalf).
pub const FROM_PROCESS_TAG: &str = "From-Process";

/// Bounds on one crank. They stop what attacks need (endless ping-pong, exponential fan-out)
/// and stay far above what legitimate batch work does: an airdrop of 10,000 token transfers is
/// 30,000 deliveries (each transfer, then a debit and a credit notice), two hops deep.
#[derive(Debug, Clone)]
pub struct CrankLimits {
    /// Hops from the user's message; a delivery deeper than this is not made.
    pub max_depth: u32,
    /// Deliveries made on behalf of one user message.
    pub max_fanout: u32,
    /// Deliveries made at the same time, each to a different target (per-target order is kept).
    pub concurrent_targets: usize,
}

impl Default for CrankLimits {
    fn default() -> Self {
        Self {
            max_depth: 32,
            max_fanout: 200_000,
            concurrent_targets: 16,
        }
    }
}

/// Which crank an evaluated message belongs to, and the depth of what it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrankOrigin {
    pub pushed_for: String,
    /// The depth its deliveries will have.
    pub depth: u32,
}

impl CrankOrigin {
    /// The origin of `item` in `process`: its own crank at depth 1 unless a signer the process
    /// trusts ([`trusts`]) signed it, in which case its `Pushed-For` and `Crank-Depth` tags are
    /// believed.
    pub fn of(item: &DataItem, process: &ProcessRecord) -> Self {
        let own = Self {
            pushed_for: item.id(),
            depth: 1,
        };
        if !trusts(process, &item.owner_address()) {
            return own;
        }
        let depth = item
            .tag(CRANK_DEPTH_TAG)
            .and_then(|d| d.parse::<u32>().ok())
            .unwrap_or(0);
        Self {
            pushed_for: item
                .tag(PUSHED_FOR_TAG)
                .map_or(own.pushed_for, str::to_owned),
            depth: depth.saturating_add(1),
        }
    }

    /// A cron tick starts a crank of its own.
    pub fn tick(id: &str) -> Self {
        Self {
            pushed_for: id.to_owned(),
            depth: 1,
        }
    }
}

/// Whether `process` believes crank tags on items `signer` signed: its own scheduler's, or an
/// address its spawn lists in an `Authority` tag (comma-separated lists allowed, as aos reads
/// them).
pub fn trusts(process: &ProcessRecord, signer: &str) -> bool {
    signer == process.scheduler
        || process
            .tags
            .iter()
            .filter(|t| t.name == "Authority")
            .flat_map(|t| t.value.split(|c: char| c == ',' || c.is_whitespace()))
            .any(|a| a == signer)
}

/// The sender `process` sees for `item`: the `From-Process` tag when a signer it trusts signed
/// it (a node carrying a process's message), else whoever signed it.
pub fn sender(item: &DataItem, process: &ProcessRecord) -> String {
    let owner = item.owner_address();
    match item.tag(FROM_PROCESS_TAG) {
        Some(from) if trusts(process, &owner) => from.to_owned(),
        _ => owner,
    }
}

/// Where an evaluated message sits, for the deliveries it produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Slot(u64),
    /// A cron tick, by its timestamp.
    Tick(u64),
}

/// The deliveries a result asks for: its `Messages`, `Spawns` and `Assignments`, in that order.
/// The caller passes only results that did not fail (a failed message leaves no trace).
pub fn deliveries(
    process: &str,
    source: Source,
    origin: &CrankOrigin,
    result: &ProcessResult,
) -> Vec<Delivery> {
    let (from_slot, from_tick) = match source {
        Source::Slot(slot) => (slot, None),
        Source::Tick(timestamp) => (0, Some(timestamp)),
    };
    let make = |kind| Delivery {
        from_process: process.to_owned(),
        from_slot,
        from_tick,
        pushed_for: origin.pushed_for.clone(),
        depth: origin.depth,
        kind,
    };
    let mut out = Vec::new();
    for body in &result.messages {
        out.push(make(DeliveryKind::Message { body: body.clone() }));
    }
    for body in &result.spawns {
        out.push(make(DeliveryKind::Spawn { body: body.clone() }));
    }
    for body in &result.assignments {
        let message = body
            .get("Message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let processes = body
            .get("Processes")
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        out.push(make(DeliveryKind::Assignment {
            message: message.to_owned(),
            processes,
        }));
    }
    out
}

/// The unsigned item a message or spawn delivery becomes: what the process wrote, marked with
/// where it comes from. `kind` is the item's `Type` (`Message` or `Process`).
pub fn forward_draft(delivery: &Delivery, body: &Value, kind: &str) -> ItemDraft {
    const OURS: [&str; 6] = [
        "Data-Protocol",
        "Variant",
        "Type",
        FROM_PROCESS_TAG,
        PUSHED_FOR_TAG,
        CRANK_DEPTH_TAG,
    ];
    let mut draft = ItemDraft::new(match body.get("Data") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) => text.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
    });
    draft.tags = vec![
        Tag::new("Data-Protocol", "ao"),
        Tag::new("Variant", "ao.TN.1"),
        Tag::new("Type", kind),
        Tag::new(FROM_PROCESS_TAG, delivery.from_process.clone()),
        Tag::new(PUSHED_FOR_TAG, delivery.pushed_for.clone()),
        Tag::new(CRANK_DEPTH_TAG, delivery.depth.to_string()),
    ];
    for tag in body
        .get("Tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(value)) = (tag.get("name"), tag.get("value")) else {
            continue;
        };
        let name = name
            .as_str()
            .map_or_else(|| name.to_string(), str::to_owned);
        let value = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        if !OURS.contains(&name.as_str()) {
            draft.tags.push(Tag::new(name, value));
        }
    }
    // Deterministic anchor: the same delivery always makes the same item (so a redelivery is
    // recognised as a duplicate), and two equal sends from different slots differ.
    let anchor = body
        .get("Anchor")
        .and_then(Value::as_str)
        .and_then(|a| <[u8; 32]>::try_from(a.as_bytes()).ok())
        .unwrap_or_else(|| {
            let mut hasher = Sha256::new();
            hasher.update(delivery.from_process.as_bytes());
            hasher.update(delivery.from_slot.to_be_bytes());
            if let Some(tick) = delivery.from_tick {
                hasher.update(b"tick");
                hasher.update(tick.to_be_bytes());
            }
            hasher.update(body.to_string().as_bytes());
            hasher.finalize().into()
        });
    draft.anchor = Some(anchor);
    draft
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Ed25519Signer, Signer};

    fn item(signer: &Ed25519Signer) -> DataItem {
        signer
            .sign(
                ItemDraft::new("x")
                    .tag(PUSHED_FOR_TAG, "someone-elses-crank")
                    .tag(CRANK_DEPTH_TAG, "30")
                    .tag(FROM_PROCESS_TAG, "some-process")
                    .target([1; 32]),
            )
            .unwrap()
    }

    fn process(scheduler: &str, authorities: &[&str]) -> ProcessRecord {
        ProcessRecord {
            id: "p".into(),
            owner: "o".into(),
            module: "m".into(),
            scheduler: scheduler.into(),
            tags: authorities
                .iter()
                .map(|a| Tag::new("Authority", *a))
                .collect(),
            timestamp: 0,
            next_slot: 0,
            last_timestamp: 0,
            last_hash_chain: String::new(),
        }
    }

    #[test]
    fn crank_tags_are_believed_only_from_the_scheduler_or_an_authority() {
        let node = Ed25519Signer::from_secret([1; 32]);
        let user = Ed25519Signer::from_secret([2; 32]);
        let peer = Ed25519Signer::from_secret([3; 32]);
        let here = process(&node.address(), &[]);
        let forwarded = item(&node);
        let believed = CrankOrigin {
            pushed_for: "someone-elses-crank".into(),
            depth: 31,
        };
        assert_eq!(CrankOrigin::of(&forwarded, &here), believed);
        assert_eq!(sender(&forwarded, &here), "some-process");
        let forged = item(&user);
        let own = CrankOrigin {
            pushed_for: forged.id(),
            depth: 1,
        };
        assert_eq!(CrankOrigin::of(&forged, &here), own);
        assert_eq!(sender(&forged, &here), user.address());
        // Another node is believed by the processes that list it, in either way aos reads the
        // tag, and by no other.
        let from_peer = item(&peer);
        assert_eq!(sender(&from_peer, &here), peer.address());
        let listing = format!("{}, {}", node.address(), peer.address());
        for trusting in [
            process(&node.address(), &[&peer.address()]),
            process(&node.address(), &[&listing]),
        ] {
            assert_eq!(CrankOrigin::of(&from_peer, &trusting), believed);
            assert_eq!(sender(&from_peer, &trusting), "some-process");
        }
    }
}
