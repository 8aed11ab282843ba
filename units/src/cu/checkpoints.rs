//! Checkpoints: a process's memory snapshot with the slot, hash-chain link and cron position
//! it covers, written only over results already stored.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;

use super::*;
use crate::tasks::Stop;

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
        self.checkpoint_hot(None).await
    }

    /// [`Self::checkpoint_all`] until `stop` is raised (a periodic round: a node that is stopping
    /// checkpoints what the round left in its shutdown, rather than wait for the round).
    pub async fn checkpoint_all_until(&self, stop: &Stop) -> Result<(), CuError> {
        self.checkpoint_hot(Some(stop)).await
    }

    async fn checkpoint_hot(&self, stop: Option<&Stop>) -> Result<(), CuError> {
        // Not beside an eviction round: the shutdown's checkpoints come after the last one.
        let _round = self.inner.evicting.lock().await;
        let slots: Vec<(ProcessId, HotSlot)> = self
            .inner
            .hot
            .lock()
            .expect("hot lock")
            .iter()
            .map(|(p, entry)| (*p, entry.slot.clone()))
            .collect();
        self.checkpoint_slots(slots, false, stop).await
    }

    /// Checkpoints each of `slots` whose process moved since its last checkpoint. The writes are
    /// queued as the snapshots are taken, so many share one commit (one at a time, a round over
    /// hundreds of processes took as many commits); each state stays locked until its write has
    /// committed, and at most [`QUEUED_SNAPSHOT_BYTES`] of snapshots wait at once. `evict`: every
    /// state is dropped afterwards. A state whose checkpoint is refused is dropped either way;
    /// the first such error is returned once the others are done. A raised `stop` ends the round
    /// before its next process (what is queued is still committed).
    pub(super) async fn checkpoint_slots(
        &self,
        slots: Vec<(ProcessId, HotSlot)>,
        evict: bool,
        stop: Option<&Stop>,
    ) -> Result<(), CuError> {
        let mut queued: VecDeque<Queued> = VecDeque::new();
        let mut queued_bytes = 0;
        let mut first_error = None;
        for (process, slot) in slots {
            let mut guard = match stop {
                // Nor does it wait for a process that is being evaluated once the signal is up.
                Some(stop) => {
                    let mut stop = stop.clone();
                    tokio::select! {
                        biased;
                        _ = stop.wait() => break,
                        guard = slot.lock_owned() => guard,
                    }
                }
                None => slot.lock_owned().await,
            };
            let moved = guard
                .as_ref()
                .is_some_and(|hot| hot.since_checkpoint > 0 && hot.next_slot > 0);
            if moved {
                let hot = guard.as_mut().expect("moved");
                match self.queue_checkpoint(&process, hot).await {
                    Ok((bytes, written)) => {
                        queued_bytes += bytes;
                        queued.push_back(Queued {
                            guard,
                            bytes,
                            written,
                        });
                    }
                    Err(e) => {
                        *guard = None;
                        first_error.get_or_insert(e);
                    }
                }
            } else if evict {
                *guard = None;
            }
            while queued_bytes > QUEUED_SNAPSHOT_BYTES
                && let Some(oldest) = queued.pop_front()
            {
                queued_bytes -= oldest.bytes;
                if let Err(e) = oldest.finish(evict).await {
                    first_error.get_or_insert(e);
                }
            }
        }
        for waiting in queued {
            if let Err(e) = waiting.finish(evict).await {
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
        let (_, written) = self.queue_checkpoint(process, hot).await?;
        written.await?;
        hot.since_checkpoint = 0;
        Ok(())
    }

    /// Takes `hot`'s snapshot and queues its write (`hot.next_slot` > 0); returns the snapshot's
    /// size and the write's commit. Only over results that are stored: waits for the queued
    /// result commits, and gives up if one failed since this state was loaded (the caller then
    /// drops the state, and the process is recomputed from the previous checkpoint, storing what
    /// was lost).
    async fn queue_checkpoint(
        &self,
        process: &ProcessId,
        hot: &mut Hot,
    ) -> Result<(usize, QueuedWrite), CuError> {
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
        let bytes = checkpoint.snapshot.len();
        let process = *process;
        let written = self
            .inner
            .writer
            .enqueue(move |txn| store::checkpoints::replace(txn, &process, &checkpoint));
        Ok((bytes, Box::pin(written)))
    }
}

/// Snapshots queued for writing and not yet committed, at most, in one round of checkpoints:
/// what the round holds in memory beyond the hot states themselves.
const QUEUED_SNAPSHOT_BYTES: usize = 64 << 20;

type QueuedWrite = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

/// A checkpoint whose write is queued; its process's state stays locked until it has committed.
struct Queued {
    guard: tokio::sync::OwnedMutexGuard<Option<Hot>>,
    bytes: usize,
    written: QueuedWrite,
}

impl Queued {
    async fn finish(mut self, evict: bool) -> Result<(), CuError> {
        let written = self.written.await;
        match self.guard.as_mut() {
            Some(hot) if written.is_ok() && !evict => hot.since_checkpoint = 0,
            _ => *self.guard = None,
        }
        Ok(written?)
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
