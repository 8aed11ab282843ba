//! Checkpoints: a process's state after a slot, so the compute unit restores it instead of
//! replaying from slot 0. Only the newest checkpoint of each process is kept.
//!
//! A checkpoint of a process another node schedules also keeps where it stands in that log
//! ([`ChainPoint`]): this store has no copy of the log to read the link from, and the compute
//! unit takes the remote log up again from there, trusting its own checkpoint.

use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

use super::{CHECKPOINT_CHAINS, CHECKPOINTS, ProcessId, Store, StoreError, log_key, parse_log_key};

/// The hash-chain link and assignment timestamp of a checkpoint's last slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainPoint {
    pub link: [u8; 32],
    pub timestamp: u64,
}

/// A checkpoint as stored: the value is `cron_through` (u64 big-endian) ‖ snapshot bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The last slot the state covers.
    pub slot: u64,
    /// Every cron tick at or before this timestamp is in the state.
    pub cron_through: u64,
    /// The VM's snapshot bytes.
    pub snapshot: Vec<u8>,
    /// Only for another node's process (this store's own log tells its link).
    pub chain: Option<ChainPoint>,
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
        let chains = txn.open_table(CHECKPOINT_CHAINS)?;
        let chain = match chains.get(&process.0[..])? {
            Some(v) => parse_chain(v.value())
                .filter(|(at, _)| *at == slot)
                .map(|(_, chain)| chain),
            None => None,
        };
        Ok(Some(Checkpoint {
            slot,
            cron_through: u64::from_be_bytes(*through),
            snapshot: snapshot.to_vec(),
            chain,
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
    let mut chains = txn.open_table(CHECKPOINT_CHAINS)?;
    match checkpoint.chain {
        Some(chain) => {
            let mut value = Vec::with_capacity(48);
            value.extend(checkpoint.slot.to_be_bytes());
            value.extend(chain.link);
            value.extend(chain.timestamp.to_be_bytes());
            chains.insert(&process.0[..], &value[..])?;
        }
        None => {
            chains.remove(&process.0[..])?;
        }
    }
    Ok(())
}

fn parse_chain(value: &[u8]) -> Option<(u64, ChainPoint)> {
    let (slot, rest) = value.split_first_chunk::<8>()?;
    let (link, rest) = rest.split_first_chunk::<32>()?;
    let timestamp = <[u8; 8]>::try_from(rest).ok()?;
    Some((
        u64::from_be_bytes(*slot),
        ChainPoint {
            link: *link,
            timestamp: u64::from_be_bytes(timestamp),
        },
    ))
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
            chain: (slot == 9).then_some(ChainPoint {
                link: [slot as u8; 32],
                timestamp: slot * 100,
            }),
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
