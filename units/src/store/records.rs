//! The records stored as JSON values.

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::message::Tag;

/// A message's place in a process's log: what the scheduler decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub process: String,
    pub slot: u64,
    /// The id of the assigned message.
    pub message: String,
    /// Milliseconds since the Unix epoch; never decreasing within a process.
    pub timestamp: u64,
    pub block_height: u64,
    pub epoch: u64,
    pub hash_chain: String,
}

/// What the node knows about a process, from its spawn message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRecord {
    pub id: String,
    /// The spawner's address.
    pub owner: String,
    pub module: String,
    pub scheduler: String,
    pub tags: Vec<Tag>,
    pub timestamp: u64,
    /// The slot the next message will get.
    pub next_slot: u64,
    /// The newest assignment's timestamp and hash-chain link.
    pub last_timestamp: u64,
    pub last_hash_chain: String,
}

/// A message a process sent that is not yet in its target's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The sending process and the slot whose result produced this delivery.
    pub from_process: String,
    pub from_slot: u64,
    /// Set when a cron tick (at this timestamp) produced the delivery; `from_slot` is then 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_tick: Option<u64>,
    /// The id of the message that started the crank, for bounding its depth.
    pub pushed_for: String,
    pub depth: u32,
    pub kind: DeliveryKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DeliveryKind {
    /// An outbox message `{Target, Anchor, Tags, Data}` or a spawn `{Tags, Data}`, as the process wrote it.
    Message {
        body: serde_json::Value,
    },
    Spawn {
        body: serde_json::Value,
    },
    /// Assign an existing message to more processes.
    Assignment {
        message: String,
        processes: Vec<String>,
    },
}

impl Delivery {
    /// The lane this delivery travels in: its target process for a message; for a spawn or an
    /// assignment, the sending process (so one sender's spawns keep their order). Deliveries of
    /// one lane are made in order, lanes independently of each other.
    pub fn lane(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let (kind, key) = match &self.kind {
            DeliveryKind::Message { body } => {
                if let Some(target) = body
                    .get("Target")
                    .and_then(serde_json::Value::as_str)
                    .and_then(crate::message::b64::decode_32)
                {
                    return target;
                }
                ("message", &self.from_process)
            }
            DeliveryKind::Spawn { .. } => ("spawn", &self.from_process),
            DeliveryKind::Assignment { .. } => ("assignment", &self.from_process),
        };
        let mut hasher = Sha256::new();
        hasher.update(kind.as_bytes());
        hasher.update(key.as_bytes());
        hasher.finalize().into()
    }
}

/// A delivery that could not be made, kept (for a bounded time) for inspection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undeliverable {
    pub delivery: Delivery,
    pub reason: String,
}

impl Undeliverable {
    /// Where the delivery was going, for people: the Target, or what a spawn or assignment is.
    pub fn target(&self) -> String {
        match &self.delivery.kind {
            DeliveryKind::Message { body } => body
                .get("Target")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("(no Target)")
                .to_owned(),
            DeliveryKind::Spawn { .. } => "(a new process)".to_owned(),
            DeliveryKind::Assignment { processes, .. } => processes.join(", "),
        }
    }
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records always serialise")
}

pub(crate) fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}
