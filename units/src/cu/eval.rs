//! Evaluation: loading a process (checkpoint or spawn), and running its log and cron ticks
//! through the VM in slot order, checking the hash chain.
//!
//! This store's log is read on the blocking thread that evaluates it, as far as it goes;
//! another node's is fetched a page at a time before the batch (the source verifies it) and
//! the batch evaluates that page.

use super::*;
use crate::schedule::LogEntry;
use crate::store::Assignment;

/// The log a batch evaluates.
pub(super) enum Log {
    /// This store's, read by the batch itself.
    Local,
    /// A page of another node's log, fetched and verified beforehand.
    Fetched(Vec<LogEntry>),
}

impl ComputeUnit {
    /// Evaluates `process` up to and including `slot` (or to the end of its log if shorter).
    pub(super) async fn evaluate_through(
        &self,
        process: &ProcessId,
        slot: u64,
    ) -> Result<HotUse, CuError> {
        self.evaluate(process, slot, None).await
    }

    pub(super) async fn evaluate(
        &self,
        process: &ProcessId,
        slot: u64,
        fence: Option<u64>,
    ) -> Result<HotUse, CuError> {
        self.make_room_for(process).await;
        let hot_slot = self.hot_slot(process);
        let mut guard = hot_slot.clone().lock_owned().await;
        if guard.is_none() {
            *guard = Some(self.load(process).await?);
        }
        loop {
            let hot = guard.as_mut().expect("loaded above");
            let ticks_due = fence.is_some_and(|f| {
                hot.cron
                    .as_ref()
                    .is_some_and(|c| c.next_after(hot.cron_through).is_some_and(|t| t <= f))
            });
            if hot.next_slot > slot && !ticks_due {
                break;
            }
            if fence.is_none() && hot.remote.is_none() && hot.next_slot >= hot.record.next_slot {
                // The record we hold is stale (the slot asked for was scheduled after it was
                // read): refresh it here rather than hand the VM's thread an empty batch.
                hot.record = self.record(process)?;
                if hot.next_slot >= hot.record.next_slot {
                    break;
                }
            }
            // Another node's log: the next page, up to `slot` only (its end is not known without
            // asking, and a result needs only the log before it).
            let (log, page_end) = match &hot.remote {
                None => (Log::Local, None),
                Some(source) => {
                    let page = source
                        .page(process, hot.next_slot, slot, self.inner.config.batch)
                        .await
                        .map_err(|e| sources::remote_error(source, e))?;
                    let Some(end) = page.entries.last().map(|e| e.assignment.slot + 1) else {
                        break;
                    };
                    let end = (!page.has_next).then_some(end);
                    (Log::Fetched(page.entries), Some(end))
                }
            };
            let this = self.clone();
            let pid = *process;
            let mut taken = guard.take().expect("loaded above");
            // Evaluate everything already scheduled, not just up to `slot`: callers waiting for
            // later slots are queued behind this lock, and one big batch shares one commit.
            let (back, evaluated) = tokio::task::spawn_blocking(move || {
                let step = this.evaluate_batch(&pid, &mut taken, u64::MAX, fence, log);
                (taken, step)
            })
            .await
            .map_err(|e| CuError::Vm(e.to_string()))?;
            *guard = Some(back);
            let batch = evaluated?;
            let hot = guard.as_mut().expect("put back above");
            let progressed = !batch.is_empty();
            self.queue_commit(process, batch, hot.remote.is_none());
            if hot.since_checkpoint >= self.inner.config.checkpoint_every
                && let Err(e) = self.checkpoint(process, hot).await
            {
                *guard = None;
                return Err(e);
            }
            if let Some(end) = page_end {
                // Another node's log goes on while its pages say so; a page the batch's budget
                // cut short is asked for again from where it stopped.
                if end.is_some_and(|end| hot.next_slot >= end) {
                    break;
                }
                continue;
            }
            if hot.next_slot == hot.record.next_slot {
                // The record we hold may be stale: refresh to see newly scheduled messages.
                hot.record = self.record(process)?;
                if hot.next_slot == hot.record.next_slot && !progressed {
                    break;
                }
            }
        }
        let bytes = guard.as_ref().map_or(0, Hot::bytes);
        drop(guard);
        self.note_memory(process, &hot_slot, bytes);
        Ok(HotUse {
            slot: Some(hot_slot),
            cu: self.clone(),
        })
    }

