//! Results of messages (by slot) and of cron ticks (by tick time), the record of failed slots,
//! and the bounded retention of cron results, behind typed methods.

use crate::result::ProcessResult;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::{CRON_RESULTS, FAILED, RESULTS, Store, StoreError, log_key, parse_log_key, records};

/// Which end of a range of results comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
}

/// What a result is the result of: the message at a slot, or the cron tick at a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultOf {
    Slot(u64),
    Tick(u64),
}

impl ResultOf {
    fn table(self) -> (TableDefinition<'static, &'static [u8], &'static [u8]>, u64) {
        match self {
            Self::Slot(slot) => (RESULTS, slot),
            Self::Tick(timestamp) => (CRON_RESULTS, timestamp),
        }
    }
}

impl Store {
    /// Results of `process` with `from <= slot <= to`, the first `limit` in `order`.
    pub fn results_range(
        &self,
        process: &super::ProcessId,
        from: u64,
        to: u64,
        limit: usize,
        order: Order,
    ) -> Result<Vec<(u64, ProcessResult)>, StoreError> {
        self.range_of(RESULTS, process, from, to, limit, order)
    }

    /// Results of `process`'s cron ticks at `from <= timestamp <= to`, the first `limit` in
    /// `order`.
    pub fn cron_results_range(
        &self,
        process: &super::ProcessId,
        from: u64,
        to: u64,
        limit: usize,
        order: Order,
    ) -> Result<Vec<(u64, ProcessResult)>, StoreError> {
        self.range_of(CRON_RESULTS, process, from, to, limit, order)
    }

    /// Rows of a `process ‖ u64`-keyed result table with `from <= key <= to`, the first `limit`
    /// in `order` (read from the right end, so the newest few cost no more than the oldest few).
    fn range_of(
        &self,
        table: TableDefinition<&[u8], &[u8]>,
        process: &super::ProcessId,
        from: u64,
        to: u64,
        limit: usize,
        order: Order,
    ) -> Result<Vec<(u64, ProcessResult)>, StoreError> {
        let txn = self.db().begin_read()?;
        let table = txn.open_table(table)?;
        let (lo, hi) = (log_key(process, from), log_key(process, to));
        let range = table.range(&lo[..]..=&hi[..])?;
        let rows: Box<dyn Iterator<Item = _>> = match order {
            Order::Ascending => Box::new(range),
            Order::Descending => Box::new(range.rev()),
        };
        let mut out = Vec::new();
        for entry in rows.take(limit) {
            let (k, v) = entry?;
            let (_, key) =
                parse_log_key(k.value()).ok_or_else(|| StoreError::Corrupt("result key".into()))?;
            out.push((key, records::decode(v.value())?));
        }
        Ok(out)
    }
}

/// Stores `result` of `process` at `at` unless one is stored there already (a replay after a
/// restart computes it again); returns whether it was new.
pub(crate) fn put_result(
    txn: &WriteTransaction,
    process: &super::ProcessId,
    at: ResultOf,
    result: &ProcessResult,
) -> Result<bool, StoreError> {
    let (table, key) = at.table();
    let mut table = txn.open_table(table)?;
    let key = log_key(process, key);
    if table.get(&key[..])?.is_some() {
        return Ok(false);
    }
    table.insert(&key[..], &records::encode(result)[..])?;
    Ok(true)
}

/// Records that the message at `slot` failed (a replay steps over it).
pub(crate) fn mark_failed(
    txn: &WriteTransaction,
    process: &super::ProcessId,
    slot: u64,
) -> Result<(), StoreError> {
    txn.open_table(FAILED)?
        .insert(&log_key(process, slot)[..], ())?;
    Ok(())
}

/// Deletes all but the newest `keep` stored cron results of `process`, inside `txn`; returns how
/// many went. Results are keyed by tick time, so "newest" is the key order. The cost is a walk
/// over the `keep` newest keys, so callers prune once per batch of ticks, not per tick.
pub(crate) fn prune_cron_results(
    txn: &WriteTransaction,
    process: &super::ProcessId,
    keep: usize,
) -> Result<u64, StoreError> {
    let mut table = txn.open_table(CRON_RESULTS)?;
    let (lo, hi) = (log_key(process, 0), log_key(process, u64::MAX));
    let oldest_kept_out = table
        .range(&lo[..]..=&hi[..])?
        .rev()
        .nth(keep)
        .transpose()?
        .map(|(k, _)| k.value().to_vec());
    let Some(cut) = oldest_kept_out else {
        return Ok(0);
    };
    let mut pruned = 0;
    table.retain_in(&lo[..]..=&cut[..], |_, _| {
        pruned += 1;
        false
    })?;
    Ok(pruned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ProcessId;

    #[test]
    fn pruning_keeps_the_newest_results_of_that_process_only() {
        let store = Store::open_with_backend(redb::backends::InMemoryBackend::new()).unwrap();
        let (mine, other) = (ProcessId([1; 32]), ProcessId([2; 32]));
        let txn = store.db().begin_write().unwrap();
        for at in 1..=10u64 {
            for p in [&mine, &other] {
                assert!(
                    put_result(&txn, p, ResultOf::Tick(at * 100), &ProcessResult::default())
                        .unwrap()
                );
            }
        }
        assert!(!put_result(&txn, &mine, ResultOf::Tick(100), &ProcessResult::default()).unwrap());
        assert_eq!(prune_cron_results(&txn, &mine, 3).unwrap(), 7);
        assert_eq!(prune_cron_results(&txn, &mine, 3).unwrap(), 0);
        assert_eq!(prune_cron_results(&txn, &other, 20).unwrap(), 0);
        txn.commit().unwrap();
        let left = |p: &ProcessId| -> Vec<u64> {
            store
                .cron_results_range(p, 0, u64::MAX, usize::MAX, Order::Ascending)
                .unwrap()
                .into_iter()
                .map(|(at, _)| at)
                .collect()
        };
        assert_eq!(left(&mine), vec![800, 900, 1000]);
        assert_eq!(left(&other).len(), 10);
        let newest = store
            .cron_results_range(&other, 0, u64::MAX, 2, Order::Descending)
            .unwrap();
        assert_eq!(
            newest.iter().map(|(at, _)| *at).collect::<Vec<_>>(),
            [1000, 900]
        );
    }
}
