//! The compute unit: evaluates each process's log in slot order through `aos-vm`, keeps results
//! and checkpoints, and answers results, dry-runs and state.
//!
//! Hot processes stay in memory (bounded); a cold one is restored from its newest checkpoint and
//! the rest of its log is replayed, checking the hash chain on the way. A result is committed
//! together with the deliveries it produced (the outbox), so nothing a process sent is lost.
//!
//! By concern: `eval` (load, log and ticks through the VM), `commit` (the result commit queue),
//! `checkpoints`, `budget` (the hot set's bounds), `dry_run`, `input` (messages and env as the
//! module sees them), `modules`, `sources` (whose log: this store's, or another node's SU's);
//! this file holds the unit's state and its read API.

mod budget;
mod checkpoints;
mod commit;
mod dry_run;
mod eval;
mod input;
mod modules;
mod sources;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

use budget::{HotEntry, HotUse};
pub use budget::{HotMemory, default_hot_memory};
pub use dry_run::{DRY_RUN_SLICE, DRY_RUNS_AT_ONCE, DRY_RUNS_PER_PROCESS};
pub use input::{env_json, message_json};
pub use sources::Locate;

use crate::crank::{self, CrankOrigin, Source};
use crate::cron::{CronSchedule, tick_message};
use crate::limits::ProcessLimits;
use crate::message::{DataItem, b64};
use crate::result::ProcessResult;
use crate::schedule::{RemoteSource, ScheduleSource, SourceError};
pub use crate::store::Order;
use crate::store::{self, ProcessId, ProcessRecord, ResultOf, Store, StoreError, Writer};
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
    #[error(transparent)]
    BadModule(#[from] crate::module::ModuleItemError),
    #[error("hash chain of process {process} breaks at slot {slot}")]
    HashChain { process: String, slot: u64 },
    #[error("the stored message {0} is unreadable: {1}")]
    BadStoredMessage(String, String),
    #[error("vm: {0}")]
    Vm(String),
    #[error("{0} dry-runs of process {1} are running already; try again when one has finished")]
    Busy(usize, String),
    #[error("cannot tell which node schedules process {process}: {why}")]
    Unlocated { process: String, why: String },
    #[error("reading the log from the scheduler at {url}: {error}")]
    Remote { url: String, error: SourceError },
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
    /// Processes kept instantiated in memory, at most.
    pub max_hot: usize,
    /// Bytes of linear memory the hot processes may hold together; beyond it the least recently
    /// used are evicted (checkpointed first if they moved). Default: [`default_hot_memory`].
    pub hot_memory: u64,
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
            hot_memory: default_hot_memory(),
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
    /// A copy of the process for dry-runs, kept between them (see [`aos_vm::Scratch`]).
    scratch: Option<aos_vm::Scratch>,
    /// Where the log comes from when another node schedules the process (`None`: this store).
    /// Its results then send nothing from here: the owner's node delivers what they send.
    remote: Option<Arc<RemoteSource>>,
    /// The environment every message of the process is evaluated with ([`env_json`]): it does
    /// not change, so it is built once, when the process is loaded.
    env: Arc<str>,
}

impl Hot {
    /// The linear memory this state holds, its dry-run scratch included.
    fn bytes(&self) -> u64 {
        (self.process.memory_len() + self.scratch.as_ref().map_or(0, |s| s.memory_len())) as u64
    }
}

