//! The monitored processes (their cron ticks run in real time, see `crate::mu`), kept durably so
//! a restarted node keeps monitoring them.

use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

use super::{MONITORS, ProcessId, Store, StoreError};

impl Store {
    /// Every monitored process, in id order.
    pub fn monitored(&self) -> Result<Vec<ProcessId>, StoreError> {
        let txn = self.db().begin_read()?;
        let table = txn.open_table(MONITORS)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, _) = entry?;
            if let Ok(raw) = <[u8; 32]>::try_from(k.value()) {
                out.push(ProcessId(raw));
            }
        }
        Ok(out)
    }
}

/// Starts monitoring `process` (no change if it is already).
pub(crate) fn add(txn: &WriteTransaction, process: &ProcessId) -> Result<(), StoreError> {
    txn.open_table(MONITORS)?.insert(&process.0[..], ())?;
    Ok(())
}

/// Stops monitoring `process` (no change if it was not).
pub(crate) fn remove(txn: &WriteTransaction, process: &ProcessId) -> Result<(), StoreError> {
    txn.open_table(MONITORS)?.remove(&process.0[..])?;
    Ok(())
}