    /// Restores the newest checkpoint (or spawns fresh); replay happens in `evaluate_through`.
    pub(super) async fn load(&self, process: &ProcessId) -> Result<Hot, CuError> {
        let (mut record, remote) = self.resolve(process).await?;
        let module = self.module(&record.module)?;
        // The scheduler refuses spawns whose limits are not limits; a process stored before it
        // did runs under the module's.
        let module = match ProcessLimits::of_tags(&record.tags) {
            Ok(limits) => limits.apply(&module),
            Err(e) => {
                tracing::warn!(%process, "ignoring the spawn's limits: {e}");
                module
            }
        };
        let checkpoint = if self.inner.config.ignore_checkpoints {
            None
        } else {
            self.newest_checkpoint(process)?
        };
        if remote.is_some() {
            // Another node's record tells its log's tail as evaluated here, which is where
            // the state starts (the batches move it on).
            (
                record.next_slot,
                record.last_timestamp,
                record.last_hash_chain,
            ) = match &checkpoint {
                Some(c) => (c.slot + 1, c.timestamp, b64::encode(c.link)),
                None => (0, 0, String::new()),
            };
        }
        let vm = self.inner.vm.clone();
        let failures_seen = self.failures();
        let env = env_json(&record, &self.loaded(&record.module)?.meta)
            .to_string()
            .into();
        tokio::task::spawn_blocking(move || {
            let (instance, next_slot, link, cron_through) = match checkpoint {
                Some(checkpoint) => {
                    let snapshot = aos_vm::Snapshot::from_bytes(&checkpoint.snapshot)
                        .map_err(|e| CuError::Vm(e.to_string()))?;
                    let instance = vm
                        .restore(&module, &snapshot)
                        .map_err(|e| CuError::Vm(e.to_string()))?;
                    (
                        instance,
                        checkpoint.slot + 1,
                        checkpoint.link,
                        checkpoint.cron_through,
                    )
                }
                None => {
                    let instance = vm.spawn(&module).map_err(|e| CuError::Vm(e.to_string()))?;
                    (instance, 0, [0; 32], 0)
                }
            };
            Ok(Hot {
                process: instance,
                cron: CronSchedule::of(&record),
                record,
                next_slot,
                link,
                since_checkpoint: 0,
                cron_through,
                failures_seen,
                scratch: None,
                remote,
                env,
            })
        })
        .await
        .map_err(|e| CuError::Vm(e.to_string()))?
    }

