//! The compute unit: evaluates each process's log in slot order through `aos-vm`, keeps results
//! and checkpoints, and answers results, dry-runs and state.
//!
//! Hot processes stay in memory (bounded); a cold one is restored from its newest checkpoint and
//! the rest of its log is replayed, checking the hash chain on the way. A result is committed
//! together with the deliveries it produced (the outbox), so nothing a process sent is lost.

mod input;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redb::{ReadableDatabase, ReadableTable};
use serde_json::Value;
use thiserror::Error;

pub use input::{env_json, message_json, module_tags};

use crate::crank::{self, CrankOrigin, Source};
use crate::cron::{CronSchedule, tick_message};
use crate::message::{DataItem, b64};
use crate::store::{self, ProcessId, ProcessRecord, Store, StoreError, Writer, log_key};
use crate::su::{first_link, next_link};

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CuError {
    #[error("no process {0} on this node")]
    UnknownProcess(String),
    #[error("message {0} is not in the log of process {1}")]
    UnknownMessage(String, String),
    #[error("module {0} is not on this node")]
    UnknownModule(String),
    #[error("hash chain of process {process} breaks at slot {slot}")]
    HashChain { process: String, slot: u64 },
    #[error("the stored message {0} is unreadable: {1}")]
    BadStoredMessage(String, String),
    #[error("vm: {0}")]
    Vm(String),
    #[error("{0} dry-runs of process {1} are running already; try again when one has finished")]
    Busy(usize, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Tuning of the compute unit.
#[derive(Debug, Clone)]
pub struct CuConfig {
    /// Write a checkpoint after this many evaluated messages of a process.
    pub checkpoint_every: u64,
    /// Also checkpoint every hot process that moved, this often, so that one which goes quiet
    /// short of `checkpoint_every` is not replayed from far back after a crash. `None`: never.
    pub checkpoint_interval: Option<Duration>,
    /// Processes kept instantiated in memory.
    pub max_hot: usize,
    /// Messages evaluated between two result commits.
    pub batch: usize,
    /// Replay every process from slot 0 instead of restoring checkpoints (for measurements and
    /// for checking a checkpoint against a clean replay).
    pub ignore_checkpoints: bool,
    /// Newest cron results kept per process (older ones are pruned as new ones are stored).
    pub cron_results_kept: usize,
}

impl Default for CuConfig {
    fn default() -> Self {
        Self {
            checkpoint_every: 1000,
            checkpoint_interval: Some(Duration::from_secs(60)),
            max_hot: 256,
            batch: 512,
            ignore_checkpoints: false,
            cron_results_kept: crate::cron::RESULTS_KEPT,
        }
    }
}

struct Hot {
    process: aos_vm::Process,
    record: ProcessRecord,
    /// The next slot to evaluate and the hash-chain link of the slot before it.
    next_slot: u64,
    link: [u8; 32],
    since_checkpoint: u64,
    cron: Option<CronSchedule>,
    /// Every tick at or before this timestamp has been evaluated.
    cron_through: u64,
    /// `Inner::failed_commits` when this state was loaded.
    failures_seen: u64,
}

type HotSlot = Arc<tokio::sync::Mutex<Option<Hot>>>;

/// Which end of a range of results comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
}

/// The compute unit of one node. Cheap to clone.
#[derive(Clone)]
pub struct ComputeUnit {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ComputeUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComputeUnit").finish_non_exhaustive()
    }
}

struct Inner {
    store: Store,
    writer: Writer,
    vm: aos_vm::Vm,
    config: CuConfig,
    modules: Mutex<HashMap<String, aos_vm::Module>>,
    /// Hot processes with a use counter for least-recently-used eviction.
    hot: Mutex<HashMap<ProcessId, (HotSlot, u64)>>,
    clock: std::sync::atomic::AtomicU64,
    /// Result commits queued so far; the lock keeps numbering in queue order.
    queued: Mutex<u64>,
    /// The newest queued result commit known to be done (all earlier ones are done too: the
    /// writer commits in queue order).
    durable: tokio::sync::watch::Sender<u64>,
    /// Result commits that failed since start; a checkpoint is only written when none failed
    /// while it waited, or it could cover results that were never stored.
    failed_commits: std::sync::atomic::AtomicU64,
    /// Dry-runs running per process.
    dry_runs: Mutex<HashMap<ProcessId, usize>>,
    /// Turns for dry-runs node-wide.
    dry_run_turns: tokio::sync::Semaphore,
}

