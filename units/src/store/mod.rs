//! The node's durable state: one redb file holding every table of DESIGN.md §5.
//!
//! Ordered keys are fixed-width big-endian so that redb's byte order is slot order. Records are JSON
//! (small, self-describing, readable with any tool); item bodies and snapshots are raw bytes.

pub(crate) mod checkpoints;
mod keys;
pub(crate) mod log;
mod modules;
pub(crate) mod monitors;
pub mod outbox;
mod records;
pub(crate) mod results;
mod writer;

use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use thiserror::Error;

pub use checkpoints::{ChainPoint, Checkpoint};
pub(crate) use keys::slot_key;
pub use keys::{ProcessId, log_key, parse_log_key};
pub(crate) use modules::put_item as put_module_item;
pub(crate) use records::decode;
pub use records::{Assignment, Delivery, DeliveryKind, ProcessRecord, Undeliverable};
pub use results::{Order, ResultOf};
pub use writer::Writer;

/// A write transaction of the one writer (see [`Writer::write`]): what the typed writes of this
/// module take. Only `store/` opens its tables.
pub type WriteTxn = redb::WriteTransaction;

/// Message id → the signed item, exactly as received.
const MESSAGES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("messages");
/// process ‖ slot → [`Assignment`] (the scheduler's log).
const LOG: TableDefinition<&[u8], &[u8]> = TableDefinition::new("log");
/// message ‖ process → slot: where a message sits in each log that holds it.
const SLOTS: TableDefinition<&[u8], u64> = TableDefinition::new("slots");
/// process → [`ProcessRecord`].
const PROCESSES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("processes");
/// process ‖ slot → result JSON.
const RESULTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("results");
/// process ‖ slot → nothing: messages whose result is an error. They left no state, so a
/// replay skips them instead of running (say) an endless loop again to its fuel limit.
const FAILED: TableDefinition<&[u8], ()> = TableDefinition::new("failed");
/// process → JSON object: the newest value of every key the process published with
/// `patch@1.0` sends (its results' `Patches`).
const PATCHES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("patches");
/// process ‖ tick timestamp → result JSON of a cron tick.
const CRON_RESULTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("cron_results");
/// process → nothing: processes whose cron ticks run in real time (see `crate::cron`).
const MONITORS: TableDefinition<&[u8], ()> = TableDefinition::new("monitors");
/// process ‖ slot → the cron-through timestamp (u64 big-endian) ‖ compressed memory snapshot
/// taken after that slot.
const CHECKPOINTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("checkpoints");
/// process → slot (u64 big-endian) ‖ hash-chain link ‖ assignment timestamp (u64 big-endian) of
/// a checkpoint of another node's process: where its log is taken up again (see `checkpoints`).
const CHECKPOINT_CHAINS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("checkpoint_chains");
/// module hash → wasm bytes (module items are in `modules::MODULE_ITEMS`).
const MODULES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("modules");
/// sequence → [`Delivery`] not yet handed to its target's scheduler (see `outbox`).
const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
/// lane ‖ sequence → nothing: the outbox by target, in order.
const OUTBOX_LANES: TableDefinition<&[u8], ()> = TableDefinition::new("outbox_lanes");
/// crank ‖ sequence → nothing: the outbox by the message that started each crank.
const OUTBOX_CRANKS: TableDefinition<&[u8], ()> = TableDefinition::new("outbox_cranks");
/// crank ‖ sequence → [`Undeliverable`]: deliveries that could not be made, with the reason.
const UNDELIVERABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("undeliverable_by_crank");
/// sequence → crank ‖ sequence: the undeliverable record in age order, for bounded retention.
const UNDELIVERABLE_ORDER: TableDefinition<u64, &[u8]> =
    TableDefinition::new("undeliverable_order");
/// Counters of the store (e.g. the next outbox sequence).
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// The undeliverable table of stores written before it was indexed by crank; dropped at open.
const UNDELIVERABLE_UNINDEXED: TableDefinition<u64, &[u8]> = TableDefinition::new("undeliverable");

