//! Checkpoints: a process's memory snapshot with the slot, hash-chain link and cron position
//! it covers, written only over results already stored.

use super::*;

impl ComputeUnit {
    /// Holds no strong reference while it sleeps, so a dropped unit lets go of its store.
    pub(super) async fn checkpoint_periodically(unit: Weak<Inner>, period: Duration) {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is immediate
        loop {
            ticks.tick().await;
            let Some(inner) = unit.upgrade() else {
                return;
            };
            if let Err(e) = (Self { inner }).checkpoint_all().await {
                tracing::warn!("periodic checkpoint: {e}");
            }
        }
    }

    /// The slot of the newest stored checkpoint of `process`, if any.
    pub fn checkpoint_slot(&self, process: &ProcessId) -> Result<Option<u64>, CuError> {
        Ok(self.newest_checkpoint(process)?.map(|c| c.slot))
    }

    /// Writes a checkpoint for every hot process that moved since its last one (graceful shutdown).
    /// A process whose checkpoint is refused leaves the hot set (its state may cover results
    /// that were never stored; it is recomputed on next use); the others are still checkpointed.
    pub async fn checkpoint_all(&self) -> Result<(), CuError> {
        let slots: Vec<(ProcessId, HotSlot)> = self
            .inner
            .hot
            .lock()
            .expect("hot lock")
            .iter()
            .map(|(p, entry)| (*p, entry.slot.clone()))
            .collect();
        let mut first_error = None;
        for (process, slot) in slots {
            let mut guard = slot.lock().await;
            if let Some(hot) = guard.as_mut()
                && hot.since_checkpoint > 0
                && let Err(e) = self.checkpoint(&process, hot).await
            {
                *guard = None;
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    pub(super) fn newest_checkpoint(
        &self,
        process: &ProcessId,
    ) -> Result<Option<StoredCheckpoint>, CuError> {
        let Some(checkpoint) = self.inner.store.newest_checkpoint(process)? else {
            return Ok(None);
        };
        let slot = checkpoint.slot;
        let (link, timestamp) = match checkpoint.chain {
            // Another node's process: the checkpoint says where it stands in that log.
            Some(chain) => (chain.link, chain.timestamp),
            None => {
                let log = self.inner.store.log(process, slot, slot, 1)?;
                let assignment = log.first().ok_or_else(|| {
                    StoreError::Corrupt(format!("checkpoint at slot {slot} has no log entry"))
                })?;
                let link = b64::decode_32(&assignment.hash_chain)
                    .ok_or_else(|| StoreError::Corrupt("hash chain".into()))?;
                (link, assignment.timestamp)
            }
        };
        Ok(Some(StoredCheckpoint {
            slot,
            link,
            timestamp,
            cron_through: checkpoint.cron_through,
            snapshot: checkpoint.snapshot,
        }))
    }

    pub(super) async fn checkpoint(
        &self,
        process: &ProcessId,
        hot: &mut Hot,
    ) -> Result<(), CuError> {
        if hot.next_slot == 0 {
            return Ok(());
        }
        // Only over results that are stored: wait for the queued commits, and give up if one
        // failed since this state was loaded (the caller then drops the state, and the process
        // is recomputed from the previous checkpoint, storing what was lost).
        self.settle().await;
        if self.failures() != hot.failures_seen {
            return Err(CuError::Store(StoreError::Db(
                "a result commit failed; checkpoint not taken".into(),
            )));
        }
        let checkpoint = store::Checkpoint {
            slot: hot.next_slot - 1,
            cron_through: hot.cron_through,
            snapshot: hot
                .process
                .snapshot()
                .map_err(|e| CuError::Vm(e.to_string()))?
                .to_bytes(),
            // Another node's log is not in this store: the checkpoint keeps where it stands.
            chain: hot.remote.as_ref().map(|_| store::ChainPoint {
                link: hot.link,
                timestamp: hot.record.last_timestamp,
            }),
        };
        let process = *process;
        self.inner
            .writer
            .write(move |txn| store::checkpoints::replace(txn, &process, &checkpoint))
            .await?;
        hot.since_checkpoint = 0;
        Ok(())
    }
}

/// A stored checkpoint with the hash-chain link it continues from.
pub(super) struct StoredCheckpoint {
    pub(super) slot: u64,
    /// The hash-chain link at `slot`, and its assignment's timestamp.
    pub(super) link: [u8; 32],
    pub(super) timestamp: u64,
    pub(super) cron_through: u64,
    pub(super) snapshot: Vec<u8>,
}
