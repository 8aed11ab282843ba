//! The scheduler's tables inside a write: signed items by id, process records, and each
//! process's log with the index of where every message sits. The scheduler decides slots,
//! timestamps and links (`crate::su`); these only read and write what it decided.

use redb::{ReadableTable, WriteTransaction};

use super::{
    Assignment, LOG, MESSAGES, PROCESSES, ProcessId, ProcessRecord, SLOTS, StoreError, log_key,
    records, slot_key,
};

/// Whether an item with this id is stored.
pub(crate) fn has_message(txn: &WriteTransaction, id: &[u8; 32]) -> Result<bool, StoreError> {
    Ok(txn.open_table(MESSAGES)?.get(&id[..])?.is_some())
}

/// Stores a signed item, exactly as received.
pub(crate) fn put_message(
    txn: &WriteTransaction,
    id: &[u8; 32],
    bytes: &[u8],
) -> Result<(), StoreError> {
    txn.open_table(MESSAGES)?.insert(&id[..], bytes)?;
    Ok(())
}

/// Whether `message` already has a slot in `process`'s log.
pub(crate) fn is_placed(
    txn: &WriteTransaction,
    message: &[u8; 32],
    process: &ProcessId,
) -> Result<bool, StoreError> {
    Ok(txn
        .open_table(SLOTS)?
        .get(&slot_key(message, process)[..])?
        .is_some())
}

/// The record of `process`, as this write sees it.
pub(crate) fn process(
    txn: &WriteTransaction,
    process: &ProcessId,
) -> Result<Option<ProcessRecord>, StoreError> {
    txn.open_table(PROCESSES)?
        .get(&process.0[..])?
        .map(|v| records::decode::<ProcessRecord>(v.value()))
        .transpose()
}

pub(crate) fn put_process(
    txn: &WriteTransaction,
    process: &ProcessId,
    record: &ProcessRecord,
) -> Result<(), StoreError> {
    txn.open_table(PROCESSES)?
        .insert(&process.0[..], &records::encode(record)[..])?;
    Ok(())
}

/// Appends `assignment` (of `message`) to `process`'s log at its slot.
pub(crate) fn append(
    txn: &WriteTransaction,
    process: &ProcessId,
    message: &[u8; 32],
    assignment: &Assignment,
) -> Result<(), StoreError> {
    txn.open_table(LOG)?.insert(
        &log_key(process, assignment.slot)[..],
        &records::encode(assignment)[..],
    )?;
    txn.open_table(SLOTS)?
        .insert(&slot_key(message, process)[..], assignment.slot)?;
    Ok(())
}
