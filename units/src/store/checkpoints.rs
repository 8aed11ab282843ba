//! Checkpoints: a process's state after a slot, so the compute unit restores it instead of
//! replaying from slot 0. Only the newest checkpoint of each process is kept.

use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

use super::{CHECKPOINTS, ProcessId, Store, StoreError, log_key, parse_log_key};

/// A checkpoint as stored: the value is `cron_through` (u64 big-endian) ‖ snapshot bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The last slot the state covers.
    pub slot: u64,
    /// Every cron tick at or before this timestamp is in the state.
    pub cron_through: u64,
    /// The VM's snapshot bytes.
    pub snapshot: Vec<u8>,
}

impl Store {
    /// The newest checkpoint of `process`, if any.
    pub fn newest_checkpoint(&self, process: &ProcessId) -> Result<Option<Checkpoint>, StoreError> {
        let txn = self.db().begin_read()?;
        let checkpoints = txn.open_table(CHECKPOINTS)?;
        let (lo, hi) = (log_key(process, 0), log_key(process, u64::MAX));
        let Some(entry) = checkpoints.range(&lo[..]..=&hi[..])?.next_back() else {
            return Ok(None);
        };
        let (k, v) = entry?;
        let (_, slot) =
            parse_log_key(k.value()).ok_or_else(|| StoreError::Corrupt("checkpoint key".into()))?;
        let value = v.value();
        let (through, snapshot) = value
            .split_first_chunk::<8>()
            .ok_or_else(|| StoreError::Corrupt("checkpoint header".into()))?;
        Ok(Some(Checkpoint {
            slot,
            cron_through: u64::from_be_bytes(*through),
            snapshot: snapshot.to_vec(),
        }))
    }
}

/// Stores `checkpoint` as the one checkpoint of `process` (older ones are removed).
pub(crate) fn replace(
    txn: &WriteTransaction,
    process: &ProcessId,
    checkpoint: &Checkpoint,
) -> Result<(), StoreError> {
    let mut table = txn.open_table(CHECKPOINTS)?;
    let (lo, hi) = (log_key(process, 0), log_key(process, u64::MAX));
    let old: Vec<Vec<u8>> = table
        .range(&lo[..]..=&hi[..])?
        .map(|e| e.map(|(k, _)| k.value().to_vec()))
        .collect::<Result<_, _>>()?;
    for key in old {
        table.remove(&key[..])?;
    }
    let mut bytes = Vec::with_capacity(8 + checkpoint.snapshot.len());
    bytes.extend(checkpoint.cron_through.to_be_bytes());
    bytes.extend(&checkpoint.snapshot);
    table.insert(&log_key(process, checkpoint.slot)[..], &bytes[..])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_newest_checkpoint_of_a_process_is_kept() {
        let store = Store::open_with_backend(redb::backends::InMemoryBackend::new()).unwrap();
        let (mine, other) = (ProcessId([3; 32]), ProcessId([4; 32]));
        let at = |slot: u64| Checkpoint {
            slot,
            cron_through: slot * 10,
            snapshot: vec![slot as u8; 3],
        };
        let txn = store.db().begin_write().unwrap();
        replace(&txn, &mine, &at(5)).unwrap();
        replace(&txn, &other, &at(9)).unwrap();
        replace(&txn, &mine, &at(7)).unwrap();
        txn.commit().unwrap();
        assert_eq!(store.newest_checkpoint(&mine).unwrap(), Some(at(7)));
        assert_eq!(store.newest_checkpoint(&other).unwrap(), Some(at(9)));
        assert_eq!(store.newest_checkpoint(&ProcessId([5; 32])).unwrap(), None);
    }
}