type HotSlot = Arc<tokio::sync::Mutex<Option<Hot>>>;

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
    /// Modules by id (item id or wasm hash), compiled.
    modules: Mutex<HashMap<String, modules::Loaded>>,
    /// Hot processes, with what least-recently-used eviction needs.
    hot: Mutex<HashMap<ProcessId, HotEntry>>,
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
    /// One eviction round at a time: two rounds that each see the hot set one over its bound
    /// would each evict a process, and evict one too many.
    evicting: tokio::sync::Mutex<()>,
    /// Other nodes' processes and their logs.
    sources: sources::Sources,
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
                evicting: tokio::sync::Mutex::new(()),
                sources: Default::default(),
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

    /// The stored result of the message at `slot`, evaluating the log up to there first.
    pub async fn result(&self, process: &ProcessId, slot: u64) -> Result<ProcessResult, CuError> {
        if let Some(result) = self.stored_result(process, slot)? {
            return Ok(result);
        }
        self.evaluate_stored(process, slot).await?;
        self.stored_result(process, slot)?
            .ok_or_else(|| CuError::UnknownMessage(format!("slot {slot}"), process.to_string()))
    }

    /// Evaluates the log through `slot` and waits until those results are stored; an error if
    /// their commit failed (they are computed again on the next use).
    async fn evaluate_stored(&self, process: &ProcessId, slot: u64) -> Result<(), CuError> {
        let failures = self.failures();
        self.evaluate_through(process, slot).await?;
        self.settle_stored(failures).await
    }

    /// Makes sure the result of the message at `slot` is computed and stored, without reading
    /// it back: what the messenger asks after scheduling a message.
    pub async fn compute(&self, process: &ProcessId, slot: u64) -> Result<(), CuError> {
        if self.has_result(process, slot)? {
            return Ok(());
        }
        self.evaluate_stored(process, slot).await?;
        if !self.has_result(process, slot)? {
            return Err(CuError::UnknownMessage(
                format!("slot {slot}"),
                process.to_string(),
            ));
        }
        Ok(())
    }

    /// The result of `message` in `process`.
    pub async fn result_of(
        &self,
        message: &[u8; 32],
        process: &ProcessId,
    ) -> Result<ProcessResult, CuError> {
        let slot = match self.inner.store.slot_of(message, process)? {
            Some(slot) => slot,
            None => match self.resolve(process).await? {
                (_, Some(source)) => source
                    .slot_of(process, message)
                    .await
                    .map_err(|e| sources::remote_error(&source, e))?,
                (_, None) => {
                    return Err(CuError::UnknownMessage(
                        b64::encode(message),
                        process.to_string(),
                    ));
                }
            },
        };
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
    ) -> Result<Vec<(u64, ProcessResult)>, CuError> {
        let last = match self.resolve(process).await? {
            (record, None) => record.next_slot.saturating_sub(1).min(to),
            // Another node's log ends where its pages say so.
            (_, Some(_)) => to,
        };
        if from <= last {
            self.evaluate_stored(process, last).await?;
        }
        Ok(self
            .inner
            .store
            .results_range(process, from, to, limit, order)?)
    }

    /// What the process published with `patch@1.0` sends (the newest value of each key), after
    /// evaluating its log to the end.
    pub async fn patches(&self, process: &ProcessId) -> Result<Value, CuError> {
        let last = self.last_slot(process).await?;
        self.evaluate_stored(process, last).await?;
        Ok(self.inner.store.patches(process)?)
    }

    /// The process's current memory snapshot (evaluated to the end of its log).
    pub async fn state(&self, process: &ProcessId) -> Result<Vec<u8>, CuError> {
        let last = self.last_slot(process).await?;
        let slot = self.evaluate_through(process, last).await?;
        let guard = slot.lock().await;
        let hot = guard.as_ref().expect("hot after evaluation");
        let snapshot = hot
            .process
            .snapshot()
            .map_err(|e| CuError::Vm(e.to_string()))?;
        Ok(snapshot.to_bytes())
    }

    /// The last slot of `process`'s log as far as the store knows it; for another node's
    /// process, "the end", however far its pages go.
    pub(super) async fn last_slot(&self, process: &ProcessId) -> Result<u64, CuError> {
        Ok(match self.resolve(process).await? {
            (record, None) => record.next_slot.saturating_sub(1),
            (_, Some(_)) => u64::MAX,
        })
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

    fn stored_result(
        &self,
        process: &ProcessId,
        slot: u64,
    ) -> Result<Option<ProcessResult>, CuError> {
        let bytes = self.inner.store.result_bytes(process, slot)?;
        Ok(bytes.map(|b| store::decode(&b)).transpose()?)
    }

    /// The hot slot of `process`, creating an empty one when needed (evaluation then keeps the
    /// hot set within its bounds, see [`Self::keep_within_budget`]).
    fn hot_slot(&self, process: &ProcessId) -> HotSlot {
        let tick = self
            .inner
            .clock
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut hot = self.inner.hot.lock().expect("hot lock");
        let entry = hot.entry(*process).or_insert_with(|| HotEntry {
            slot: Arc::new(tokio::sync::Mutex::new(None)),
            used: tick,
            bytes: 0,
        });
        entry.used = tick;
        entry.slot.clone()
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
    ) -> Result<Vec<(u64, ProcessResult)>, CuError> {
        self.evaluate_stored(process, u64::MAX).await?;
        Ok(self
            .inner
            .store
            .cron_results_range(process, from, to, limit, order)?)
    }
}
