//! The outbox (deliveries not yet in their target's log) and the record of deliveries that could
//! not be made, behind typed methods: nothing outside `store/` opens these tables.
//!
//! Rows are indexed two more ways so that neither the cranker nor a waiting client ever scans the
//! whole outbox: by *lane* (the target a delivery goes to: each lane is delivered in order, lanes
//! independently of each other) and by *crank* (the user message that set it off). Sequence
//! numbers come from a durable counter, so they never repeat, even after the outbox ran empty.

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, WriteTransaction};

use super::records::{self, Delivery, Undeliverable};
use super::{META, OUTBOX, OUTBOX_CRANKS, OUTBOX_LANES, UNDELIVERABLE, UNDELIVERABLE_ORDER};
use super::{Store, StoreError};

/// Undeliverable records are kept for this many outbox sequence numbers after their own; older
/// ones are pruned as new ones come, so the table stays bounded on a node that runs for years.
pub const UNDELIVERABLE_RETENTION: u64 = 1_000_000;

/// Rows pruned per new undeliverable record: more than one, so a backlog shrinks.
const PRUNE_PER_INSERT: usize = 8;

const NEXT_SEQ: &str = "outbox_next_seq";

/// A 32-byte key naming a crank (the id of the message that started it).
pub fn crank_key(pushed_for: &str) -> [u8; 32] {
    crate::message::b64::decode_32(pushed_for).unwrap_or_else(|| {
        use sha2::{Digest, Sha256};
        Sha256::digest(pushed_for.as_bytes()).into()
    })
}

fn pair_key(prefix: &[u8; 32], seq: u64) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..32].copy_from_slice(prefix);
    key[32..].copy_from_slice(&seq.to_be_bytes());
    key
}

fn seq_of(key: &[u8]) -> u64 {
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&key[32..40]);
    u64::from_be_bytes(seq)
}

/// Queues `delivery` (inside the commit of the result that produced it); returns its sequence.
pub(crate) fn push(txn: &WriteTransaction, delivery: &Delivery) -> Result<u64, StoreError> {
    let mut meta = txn.open_table(META)?;
    let seq = meta.get(NEXT_SEQ)?.map_or(0, |v| v.value());
    meta.insert(NEXT_SEQ, seq + 1)?;
    txn.open_table(OUTBOX)?
        .insert(seq, &records::encode(delivery)[..])?;
    txn.open_table(OUTBOX_LANES)?
        .insert(&pair_key(&delivery.lane(), seq)[..], ())?;
    txn.open_table(OUTBOX_CRANKS)?
        .insert(&pair_key(&crank_key(&delivery.pushed_for), seq)[..], ())?;
    Ok(seq)
}

/// Removes delivery `seq` from the outbox (it was made, or given up); returns it.
pub(crate) fn fulfil(txn: &WriteTransaction, seq: u64) -> Result<Option<Delivery>, StoreError> {
    let Some(bytes) = txn
        .open_table(OUTBOX)?
        .remove(seq)?
        .map(|v| v.value().to_vec())
    else {
        return Ok(None);
    };
    let delivery: Delivery = records::decode(&bytes)?;
    txn.open_table(OUTBOX_LANES)?
        .remove(&pair_key(&delivery.lane(), seq)[..])?;
    txn.open_table(OUTBOX_CRANKS)?
        .remove(&pair_key(&crank_key(&delivery.pushed_for), seq)[..])?;
    Ok(Some(delivery))
}

/// Moves delivery `seq` from the outbox to the undeliverable record, with `reason`.
pub(crate) fn give_up(txn: &WriteTransaction, seq: u64, reason: &str) -> Result<(), StoreError> {
    give_up_keeping(txn, seq, reason, UNDELIVERABLE_RETENTION)
}

