//! Schedule sources: where a compute unit reads a process's log. The CU needs three things —
//! the process record (from its spawn), the log's assignments in slot order with the signed
//! items they place, and single messages by id — and gets them through [`ScheduleSource`]
//! from either this node's store ([`LocalSource`]) or another node's scheduler over AO's HTTP
//! API ([`RemoteSource`], `GET /su/{process}?from&to`).
//!
//! Trust differs, the shape does not: the local store holds what this node's SU wrote, so it is
//! returned as is; a remote page is believed only after every item's signature and the hash
//! chain from slot 0 check out, and a page that breaks either is refused with a typed error.

mod local;
mod remote;
mod wire;

use std::future::Future;
use std::pin::Pin;

use thiserror::Error;

pub use local::LocalSource;
pub use remote::RemoteSource;
pub use wire::{assignment_from_json, item_from_graphql_node, item_from_message_json};

use crate::store::{Assignment, ProcessId, ProcessRecord, StoreError};

/// One slot of a log: the scheduler's assignment and the signed item it places, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub assignment: Assignment,
    pub message: Vec<u8>,
}

/// A run of consecutive slots, and whether the log goes on past the last one (within the range
/// asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    pub has_next: bool,
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("no process {0} at this source")]
    UnknownProcess(String),
    #[error("no message {0} in process {1} at this source")]
    UnknownMessage(String, String),
    #[error("slot {slot} of process {process}: the item is not what its signer signed: {why}")]
    BadItem {
        process: String,
        slot: u64,
        why: String,
    },
    #[error("hash chain of process {process} breaks at slot {slot}")]
    HashChain { process: String, slot: u64 },
    #[error("the scheduler's answer is malformed or inconsistent: {0}")]
    BadPage(String),
    #[error("the scheduler at {url} cannot be reached: {why}")]
    Unreachable { url: String, why: String },
    #[error("the scheduler at {url} answered {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a source's methods return: boxed, so that sources can be chosen at run time
/// (`Arc<dyn ScheduleSource>`).
pub type SourceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SourceError>> + Send + 'a>>;

/// A process's log as a compute unit reads it.
pub trait ScheduleSource: Send + Sync + std::fmt::Debug {
    /// The process record. Its identity (id, owner, module, scheduler, tags, spawn timestamp) is
    /// exact; its tail (`next_slot`, `last_timestamp`, `last_hash_chain`) is as far as this source
    /// knows the log: all of it for the local store, the verified prefix for a remote one (page on
    /// until `has_next` is false to learn the rest).
    fn process<'a>(&'a self, process: &'a ProcessId) -> SourceFuture<'a, ProcessRecord>;

    /// Slots `from..=to` in order, at most `limit` of them, starting exactly at `from` (or empty
    /// when the log ends before it).
    fn page<'a>(
        &'a self,
        process: &'a ProcessId,
        from: u64,
        to: u64,
        limit: usize,
    ) -> SourceFuture<'a, LogPage>;

    /// The signed item `message` of `process`'s log.
    fn message<'a>(
        &'a self,
        process: &'a ProcessId,
        message: &'a [u8; 32],
    ) -> SourceFuture<'a, Vec<u8>>;

    /// The slot of `message` in `process`'s log.
    fn slot_of<'a>(
        &'a self,
        process: &'a ProcessId,
        message: &'a [u8; 32],
    ) -> SourceFuture<'a, u64>;
}