/// Dry-runs of one process that may run at once.
pub const DRY_RUNS_PER_PROCESS: usize = 2;
/// Dry-runs evaluating at once on the node (others wait their turn). One: on a small machine
/// the other cores stay with the processes' real messages, however many dry-runs are asked.
pub const DRY_RUNS_AT_ONCE: usize = 1;

/// One of a process's dry-run slots, given back on drop.
struct DryRunSlot {
    inner: Arc<Inner>,
    process: ProcessId,
}

impl DryRunSlot {
    fn take(inner: &Arc<Inner>, process: &ProcessId) -> Result<Self, CuError> {
        let mut running = inner.dry_runs.lock().expect("dry-runs lock");
        let count = running.entry(*process).or_insert(0);
        if *count >= DRY_RUNS_PER_PROCESS {
            return Err(CuError::Busy(*count, process.to_string()));
        }
        *count += 1;
        Ok(Self {
            inner: inner.clone(),
            process: *process,
        })
    }
}

impl Drop for DryRunSlot {
    fn drop(&mut self) {
        let mut running = self.inner.dry_runs.lock().expect("dry-runs lock");
        if let Some(count) = running.get_mut(&self.process) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.process);
            }
        }
    }
}

impl ComputeUnit {
    /// Inside a tokio runtime, also starts the periodic checkpoints of `config.checkpoint_interval`.
    pub fn new(store: Store, writer: Writer, vm: aos_vm::Vm, config: CuConfig) -> Self {
        let cu = Self {
            inner: Arc::new(Inner {
                store,
                writer,
                vm,
                config,
                modules: Mutex::new(HashMap::new()),
                hot: Mutex::new(HashMap::new()),
                clock: Default::default(),
                queued: Mutex::new(0),
                durable: tokio::sync::watch::channel(0).0,
                failed_commits: Default::default(),
                dry_runs: Mutex::new(HashMap::new()),
                dry_run_turns: tokio::sync::Semaphore::new(DRY_RUNS_AT_ONCE),
            }),
        };
        if let Some(period) = cu.inner.config.checkpoint_interval
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(Self::checkpoint_periodically(
                Arc::downgrade(&cu.inner),
                period,
            ));
        }
        cu
    }

    /// Holds no strong reference while it sleeps, so a dropped unit lets go of its store.
    async fn checkpoint_periodically(unit: Weak<Inner>, period: Duration) {
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

    /// Registers module bytes (stored durably) and returns the module id.
    pub fn add_module(&self, bytes: &[u8]) -> Result<String, CuError> {
        let module = self
            .inner
            .vm
            .load_module(bytes)
            .map_err(|e| CuError::Vm(e.to_string()))?;
        let id = module.id().to_string();
        let raw = b64::decode_32(&id).ok_or_else(|| CuError::Vm("module id".into()))?;
        if self.inner.store.module(&raw)?.is_none() {
            self.inner.store.put_module(&raw, bytes)?;
        }
        self.inner
            .modules
            .lock()
            .expect("modules lock")
            .insert(id.clone(), module);
        Ok(id)
    }

    /// Whether the module with this id is on this node.
    pub fn has_module(&self, id: &str) -> Result<bool, CuError> {
        if self
            .inner
            .modules
            .lock()
            .expect("modules lock")
            .contains_key(id)
        {
            return Ok(true);
        }
        Ok(match b64::decode_32(id) {
            Some(raw) => self.inner.store.module(&raw)?.is_some(),
            None => false,
        })
    }

    /// The stored result of the message at `slot`, evaluating the log up to there first.
    pub async fn result(&self, process: &ProcessId, slot: u64) -> Result<Value, CuError> {
        if let Some(result) = self.stored_result(process, slot)? {
            return Ok(result);
        }
        let failures = self.failures();
        self.evaluate_through(process, slot).await?;
        self.settle_stored(failures).await?;
        self.stored_result(process, slot)?
            .ok_or_else(|| CuError::UnknownMessage(format!("slot {slot}"), process.to_string()))
    }

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
    async fn settle_stored(&self, failures: u64) -> Result<(), CuError> {
        self.settle().await;
        if self.failures() != failures {
            return Err(CuError::Store(StoreError::Db(
                "results were computed but could not be stored; they will be computed again".into(),
            )));
        }
        Ok(())
    }

    /// How many queued result commits have failed since this unit started.
    fn failures(&self) -> u64 {
        self.inner
            .failed_commits
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A receiver that changes whenever a result commit is done (the messenger's cranker
    /// listens to it: new deliveries may be in the outbox).
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.durable.subscribe()
    }

    /// The result of `message` in `process`.
    pub async fn result_of(
        &self,
        message: &[u8; 32],
        process: &ProcessId,
    ) -> Result<Value, CuError> {
        let slot =
            self.inner.store.slot_of(message, process)?.ok_or_else(|| {
                CuError::UnknownMessage(b64::encode(message), process.to_string())
            })?;
        self.result(process, slot).await
    }

    /// Results with `from <= slot <= to` (evaluating as needed), in `order`, at most `limit`.
    pub async fn results(
        &self,
        process: &ProcessId,
        from: u64,
        to: u64,
        limit: usize,
        order: Order,
    ) -> Result<Vec<(u64, Value)>, CuError> {
        let record = self.record(process)?;
        let last = record.next_slot.saturating_sub(1).min(to);
        if from <= last {
            let failures = self.failures();
            self.evaluate_through(process, last).await?;
            self.settle_stored(failures).await?;
        }
        self.stored_range(store::RESULTS, process, from, to, limit, order)
    }

    /// Rows of a `process ‖ u64`-keyed result table with `from <= key <= to`, the first `limit`
    /// in `order` (read from the right end, so the newest few cost no more than the oldest few).
    fn stored_range(
        &self,
        table: redb::TableDefinition<&[u8], &[u8]>,
        process: &ProcessId,
        from: u64,
        to: u64,
        limit: usize,
        order: Order,
    ) -> Result<Vec<(u64, Value)>, CuError> {
        let txn = self
            .inner
            .store
            .db()
            .begin_read()
            .map_err(StoreError::from)?;
        let table = txn.open_table(table).map_err(StoreError::from)?;
        let (lo, hi) = (log_key(process, from), log_key(process, to));
        let range = table.range(&lo[..]..=&hi[..]).map_err(StoreError::from)?;
        let rows: Box<dyn Iterator<Item = _>> = match order {
            Order::Ascending => Box::new(range),
            Order::Descending => Box::new(range.rev()),
        };
        let mut out = Vec::new();
        for entry in rows.take(limit) {
            let (k, v) = entry.map_err(StoreError::from)?;
            let (_, key) = store::parse_log_key(k.value())
                .ok_or_else(|| StoreError::Corrupt("result key".into()))?;
            out.push((key, store::decode(v.value())?));
        }
        Ok(out)
    }

    /// Evaluates `message` against the process's current state and forgets it: nothing is stored.
    /// It runs on a copy of the process, so it never holds up the process's real messages: the
    /// process is held only while its memory is copied. At most [`DRY_RUNS_PER_PROCESS`] run per
    /// process at once (more are refused with [`CuError::Busy`]) and [`DRY_RUNS_AT_ONCE`] on the
    /// node, so dry-runs cannot take every core from real work.
    pub async fn dry_run(&self, process: &ProcessId, mut message: Value) -> Result<Value, CuError> {
        let _slot = DryRunSlot::take(&self.inner, process)?;
        let _turn = self
            .inner
            .dry_run_turns
            .acquire()
            .await
            .map_err(|e| CuError::Vm(e.to_string()))?;
        let record = self.record(process)?;
        let last = record.next_slot.saturating_sub(1);
        let slot = self.evaluate_through(process, last).await?;
        let (snapshot, module, record) = {
            let guard = slot.lock().await;
            let hot = guard
                .as_ref()
                .expect("evaluate_through leaves the process hot");
            let snapshot = hot
                .process
                .snapshot()
                .map_err(|e| CuError::Vm(e.to_string()))?;
            (snapshot, hot.process.module().clone(), hot.record.clone())
        };
        let vm = self.inner.vm.clone();
        tokio::task::spawn_blocking(move || {
            let mut copy = vm
                .restore(&module, &snapshot)
                .map_err(|e| CuError::Vm(e.to_string()))?;
            fill_dry_run_fields(&mut message, &record);
            let env = env_json(&record);
            let outcome = copy
                .dry_run(&message.to_string(), &env.to_string())
                .map_err(|e| CuError::Vm(e.to_string()))?;
            parse_result(outcome.result_json())
        })
        .await
        .map_err(|e| CuError::Vm(e.to_string()))?
    }

    /// What the process published with `patch@1.0` sends (the newest value of each key), after
    /// evaluating its log to the end.
    pub async fn patches(&self, process: &ProcessId) -> Result<Value, CuError> {
        let record = self.record(process)?;
        let failures = self.failures();
        self.evaluate_through(process, record.next_slot.saturating_sub(1))
            .await?;
        self.settle_stored(failures).await?;
        Ok(self.inner.store.patches(process)?)
    }

    /// The process's current memory snapshot (evaluated to the end of its log).
    pub async fn state(&self, process: &ProcessId) -> Result<Vec<u8>, CuError> {
        let record = self.record(process)?;
        let slot = self
            .evaluate_through(process, record.next_slot.saturating_sub(1))
            .await?;
        let guard = slot.lock().await;
        let hot = guard.as_ref().expect("hot after evaluation");
        let snapshot = hot
            .process
            .snapshot()
            .map_err(|e| CuError::Vm(e.to_string()))?;
        Ok(snapshot.to_bytes())
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
            .map(|(p, (slot, _))| (*p, slot.clone()))
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

    fn record(&self, process: &ProcessId) -> Result<ProcessRecord, CuError> {
        self.inner
            .store
            .process(process)?
            .ok_or_else(|| CuError::UnknownProcess(process.to_string()))
    }

    /// Whether the result of the message at `slot` is stored (computed and durable).
    pub fn has_result(&self, process: &ProcessId, slot: u64) -> Result<bool, CuError> {
        Ok(self.inner.store.result_bytes(process, slot)?.is_some())
    }

    fn stored_result(&self, process: &ProcessId, slot: u64) -> Result<Option<Value>, CuError> {
        let bytes = self.inner.store.result_bytes(process, slot)?;
        Ok(bytes.map(|b| store::decode(&b)).transpose()?)
    }

    fn module(&self, id: &str) -> Result<aos_vm::Module, CuError> {
        if let Some(module) = self.inner.modules.lock().expect("modules lock").get(id) {
            return Ok(module.clone());
        }
        let raw = b64::decode_32(id).ok_or_else(|| CuError::UnknownModule(id.to_owned()))?;
        let bytes = self
            .inner
            .store
            .module(&raw)?
            .ok_or_else(|| CuError::UnknownModule(id.to_owned()))?;
        self.add_module(&bytes)?;
        self.module(id)
    }

    /// The hot slot of `process`, creating an empty one (and evicting the coldest) when needed.
    fn hot_slot(&self, process: &ProcessId) -> HotSlot {
        let tick = self
            .inner
            .clock
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut hot = self.inner.hot.lock().expect("hot lock");
        if let Some((slot, used)) = hot.get_mut(process) {
            *used = tick;
            return slot.clone();
        }
        if hot.len() >= self.inner.config.max_hot {
            // Evict the least recently used process that nobody is evaluating right now. Its state
            // is recomputed from the newest checkpoint when it is needed again.
            if let Some(victim) = hot
                .iter()
                .filter(|(_, (slot, _))| Arc::strong_count(slot) == 1)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(p, _)| *p)
            {
                hot.remove(&victim);
            }
        }
        let slot: HotSlot = Arc::new(tokio::sync::Mutex::new(None));
        hot.insert(*process, (slot.clone(), tick));
        slot
    }

    /// Evaluates `process` up to and including `slot` (or to the end of its log if shorter).
    async fn evaluate_through(&self, process: &ProcessId, slot: u64) -> Result<HotSlot, CuError> {
        self.evaluate(process, slot, None).await
    }

    /// Evaluates the whole log of `process` and then every cron tick due at or before `fence`,
    /// which must be a time before which the scheduler will place no more messages (see
    /// [`crate::su::Scheduler::advance`]). Returns when the next tick is due, if the process has a
    /// cron.
    pub async fn run_cron(&self, process: &ProcessId, fence: u64) -> Result<Option<u64>, CuError> {
        let hot_slot = self.evaluate(process, u64::MAX, Some(fence)).await?;
        let next = {
            let guard = hot_slot.lock().await;
            let hot = guard.as_ref().expect("hot after evaluation");
            hot.cron
                .as_ref()
                .and_then(|c| c.next_after(hot.cron_through))
        };
        self.settle().await;
        Ok(next)
    }

    /// Stored results of cron ticks at `from <= timestamp <= to`, in `order`, at most `limit`,
    /// after evaluating the log to its end (ticks between messages are computed on the way).
    pub async fn cron_results(
        &self,
        process: &ProcessId,
        from: u64,
        to: u64,
        limit: usize,
        order: Order,
    ) -> Result<Vec<(u64, Value)>, CuError> {
        let failures = self.failures();
        self.evaluate_through(process, u64::MAX).await?;
        self.settle_stored(failures).await?;
        self.stored_range(store::CRON_RESULTS, process, from, to, limit, order)
    }

    async fn evaluate(
        &self,
        process: &ProcessId,
        slot: u64,
        fence: Option<u64>,
    ) -> Result<HotSlot, CuError> {
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
            let this = self.clone();
            let pid = *process;
            let mut taken = guard.take().expect("loaded above");
            // Evaluate everything already scheduled, not just up to `slot`: callers waiting for
            // later slots are queued behind this lock, and one big batch shares one commit.
            let (back, evaluated) = tokio::task::spawn_blocking(move || {
                let step = this.evaluate_batch(&pid, &mut taken, u64::MAX, fence);
                (taken, step)
            })
            .await
            .map_err(|e| CuError::Vm(e.to_string()))?;
            *guard = Some(back);
            let batch = evaluated?;
            let hot = guard.as_mut().expect("put back above");
            let progressed = !batch.is_empty();
            self.queue_commit(process, batch);
            if hot.since_checkpoint >= self.inner.config.checkpoint_every
                && let Err(e) = self.checkpoint(process, hot).await
            {
                *guard = None;
                return Err(e);
            }
            if hot.next_slot == hot.record.next_slot {
                // The record we hold may be stale: refresh to see newly scheduled messages.
                hot.record = self.record(process)?;
                if hot.next_slot == hot.record.next_slot && !progressed {
                    break;
                }
            }
        }
        Ok(hot_slot)
    }

    /// Restores the newest checkpoint (or spawns fresh); replay happens in `evaluate_through`.
    async fn load(&self, process: &ProcessId) -> Result<Hot, CuError> {
        let record = self.record(process)?;
        let module = self.module(&record.module)?;
        let checkpoint = if self.inner.config.ignore_checkpoints {
            None
        } else {
            self.newest_checkpoint(process)?
        };
        let vm = self.inner.vm.clone();
        let failures_seen = self.failures();
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
            })
        })
        .await
        .map_err(|e| CuError::Vm(e.to_string()))?
    }

    fn newest_checkpoint(&self, process: &ProcessId) -> Result<Option<StoredCheckpoint>, CuError> {
        let txn = self
            .inner
            .store
            .db()
            .begin_read()
            .map_err(StoreError::from)?;
        let checkpoints = txn
            .open_table(store::CHECKPOINTS)
            .map_err(StoreError::from)?;
        let (lo, hi) = (log_key(process, 0), log_key(process, u64::MAX));
        let Some(entry) = checkpoints
            .range(&lo[..]..=&hi[..])
            .map_err(StoreError::from)?
            .next_back()
        else {
            return Ok(None);
        };
        let (k, v) = entry.map_err(StoreError::from)?;
        let (_, slot) = store::parse_log_key(k.value())
            .ok_or_else(|| StoreError::Corrupt("checkpoint key".into()))?;
        let log = self.inner.store.log(process, slot, slot, 1)?;
        let assignment = log.first().ok_or_else(|| {
            StoreError::Corrupt(format!("checkpoint at slot {slot} has no log entry"))
        })?;
        let link = b64::decode_32(&assignment.hash_chain)
            .ok_or_else(|| StoreError::Corrupt("hash chain".into()))?;
        let value = v.value();
        let (through, snapshot) = value
            .split_first_chunk::<8>()
            .ok_or_else(|| StoreError::Corrupt("checkpoint header".into()))?;
        Ok(Some(StoredCheckpoint {
            slot,
            link,
            cron_through: u64::from_be_bytes(*through),
            snapshot: snapshot.to_vec(),
        }))
    }

    /// Evaluates up to `config.batch` messages (at most through slot `through`), each preceded by
    /// the cron ticks due at or before its timestamp; with `fence`, then also the ticks due at or
    /// before it. Runs on a blocking thread.
    fn evaluate_batch(
        &self,
        process: &ProcessId,
        hot: &mut Hot,
        through: u64,
        fence: Option<u64>,
    ) -> Result<Vec<Evaluated>, CuError> {
        let budget = self.inner.config.batch;
        let last = through.min(hot.record.next_slot.saturating_sub(1));
        let log = if hot.next_slot > last || hot.next_slot >= hot.record.next_slot {
            Vec::new()
        } else {
            self.inner.store.log(process, hot.next_slot, last, budget)?
        };
        let env = env_json(&hot.record).to_string();
        let mut out = Vec::with_capacity(log.len());
        let caught_up = log.is_empty() || log.last().is_some_and(|a| a.slot == last);
        // A replay skips what failed before: it left no state, and its result is stored.
        let failed = match (log.first(), log.last()) {
            (Some(first), Some(last)) => self
                .inner
                .store
                .failed_slots(process, first.slot, last.slot)?,
            _ => Default::default(),
        };
        for assignment in log {
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
                hot.link = expected;
                hot.next_slot += 1;
                hot.cron_through = hot.cron_through.max(assignment.timestamp);
                continue;
            }
            let bytes = self.inner.store.message(&id)?.ok_or_else(|| {
                StoreError::Corrupt(format!("message {} missing", assignment.message))
            })?;
            let item = DataItem::from_bytes(&bytes).map_err(|e| {
                CuError::BadStoredMessage(assignment.message.clone(), e.to_string())
            })?;
            let message = message_json(&item, &assignment, &hot.record, false);
            let outcome = hot
                .process
                .handle(&message.to_string(), &env)
                .map_err(|e| CuError::Vm(e.to_string()))?;
            let result = parse_result(outcome.result_json())?;
            hot.link = expected;
            hot.next_slot += 1;
            hot.since_checkpoint += 1;
            hot.cron_through = hot.cron_through.max(assignment.timestamp);
            out.push(Evaluated {
                at: Source::Slot(assignment.slot),
                // A message the node forwarded carries the crank it belongs to; any other
                // message starts one.
                origin: CrankOrigin::of(&item, &hot.record),
                failed: outcome.error().is_some(),
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
    fn evaluate_ticks(
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
            let result = parse_result(outcome.result_json())?;
            hot.cron_through = timestamp;
            hot.since_checkpoint += 1;
            let id = message["Id"].as_str().unwrap_or_default();
            out.push(Evaluated {
                at: Source::Tick(timestamp),
                origin: CrankOrigin::tick(id),
                failed: outcome.error().is_some(),
                result,
            });
        }
        if out.len() < budget {
            // Every tick up to `through` is done, including the stretch after the last one.
            hot.cron_through = hot.cron_through.max(through);
        }
        Ok(())
    }

    /// Queues a batch of results with their deliveries as one commit, without waiting for it:
    /// the next batch evaluates while this one is written. Readers wait with [`Self::settle`].
    /// Slots whose result is already stored (a replay after restart) are skipped: their
    /// deliveries were made back then. If the commit fails, the process leaves the hot set, so
    /// its next use recomputes from the store what was lost.
    fn queue_commit(&self, process: &ProcessId, batch: Vec<Evaluated>) {
        if batch.is_empty() {
            return;
        }
        let process = *process;
        let keep_ticks = self.inner.config.cron_results_kept;
        let has_ticks = batch.iter().any(|e| matches!(e.at, Source::Tick(_)));
        let job = move |txn: &redb::WriteTransaction| {
            if has_ticks {
                crate::cron::prune_results(txn, &process, keep_ticks.saturating_sub(batch.len()))?;
            }
            let mut results = txn.open_table(store::RESULTS)?;
            let mut cron_results = txn.open_table(store::CRON_RESULTS)?;
            let sender = process.to_string();
            for evaluated in batch {
                let (table, at) = match evaluated.at {
                    Source::Slot(slot) => (&mut results, slot),
                    Source::Tick(timestamp) => (&mut cron_results, timestamp),
                };
                let key = log_key(&process, at);
                if table.get(&key[..])?.is_some() {
                    continue;
                }
                table.insert(&key[..], &store::encode(&evaluated.result)[..])?;
                // A failed message leaves no trace: whatever its result lists is not sent.
                if evaluated.failed {
                    if let Source::Slot(_) = evaluated.at {
                        txn.open_table(store::FAILED)?.insert(&key[..], ())?;
                    }
                    continue;
                }
                if let Some(patches) = evaluated
                    .result
                    .get("Patches")
                    .and_then(Value::as_array)
                    .filter(|p| !p.is_empty())
                {
                    store::merge_patches(txn, &process, patches)?;
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

    async fn checkpoint(&self, process: &ProcessId, hot: &mut Hot) -> Result<(), CuError> {
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
        let slot = hot.next_slot - 1;
        let mut bytes = hot.cron_through.to_be_bytes().to_vec();
        bytes.extend(
            hot.process
                .snapshot()
                .map_err(|e| CuError::Vm(e.to_string()))?
                .to_bytes(),
        );
        let process = *process;
        self.inner
            .writer
            .write(move |txn| {
                let mut table = txn.open_table(store::CHECKPOINTS)?;
                // Keep only the newest checkpoint of each process.
                let (lo, hi) = (log_key(&process, 0), log_key(&process, u64::MAX));
                let old: Vec<Vec<u8>> = table
                    .range(&lo[..]..=&hi[..])?
                    .map(|e| e.map(|(k, _)| k.value().to_vec()))
                    .collect::<Result<_, _>>()?;
                for key in old {
                    table.remove(&key[..])?;
                }
                table.insert(&log_key(&process, slot)[..], &bytes[..])?;
                Ok(())
            })
            .await?;
        hot.since_checkpoint = 0;
        Ok(())
    }
}

/// A checkpoint as stored: the value is `cron_through` (u64 big-endian) ‖ snapshot bytes.
struct StoredCheckpoint {
    slot: u64,
    /// The hash-chain link at `slot`.
    link: [u8; 32],
    cron_through: u64,
    snapshot: Vec<u8>,
}

struct Evaluated {
    at: Source,
    /// The crank this message belongs to and the depth its deliveries will have.
    origin: CrankOrigin,
    /// Whether the VM failed the message (its state change was rolled back): the one verdict.
    failed: bool,
    result: Value,
}

fn parse_result(json: &str) -> Result<Value, CuError> {
    serde_json::from_str(json).map_err(|e| CuError::Vm(format!("result is not JSON: {e}")))
}

/// A dry-run message gets the fields a scheduled one would have, marked read-only.
fn fill_dry_run_fields(message: &mut Value, record: &ProcessRecord) {
    if !message.is_object() {
        *message = Value::Object(Default::default());
    }
    let defaults = [
        ("Id", Value::String("dry-run".into())),
        ("Target", Value::String(record.id.clone())),
        ("Owner", Value::String(String::new())),
        ("Tags", Value::Array(Vec::new())),
        ("Data", Value::String(String::new())),
        ("Timestamp", Value::from(record.last_timestamp)),
        (
            "Block-Height",
            Value::from(crate::su::block_height(record.last_timestamp)),
        ),
        ("Nonce", Value::from(record.next_slot)),
        ("Module", Value::String(record.module.clone())),
    ];
    let map = message.as_object_mut().expect("made an object above");
    for (key, value) in defaults {
        map.entry(key).or_insert(value);
    }
    if !map.contains_key("From") {
        let owner = map.get("Owner").cloned().unwrap_or(Value::Null);
        map.insert("From".into(), owner);
    }
    map.insert("Read-Only".into(), Value::Bool(true));
}