    /// Evaluates up to `config.batch` messages (at most through slot `through`), each preceded by
    /// the cron ticks due at or before its timestamp; with `fence`, then also the ticks due at or
    /// before it. Runs on a blocking thread.
    pub(super) fn evaluate_batch(
        &self,
        process: &ProcessId,
        hot: &mut Hot,
        through: u64,
        fence: Option<u64>,
        log: Log,
    ) -> Result<Vec<Evaluated>, CuError> {
        let budget = self.inner.config.batch;
        let last = through.min(hot.record.next_slot.saturating_sub(1));
        let (log, mut fetched) = match log {
            Log::Local if hot.next_slot > last || hot.next_slot >= hot.record.next_slot => {
                (Vec::new(), None)
            }
            Log::Local => (
                self.inner.store.log(process, hot.next_slot, last, budget)?,
                None,
            ),
            Log::Fetched(entries) => {
                let (log, messages): (Vec<Assignment>, Vec<Vec<u8>>) = entries
                    .into_iter()
                    .map(|e| (e.assignment, e.message))
                    .unzip();
                (log, Some(messages))
            }
        };
        let env = hot.env.clone();
        let mut out = Vec::with_capacity(log.len());
        // A fence is the owner's promise about its own log: ticks past another node's last
        // message are not run here.
        let caught_up =
            fetched.is_none() && (log.is_empty() || log.last().is_some_and(|a| a.slot == last));
        // A replay skips what failed before: it left no state, and its result is stored.
        let failed = match (log.first(), log.last()) {
            (Some(first), Some(last)) => self
                .inner
                .store
                .failed_slots(process, first.slot, last.slot)?,
            _ => Default::default(),
        };
        for (index, assignment) in log.into_iter().enumerate() {
            self.evaluate_ticks(process, hot, assignment.timestamp, &env, &mut out, budget)?;
            if out.len() >= budget {
                return Ok(out);
            }
            let id = b64::decode_32(&assignment.message)
                .ok_or_else(|| StoreError::Corrupt("message id".into()))?;
            let expected = if assignment.slot == 0 {
                first_link(process)
            } else {
                next_link(&hot.link, &id)
            };
            if assignment.slot != hot.next_slot || b64::encode(expected) != assignment.hash_chain {
                return Err(CuError::HashChain {
                    process: process.to_string(),
                    slot: assignment.slot,
                });
            }
            if failed.contains(&assignment.slot) {
                step_past(hot, &assignment, expected);
                continue;
            }
            let bytes = match fetched.as_mut() {
                Some(messages) => std::mem::take(&mut messages[index]),
                None => self.inner.store.message(&id)?.ok_or_else(|| {
                    StoreError::Corrupt(format!("message {} missing", assignment.message))
                })?,
            };
            let item = DataItem::from_bytes(&bytes).map_err(|e| {
                CuError::BadStoredMessage(assignment.message.clone(), e.to_string())
            })?;
            let message = message_json(&item, &assignment, &hot.record, false);
            let outcome = hot
                .process
                .handle(&message.to_string(), &env)
                .map_err(|e| CuError::Vm(e.to_string()))?;
            let result = parse_result(&outcome)?;
            step_past(hot, &assignment, expected);
            hot.since_checkpoint += 1;
            out.push(Evaluated {
                at: Source::Slot(assignment.slot),
                // A message the node forwarded carries the crank it belongs to; any other
                // message starts one.
                origin: CrankOrigin::of(&item, &hot.record),
                result,
            });
        }
        if let Some(fence) = fence
            && caught_up
            && out.len() < budget
        {
            self.evaluate_ticks(process, hot, fence, &env, &mut out, budget)?;
        }
        Ok(out)
    }

    /// Evaluates the ticks due after `hot.cron_through` and at or before `through`, while `out`
    /// has room.
    pub(super) fn evaluate_ticks(
        &self,
        process: &ProcessId,
        hot: &mut Hot,
        through: u64,
        env: &str,
        out: &mut Vec<Evaluated>,
        budget: usize,
    ) -> Result<(), CuError> {
        let Some(schedule) = hot.cron.clone() else {
            return Ok(());
        };
        let room = budget.saturating_sub(out.len());
        for (ordinal, timestamp) in schedule.ticks(hot.cron_through, through).take(room) {
            let message = tick_message(&hot.record, &schedule, process, ordinal, timestamp);
            let outcome = hot
                .process
                .handle(&message.to_string(), env)
                .map_err(|e| CuError::Vm(e.to_string()))?;
            let result = parse_result(&outcome)?;
            hot.cron_through = timestamp;
            hot.since_checkpoint += 1;
            let id = message["Id"].as_str().unwrap_or_default();
            out.push(Evaluated {
                at: Source::Tick(timestamp),
                origin: CrankOrigin::tick(id),
                result,
            });
        }
        if out.len() < budget {
            // Every tick up to `through` is done, including the stretch after the last one.
            hot.cron_through = hot.cron_through.max(through);
        }
        Ok(())
    }
}

/// `hot` has taken `assignment` (whose link is `link`) into its state.
fn step_past(hot: &mut Hot, assignment: &Assignment, link: [u8; 32]) {
    hot.link = link;
    hot.next_slot += 1;
    hot.cron_through = hot.cron_through.max(assignment.timestamp);
    if hot.remote.is_some() {
        // This store has no record of another node's process to refresh: its tail is kept
        // here, as a dry-run of it needs.
        hot.record.next_slot = hot.next_slot;
        hot.record.last_timestamp = assignment.timestamp;
        hot.record
            .last_hash_chain
            .clone_from(&assignment.hash_chain);
    }
}

pub(super) struct Evaluated {
    pub(super) at: Source,
    /// The crank this message belongs to and the depth its deliveries will have.
    pub(super) origin: CrankOrigin,
    /// Its `failed()` is the VM's verdict (the state change was rolled back).
    pub(super) result: ProcessResult,
}

pub(super) fn parse_result(outcome: &aos_vm::Outcome) -> Result<ProcessResult, CuError> {
    ProcessResult::from_outcome(outcome).map_err(|e| CuError::Vm(e.to_string()))
}