/// Folds a result's `Patches` (objects of key → value) into what `process` has published.
pub(crate) fn merge_patches(
    txn: &redb::WriteTransaction,
    process: &ProcessId,
    patches: &[serde_json::Value],
) -> Result<(), StoreError> {
    let mut table = txn.open_table(PATCHES)?;
    let mut merged: serde_json::Map<String, serde_json::Value> = match table.get(&process.0[..])? {
        Some(v) => records::decode(v.value())?,
        None => Default::default(),
    };
    for patch in patches {
        if let serde_json::Value::Object(fields) = patch {
            for (key, value) in fields {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    table.insert(&process.0[..], &records::encode(&merged)[..])?;
    Ok(())
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("the store {0} is in use by another aos process")]
    Locked(String),
    #[error("store: {0}")]
    Db(String),
    #[error("store record is corrupt: {0}")]
    Corrupt(String),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.to_string())
            }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// The node's database. Cheap to clone; all clones share one file handle.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the database at `path`; fails with [`StoreError::Locked`] when another
    /// process has it open.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Db(e.to_string()))?;
        }
        match Database::create(path) {
            Ok(db) => Self::with_tables(db),
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                Err(StoreError::Locked(path.display().to_string()))
            }
            Err(e) => Err(StoreError::Db(e.to_string())),
        }
    }

    /// Opens (or creates) the database on any storage redb can use: memory, or a disk that
    /// fails on purpose (the storage-fault tests).
    pub fn open_with_backend(backend: impl redb::StorageBackend) -> Result<Self, StoreError> {
        let db = redb::Builder::new()
            .create_with_backend(backend)
            .map_err(|e| StoreError::Db(e.to_string()))?;
        Self::with_tables(db)
    }

    fn with_tables(db: Database) -> Result<Self, StoreError> {
        let txn = db.begin_write()?;
        // Create every table up front so readers never meet a missing one.
        txn.open_table(MESSAGES)?;
        txn.open_table(LOG)?;
        txn.open_table(SLOTS)?;
        txn.open_table(PROCESSES)?;
        txn.open_table(RESULTS)?;
        txn.open_table(FAILED)?;
        txn.open_table(PATCHES)?;
        txn.open_table(CRON_RESULTS)?;
        txn.open_table(MONITORS)?;
        txn.open_table(CHECKPOINTS)?;
        txn.open_table(CHECKPOINT_CHAINS)?;
        modules::create_tables(&txn)?;
        txn.open_table(OUTBOX)?;
        txn.open_table(OUTBOX_LANES)?;
        txn.open_table(OUTBOX_CRANKS)?;
        txn.open_table(UNDELIVERABLE)?;
        txn.open_table(UNDELIVERABLE_ORDER)?;
        txn.open_table(META)?;
        txn.delete_table(UNDELIVERABLE_UNINDEXED)?;
        outbox::reindex(&txn)?;
        txn.commit()?;
        Ok(Self { db: Arc::new(db) })
    }

    fn db(&self) -> &Database {
        &self.db
    }

    /// The signed item with this id.
    pub fn message(&self, id: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(MESSAGES)?;
        Ok(table.get(&id[..])?.map(|v| v.value().to_vec()))
    }

    pub fn process(&self, id: &ProcessId) -> Result<Option<ProcessRecord>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(PROCESSES)?;
        table
            .get(&id.0[..])?
            .map(|v| records::decode(v.value()))
            .transpose()
    }

    /// Every process, in id order.
    pub fn processes(&self) -> Result<Vec<ProcessRecord>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(PROCESSES)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (_, v) = entry?;
            out.push(records::decode(v.value())?);
        }
        Ok(out)
    }

    /// Assignments of `process` with `from <= slot <= to`, in slot order, at most `limit`.
    pub fn log(
        &self,
        process: &ProcessId,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<Assignment>, StoreError> {
        if from > to {
            return Ok(Vec::new());
        }
        let txn = self.db.begin_read()?;
        let table = txn.open_table(LOG)?;
        let (lo, hi) = (log_key(process, from), log_key(process, to));
        let mut out = Vec::new();
        for entry in table.range(&lo[..]..=&hi[..])?.take(limit) {
            let (_, v) = entry?;
            out.push(records::decode(v.value())?);
        }
        Ok(out)
    }

    /// The slot of `message` in `process`'s log.
    pub fn slot_of(
        &self,
        message: &[u8; 32],
        process: &ProcessId,
    ) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(SLOTS)?;
        let key = keys::slot_key(message, process);
        Ok(table.get(&key[..])?.map(|v| v.value()))
    }

    /// Every (process, slot) holding `message`.
    pub fn placements(&self, message: &[u8; 32]) -> Result<Vec<(ProcessId, u64)>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(SLOTS)?;
        let lo = keys::slot_key(message, &ProcessId([0; 32]));
        let hi = keys::slot_key(message, &ProcessId([0xff; 32]));
        let mut out = Vec::new();
        for entry in table.range(&lo[..]..=&hi[..])? {
            let (k, v) = entry?;
            let mut p = [0u8; 32];
            p.copy_from_slice(&k.value()[32..64]);
            out.push((ProcessId(p), v.value()));
        }
        Ok(out)
    }

    /// The stored result (JSON) of the message at `slot` of `process`.
    pub fn result_bytes(
        &self,
        process: &ProcessId,
        slot: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(RESULTS)?;
        Ok(table
            .get(&log_key(process, slot)[..])?
            .map(|v| v.value().to_vec()))
    }

    /// What `process` published with `patch@1.0` sends: the newest value of each key.
    pub fn patches(&self, process: &ProcessId) -> Result<serde_json::Value, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(PATCHES)?;
        match table.get(&process.0[..])? {
            Some(v) => records::decode(v.value()),
            None => Ok(serde_json::Value::Object(Default::default())),
        }
    }

    /// The slots of `process` in `from..=to` whose result is an error.
    pub fn failed_slots(
        &self,
        process: &ProcessId,
        from: u64,
        to: u64,
    ) -> Result<std::collections::BTreeSet<u64>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(FAILED)?;
        let (lo, hi) = (log_key(process, from), log_key(process, to));
        let mut out = std::collections::BTreeSet::new();
        for entry in table.range(&lo[..]..=&hi[..])? {
            let (k, _) = entry?;
            if let Some((_, slot)) = parse_log_key(k.value()) {
                out.insert(slot);
            }
        }
        Ok(out)
    }
}
