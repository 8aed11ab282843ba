//! The commit queue: results and the deliveries they produce are written as one commit per
//! batch, in queue order, while the next batch evaluates.

use super::eval::Evaluated;
use super::*;

impl ComputeUnit {
    /// Waits until every result commit queued so far is done, so what was evaluated (results
    /// and the deliveries they produced) can be read from the store.
    pub async fn settle(&self) {
        let target = *self.inner.queued.lock().expect("queued lock");
        let mut durable = self.inner.durable.subscribe();
        // Only fails if the sender is gone, which cannot happen while `self` holds it.
        let _ = durable.wait_for(|done| *done >= target).await;
    }

    /// [`Self::settle`], then an error if a result commit failed since `failures` was read: what
    /// was computed is not in the store (it is computed again on the next read).
    pub(super) async fn settle_stored(&self, failures: u64) -> Result<(), CuError> {
        self.settle().await;
        if self.failures() != failures {
            return Err(CuError::Store(StoreError::Db(
                "results were computed but could not be stored; they will be computed again".into(),
            )));
        }
        Ok(())
    }

    /// How many queued result commits have failed since this unit started.
    pub(super) fn failures(&self) -> u64 {
        self.inner
            .failed_commits
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A receiver that changes whenever a result commit is done (the messenger's cranker
    /// listens to it: new deliveries may be in the outbox).
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.durable.subscribe()
    }

    /// Queues a batch of results with their deliveries as one commit, without waiting for it:
    /// the next batch evaluates while this one is written. Readers wait with [`Self::settle`].
    /// Slots whose result is already stored (a replay after restart) are skipped: their
    /// deliveries were made back then. If the commit fails, the process leaves the hot set, so
    /// its next use recomputes from the store what was lost. Without `sends` (another node's
    /// process) nothing goes to the outbox: the owner's node delivers what its results send, and
    /// a second delivery signed by this node would be another item, a duplicate.
    pub(super) fn queue_commit(&self, process: &ProcessId, batch: Vec<Evaluated>, sends: bool) {
        if batch.is_empty() {
            return;
        }
        let process = *process;
        let keep_ticks = self.inner.config.cron_results_kept;
        let has_ticks = batch.iter().any(|e| matches!(e.at, Source::Tick(_)));
        let job = move |txn: &store::WriteTxn| {
            if has_ticks {
                store::results::prune_cron_results(
                    txn,
                    &process,
                    keep_ticks.saturating_sub(batch.len()),
                )?;
            }
            let sender = process.to_string();
            for evaluated in batch {
                let at = match evaluated.at {
                    Source::Slot(slot) => ResultOf::Slot(slot),
                    Source::Tick(timestamp) => ResultOf::Tick(timestamp),
                };
                if !store::results::put_result(txn, &process, at, &evaluated.result)? {
                    continue;
                }
                // A failed message leaves no trace: whatever its result lists is not sent.
                if evaluated.result.failed() {
                    if let ResultOf::Slot(slot) = at {
                        store::results::mark_failed(txn, &process, slot)?;
                    }
                    continue;
                }
                if !evaluated.result.patches.is_empty() {
                    store::merge_patches(txn, &process, &evaluated.result.patches)?;
                }
                if !sends {
                    continue;
                }
                for delivery in
                    crank::deliveries(&sender, evaluated.at, &evaluated.origin, &evaluated.result)
                {
                    store::outbox::push(txn, &delivery)?;
                }
            }
            Ok(())
        };
        let (number, committed) = {
            let mut queued = self.inner.queued.lock().expect("queued lock");
            *queued += 1;
            (*queued, self.inner.writer.enqueue(job))
        };
        let inner = self.inner.clone();
        tokio::spawn(async move {
            if let Err(e) = committed.await {
                tracing::error!(%process, "results were not stored: {e}");
                inner
                    .failed_commits
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                inner.hot.lock().expect("hot lock").remove(&process);
            }
            inner
                .durable
                .send_modify(|done| *done = (*done).max(number));
        });
    }
}