/// [`give_up`], keeping records for `retention` sequence numbers.
fn give_up_keeping(
    txn: &WriteTransaction,
    seq: u64,
    reason: &str,
    retention: u64,
) -> Result<(), StoreError> {
    let Some(delivery) = fulfil(txn, seq)? else {
        return Ok(());
    };
    let key = pair_key(&crank_key(&delivery.pushed_for), seq);
    let record = Undeliverable {
        delivery,
        reason: reason.to_owned(),
    };
    txn.open_table(UNDELIVERABLE)?
        .insert(&key[..], &records::encode(&record)[..])?;
    let mut order = txn.open_table(UNDELIVERABLE_ORDER)?;
    order.insert(seq, &key[..])?;
    let cutoff = seq.saturating_sub(retention);
    let old: Vec<(u64, Vec<u8>)> = order
        .range(..cutoff)?
        .take(PRUNE_PER_INSERT)
        .map(|e| e.map(|(k, v)| (k.value(), v.value().to_vec())))
        .collect::<Result<_, _>>()?;
    let mut undeliverable = txn.open_table(UNDELIVERABLE)?;
    for (old_seq, old_key) in old {
        order.remove(old_seq)?;
        undeliverable.remove(&old_key[..])?;
    }
    Ok(())
}

impl Store {
    /// Up to `limit` lanes that have deliveries waiting, in lane order.
    pub fn outbox_lanes(&self, limit: usize) -> Result<Vec<[u8; 32]>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(OUTBOX_LANES)?;
        let mut lanes = Vec::new();
        let mut from = [0u8; 40];
        while lanes.len() < limit {
            let Some(entry) = table.range(&from[..]..)?.next() else {
                break;
            };
            let (key, _) = entry?;
            let mut lane = [0u8; 32];
            lane.copy_from_slice(&key.value()[..32]);
            lanes.push(lane);
            // Skip the rest of this lane: the next key after lane ‖ u64::MAX.
            match next_prefix(&lane) {
                Some(next) => from = pair_key(&next, 0),
                None => break,
            }
        }
        Ok(lanes)
    }

    /// The first `limit` deliveries waiting in `lane`, oldest first.
    pub fn outbox_lane(
        &self,
        lane: &[u8; 32],
        limit: usize,
    ) -> Result<Vec<(u64, Delivery)>, StoreError> {
        let txn = self.db.begin_read()?;
        let index = txn.open_table(OUTBOX_LANES)?;
        let outbox = txn.open_table(OUTBOX)?;
        let (lo, hi) = (pair_key(lane, 0), pair_key(lane, u64::MAX));
        let mut out = Vec::new();
        for entry in index.range(&lo[..]..=&hi[..])?.take(limit) {
            let seq = seq_of(entry?.0.value());
            if let Some(v) = outbox.get(seq)? {
                out.push((seq, records::decode(v.value())?));
            }
        }
        Ok(out)
    }

    /// Whether anything sent on behalf of `crank` is still waiting in the outbox.
    pub fn outbox_has_crank(&self, crank: &str) -> Result<bool, StoreError> {
        let txn = self.db.begin_read()?;
        let index = txn.open_table(OUTBOX_CRANKS)?;
        let key = crank_key(crank);
        let (lo, hi) = (pair_key(&key, 0), pair_key(&key, u64::MAX));
        Ok(index.range(&lo[..]..=&hi[..])?.next().is_some())
    }

    /// The first `limit` deliveries of `crank` still waiting in the outbox, oldest first.
    pub fn outbox_of_crank(
        &self,
        crank: &str,
        limit: usize,
    ) -> Result<Vec<(u64, Delivery)>, StoreError> {
        let txn = self.db.begin_read()?;
        let index = txn.open_table(OUTBOX_CRANKS)?;
        let outbox = txn.open_table(OUTBOX)?;
        let key = crank_key(crank);
        let (lo, hi) = (pair_key(&key, 0), pair_key(&key, u64::MAX));
        let mut out = Vec::new();
        for entry in index.range(&lo[..]..=&hi[..])?.take(limit) {
            let seq = seq_of(entry?.0.value());
            if let Some(v) = outbox.get(seq)? {
                out.push((seq, records::decode(v.value())?));
            }
        }
        Ok(out)
    }

    /// Deliveries waiting in the outbox.
    pub fn outbox_len(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(OUTBOX)?.len()?)
    }

    /// The deliveries of `crank` that could not be made, in the order they were given up.
    pub fn undeliverable_of(&self, crank: &str) -> Result<Vec<Undeliverable>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(UNDELIVERABLE)?;
        let key = crank_key(crank);
        let (lo, hi) = (pair_key(&key, 0), pair_key(&key, u64::MAX));
        let mut out = Vec::new();
        for entry in table.range(&lo[..]..=&hi[..])? {
            out.push(records::decode(entry?.1.value())?);
        }
        Ok(out)
    }

    /// Every delivery that could not be made (and is still retained), oldest first.
    pub fn undeliverable(&self) -> Result<Vec<Undeliverable>, StoreError> {
        let txn = self.db.begin_read()?;
        let order = txn.open_table(UNDELIVERABLE_ORDER)?;
        let table = txn.open_table(UNDELIVERABLE)?;
        let mut out = Vec::new();
        for entry in order.iter()? {
            let (_, key) = entry?;
            if let Some(v) = table.get(key.value())? {
                out.push(records::decode(v.value())?);
            }
        }
        Ok(out)
    }
}

