//! The scheduler unit: gives every message of a process its slot, timestamp and hash-chain link,
//! and stores the ordered log durably before answering.
//!
//! A spawn (`Type=Process`) opens a new log at slot 0; its id is the process id. Every later message
//! of that process gets the next slot. Slots are never reused or reordered, duplicate ids are
//! refused, and timestamps never decrease within a process.

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::cron::{self, CronError};
use crate::limits::{LimitError, ProcessLimits};
use crate::message::{DataItem, b64};
use crate::store::{self, Assignment, ProcessId, ProcessRecord, Store, StoreError, Writer};

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ScheduleError {
    #[error("message {0} is already scheduled")]
    Duplicate(String),
    #[error("no process {0} on this node")]
    UnknownProcess(String),
    #[error("no message {0} on this node")]
    UnknownMessage(String),
    #[error("the message has no target process")]
    NoTarget,
    #[error("the spawn names scheduler {0}, but this node schedules as {1}")]
    WrongScheduler(String, String),
    #[error(transparent)]
    BadCron(#[from] CronError),
    #[error(transparent)]
    BadLimit(#[from] LimitError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whose fault a scheduling error is, which decides what a delivery does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The input's: the same item will be refused again, so give up on it.
    Refused,
    /// The store's: the item may go through later, so retry it.
    Failed,
}

impl ScheduleError {
    /// Matched exhaustively, so a new variant has to say which it is.
    pub fn fault(&self) -> Fault {
        match self {
            ScheduleError::Duplicate(_)
            | ScheduleError::UnknownProcess(_)
            | ScheduleError::UnknownMessage(_)
            | ScheduleError::NoTarget
            | ScheduleError::WrongScheduler(..)
            | ScheduleError::BadCron(_)
            | ScheduleError::BadLimit(_) => Fault::Refused,
            ScheduleError::Store(_) => Fault::Failed,
        }
    }
}

/// The scheduler of one node.
#[derive(Debug, Clone)]
pub struct Scheduler {
    store: Store,
    writer: Writer,
    address: String,
    default_module: String,
    cron: cron::CronLimits,
}

/// The first hash-chain link of a process: sha256 of its id.
pub fn first_link(process: &ProcessId) -> [u8; 32] {
    Sha256::digest(process.0).into()
}

/// link(n) = sha256(link(n-1) ‖ message id).
pub fn next_link(previous: &[u8; 32], message: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(message);
    hasher.finalize().into()
}

/// Arweave's genesis (2018-06-11, ms): block heights count from it.
const GENESIS_MS: u64 = 1_528_675_200_000;
/// Arweave's target block time (ms).
const BLOCK_MS: u64 = 120_000;

/// The block height the scheduler gives a message assigned at `timestamp` (ms): one block per
/// two minutes since Arweave's genesis, as Arweave aims for. Stored in the assignment, so a
/// replay sees the same height; never decreasing, since timestamps never decrease.
pub fn block_height(timestamp: u64) -> u64 {
    timestamp.saturating_sub(GENESIS_MS) / BLOCK_MS
}

/// Wall-clock milliseconds: only the scheduler's timestamps and the monitor's timer read it.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Scheduler {
    /// `address` is the node's signing address, which is also its scheduler id; spawns that name no
    /// module run `default_module`.
    pub fn new(store: Store, writer: Writer, address: String, default_module: String) -> Self {
        Self {
            store,
            writer,
            address,
            default_module,
            cron: cron::CronLimits::default(),
        }
    }

    /// What this node allows of cron (the shortest `Cron-Interval` a spawn may ask for).
    pub fn with_cron_limits(mut self, limits: cron::CronLimits) -> Self {
        self.cron = limits;
        self
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Schedules a verified item: a spawn opens a log, anything else joins its target's log.
    /// `outbox_done` names a pending delivery that this append fulfils; it is removed in the same
    /// commit, so a delivery is neither lost nor doubled by a crash.
    pub async fn schedule(
        &self,
        item: &DataItem,
        outbox_done: Option<u64>,
    ) -> Result<Assignment, ScheduleError> {
        let id = item.id_bytes();
        let bytes = item.to_bytes();
        let spawn = item.tag("Type") == Some("Process");
        let target = if spawn {
            if let Some(named) = item.tag("Scheduler")
                && named != self.address
            {
                return Err(ScheduleError::WrongScheduler(
                    named.to_owned(),
                    self.address.clone(),
                ));
            }
            cron::check_spawn_tags_with(item.tags(), self.cron.min_interval_ms)?;
            ProcessLimits::of_tags(item.tags())?;
            ProcessId(id)
        } else {
            ProcessId(*item.target().ok_or(ScheduleError::NoTarget)?)
        };
        let new_process = spawn.then(|| ProcessRecord {
            id: target.to_string(),
            // A process spawned by a process belongs to that process; the node only carried it.
            owner: match item.tag("From-Process") {
                Some(parent) if item.owner_address() == self.address => parent.to_owned(),
                _ => item.owner_address(),
            },
            module: item
                .tag("Module")
                .map_or_else(|| self.default_module.clone(), str::to_owned),
            scheduler: self.address.clone(),
            tags: item.tags().to_vec(),
            timestamp: 0,
            next_slot: 0,
            last_timestamp: 0,
            last_hash_chain: String::new(),
        });
        self.writer
            .write(move |txn| {
                if store::log::has_message(txn, &id)? {
                    return Ok(Err(ScheduleError::Duplicate(b64::encode(id))));
                }
                let placed = place(txn, &target, &id, new_process)?;
                if placed.is_ok() {
                    store::log::put_message(txn, &id, &bytes)?;
                    if let Some(seq) = outbox_done {
                        store::outbox::fulfil(txn, seq)?;
                    }
                }
                Ok(placed)
            })
            .await?
    }

    /// Promises that every later message of `process` gets a timestamp at or after the returned
    /// one (now, or the newest assignment's if the clock is behind it), durably. The compute unit
    /// may then run cron ticks that fall before it: no message can come in between any more.
    pub async fn advance(&self, process: ProcessId) -> Result<u64, ScheduleError> {
        self.writer
            .write(move |txn| {
                let Some(mut record) = store::log::process(txn, &process)? else {
                    return Ok(Err(ScheduleError::UnknownProcess(process.to_string())));
                };
                let fence = now_ms().max(record.last_timestamp);
                if fence != record.last_timestamp {
                    record.last_timestamp = fence;
                    store::log::put_process(txn, &process, &record)?;
                }
                Ok(Ok(fence))
            })
            .await?
    }

    /// Adds an already stored message to another process's log (an AO assignment).
    pub async fn assign(
        &self,
        message: [u8; 32],
        process: ProcessId,
        outbox_done: Option<u64>,
    ) -> Result<Assignment, ScheduleError> {
        self.writer
            .write(move |txn| {
                if !store::log::has_message(txn, &message)? {
                    return Ok(Err(ScheduleError::UnknownMessage(b64::encode(message))));
                }
                if store::log::is_placed(txn, &message, &process)? {
                    return Ok(Err(ScheduleError::Duplicate(b64::encode(message))));
                }
                let placed = place(txn, &process, &message, None)?;
                if placed.is_ok()
                    && let Some(seq) = outbox_done
                {
                    store::outbox::fulfil(txn, seq)?;
                }
                Ok(placed)
            })
            .await?
    }

    /// The newest process called `name` (its `Name` tag) that `owner` spawned.
    pub fn find_process(&self, owner: &str, name: &str) -> Result<Option<String>, ScheduleError> {
        Ok(self
            .processes_of(owner, Some(name))?
            .into_iter()
            .max_by_key(|p| (p.timestamp, p.id.clone()))
            .map(|p| p.id))
    }

    /// Processes spawned by `owner`, optionally only those called `name`, oldest first.
    pub fn processes_of(
        &self,
        owner: &str,
        name: Option<&str>,
    ) -> Result<Vec<ProcessRecord>, ScheduleError> {
        let mut found: Vec<ProcessRecord> = self
            .store
            .processes()?
            .into_iter()
            .filter(|p| p.owner == owner)
            .filter(|p| {
                name.is_none_or(|name| p.tags.iter().any(|t| t.name == "Name" && t.value == name))
            })
            .collect();
        found.sort_by_key(|p| (p.timestamp, p.id.clone()));
        Ok(found)
    }

    /// Paged log of a process (inclusive bounds).
    pub fn log(
        &self,
        process: &ProcessId,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<Assignment>, ScheduleError> {
        Ok(self.store.log(process, from, to, limit)?)
    }
}

/// Gives `message` the next slot of `process` (creating the process when `new_process` is given).
fn place(
    txn: &store::WriteTxn,
    process: &ProcessId,
    message: &[u8; 32],
    new_process: Option<ProcessRecord>,
) -> Result<Result<Assignment, ScheduleError>, StoreError> {
    let existing = store::log::process(txn, process)?;
    let mut record = match (existing, new_process) {
        (None, Some(record)) => record,
        (Some(_), Some(_)) => return Ok(Err(ScheduleError::Duplicate(process.to_string()))),
        (None, None) => return Ok(Err(ScheduleError::UnknownProcess(process.to_string()))),
        (Some(record), None) => record,
    };
    let slot = record.next_slot;
    let timestamp = now_ms().max(record.last_timestamp);
    let link = if slot == 0 {
        first_link(process)
    } else {
        let previous = b64::decode_32(&record.last_hash_chain)
            .ok_or_else(|| StoreError::Corrupt(format!("hash chain of {process}")))?;
        next_link(&previous, message)
    };
    let assignment = Assignment {
        process: process.to_string(),
        slot,
        message: b64::encode(message),
        timestamp,
        block_height: block_height(timestamp),
        epoch: 0,
        hash_chain: b64::encode(link),
    };
    if slot == 0 {
        record.timestamp = timestamp;
    }
    record.next_slot = slot + 1;
    record.last_timestamp = timestamp;
    record.last_hash_chain = assignment.hash_chain.clone();
    store::log::put_process(txn, process, &record)?;
    store::log::append(txn, process, message, &assignment)?;
    Ok(Ok(assignment))
}