/// The smallest 32-byte value greater than every key starting with `prefix`.
fn next_prefix(prefix: &[u8; 32]) -> Option<[u8; 32]> {
    let mut next = *prefix;
    for byte in next.iter_mut().rev() {
        if *byte == 0xff {
            *byte = 0;
        } else {
            *byte += 1;
            return Some(next);
        }
    }
    None
}

/// Rebuilds the lane and crank indexes of an outbox written before they existed.
pub(crate) fn reindex(txn: &WriteTransaction) -> Result<(), StoreError> {
    let rows: Vec<(u64, Delivery)> = {
        let outbox = txn.open_table(OUTBOX)?;
        let lanes = txn.open_table(OUTBOX_LANES)?;
        if outbox.is_empty()? || !lanes.is_empty()? {
            return Ok(());
        }
        outbox
            .iter()?
            .map(|e| {
                let (k, v) = e?;
                Ok((k.value(), records::decode(v.value())?))
            })
            .collect::<Result<_, StoreError>>()?
    };
    let mut lanes = txn.open_table(OUTBOX_LANES)?;
    let mut cranks = txn.open_table(OUTBOX_CRANKS)?;
    let mut next = 0;
    for (seq, delivery) in rows {
        lanes.insert(&pair_key(&delivery.lane(), seq)[..], ())?;
        cranks.insert(&pair_key(&crank_key(&delivery.pushed_for), seq)[..], ())?;
        next = seq + 1;
    }
    let mut meta = txn.open_table(META)?;
    if meta.get(NEXT_SEQ)?.map_or(0, |v| v.value()) < next {
        meta.insert(NEXT_SEQ, next)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Delivery, DeliveryKind};

    fn delivery(crank: &str) -> Delivery {
        Delivery {
            from_process: "sender".into(),
            from_slot: 1,
            from_tick: None,
            pushed_for: crank.into(),
            depth: 1,
            kind: DeliveryKind::Message {
                body: serde_json::json!({"Target": "nowhere"}),
            },
        }
    }

    #[test]
    fn undeliverable_records_are_found_by_crank_and_old_ones_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("node.redb")).unwrap();
        let txn = store.db().begin_write().unwrap();
        for n in 0..40u64 {
            let crank = if n % 2 == 0 { "even" } else { "odd" };
            let seq = push(&txn, &delivery(crank)).unwrap();
            assert_eq!(seq, n, "sequences come from a durable counter");
            give_up_keeping(&txn, seq, &format!("reason {n}"), 10).unwrap();
        }
        txn.commit().unwrap();
        assert_eq!(store.outbox_len().unwrap(), 0);
        assert!(!store.outbox_has_crank("even").unwrap());
        // Each insert prunes up to 8 records older than the window: a bounded table.
        let all = store.undeliverable().unwrap();
        assert!(all.len() <= 11, "{}", all.len());
        assert_eq!(all.last().unwrap().reason, "reason 39");
        let odd = store.undeliverable_of("odd").unwrap();
        assert!(!odd.is_empty());
        assert!(odd.iter().all(|u| u.delivery.pushed_for == "odd"));
        assert!(store.undeliverable_of("none").unwrap().is_empty());
    }

    #[test]
    fn next_prefix_carries() {
        let mut p = [0u8; 32];
        p[31] = 0xff;
        let n = next_prefix(&p).unwrap();
        assert_eq!(n[30], 1);
        assert_eq!(n[31], 0);
        assert_eq!(next_prefix(&[0xff; 32]), None);
    }
}
