//! The messenger unit: verifies signed items, hands them to the scheduler, has the compute unit
//! evaluate them, and delivers what processes send onward — recursively ("cranking").
//!
//! Pending deliveries live in the store's outbox, written in the same commit as the result that
//! produced them; a delivery leaves the outbox in the same commit as the append that fulfils it. A
//! crash therefore neither drops nor doubles a message: on start the cranker drains what is left,
//! and what was acknowledged but not yet computed is computed (so its sends go out) without
//! waiting for someone to read it. Deliveries travel in lanes, one per target (`lanes`): in
//! order within a lane, lanes independently, so one slow target delays only its own messages.
//! The protocol itself (bounds, crank tags, the forwarded item) lives in `crate::crank`.
//!
//! Monitoring (`monitor`) keeps a process's cron ticks running in real time; see `crate::cron`.

mod lanes;
mod modules;
mod monitor;
mod remote;
mod route;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::sync::{Notify, watch};

pub use crate::crank::CrankLimits;
pub use crate::store::Undeliverable;
pub use lanes::{Pending, Stall};
pub use remote::ForwardError;
pub use route::{Route, RouteError};

use crate::cu::{ComputeUnit, CuError};
use crate::message::{DataItem, Ed25519Signer, ItemError, b64};
use crate::store::{ProcessId, StoreError};
use crate::su::{ScheduleError, Scheduler};
use crate::tasks::Tasks;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MuError {
    #[error("not a data item: {0}")]
    Malformed(ItemError),
    #[error("signature rejected: {0}")]
    BadSignature(ItemError),
    #[error("module {0} is not on this node")]
    UnknownModule(String),
    #[error("process {0} has no Cron-Interval, so there is nothing to monitor")]
    NoCron(String),
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error(transparent)]
    Compute(#[from] CuError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Route(#[from] RouteError),
}

/// Where a submitted message landed (`POST /su`'s answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    pub id: String,
    pub process: String,
    pub slot: u64,
}

/// The messenger of one node. Cheap to clone.
#[derive(Clone)]
pub struct Messenger {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Messenger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messenger").finish_non_exhaustive()
    }
}

struct Inner {
    su: Scheduler,
    cu: ComputeUnit,
    node: Ed25519Signer,
    limits: CrankLimits,
    wake: Arc<Notify>,
    /// Bumped after every delivery, so waiters re-check the outbox.
    progress: watch::Sender<u64>,
    /// Deliveries made per user message, for cranks that may not have ended.
    fanout: Mutex<HashMap<String, u32>>,
    /// Lanes being delivered right now (one task each), and when failed lanes may try again.
    lanes: Mutex<lanes::LaneSet>,
    /// Cranks with a delivery in flight: it has left the outbox, but what it produces may not
    /// be there yet. Counted, since several lanes may carry one crank at once.
    delivering: Mutex<HashMap<String, usize>>,
    /// Monitored processes and when each one's next tick is due (ms).
    monitors: Mutex<BTreeMap<ProcessId, u64>>,
    monitor_wake: Arc<Notify>,
    /// Where items of other nodes' processes go (`route`).
    route: route::Router,
    /// Every background task of the messenger (and of whatever else the node hands it).
    tasks: Tasks,
}

impl Messenger {
    /// Starts the messenger and its background tasks: the cranker (which first drains what a
    /// previous run left), the monitor, and the recovery of acknowledged messages not yet computed.
    pub fn start(su: Scheduler, cu: ComputeUnit, node: Ed25519Signer, limits: CrankLimits) -> Self {
        Self::start_in(su, cu, node, limits, Tasks::new())
    }

    /// [`Self::start`] with its background tasks in `tasks`: they end when it stops.
    pub fn start_in(
        su: Scheduler,
        cu: ComputeUnit,
        node: Ed25519Signer,
        limits: CrankLimits,
        tasks: Tasks,
    ) -> Self {
        let (progress, _) = watch::channel(0);
        let mu = Self {
            inner: Arc::new(Inner {
                su,
                cu,
                node,
                limits,
                wake: Arc::new(Notify::new()),
                progress,
                fanout: Mutex::new(HashMap::new()),
                lanes: Mutex::new(lanes::LaneSet::default()),
                delivering: Mutex::new(HashMap::new()),
                monitors: Mutex::new(BTreeMap::new()),
                monitor_wake: Arc::new(Notify::new()),
                route: route::Router::default(),
                tasks,
            }),
        };
        // The background tasks hold the messenger weakly, and end when the task set stops. The
        // cranker only starts lanes, so it can be dropped anywhere; the others evaluate, so they
        // finish a step and then look at the stop signal.
        let tasks = &mu.inner.tasks;
        tasks.spawn_cancellable(Self::crank_forever(Arc::downgrade(&mu.inner)));
        tasks.spawn(Self::monitor_forever(
            Arc::downgrade(&mu.inner),
            tasks.stop_signal(),
        ));
        tasks.spawn(Self::compute_acknowledged(Arc::downgrade(&mu.inner)));
        mu
    }

    /// The background tasks: stopping them stops the messenger's work (`aos::Node::shutdown`).
    pub fn tasks(&self) -> &Tasks {
        &self.inner.tasks
    }

    pub fn scheduler(&self) -> &Scheduler {
        &self.inner.su
    }

    pub fn compute(&self) -> &ComputeUnit {
        &self.inner.cu
    }

    /// The node's signing address (also its scheduler id and default authority).
    pub fn address(&self) -> String {
        self.inner.node.address()
    }

    /// Accepts a signed item: decode, verify, schedule (durable on return), then evaluate and
    /// deliver in the background. An item for another node's process goes to that node's SU
    /// (`route`) and is acknowledged once that SU acknowledged it.
    pub async fn submit(&self, bytes: &[u8]) -> Result<Submitted, MuError> {
        let item = DataItem::from_bytes(bytes).map_err(MuError::Malformed)?;
        self.submit_decoded(&item).await
    }

    async fn submit_decoded(&self, item: &DataItem) -> Result<Submitted, MuError> {
        if let Route::There { url, .. } = self.route_of(item).await? {
            return self.submit_elsewhere(item, &url).await;
        }
        self.submit_item(item).await
    }

    /// What `POST /mu` does with any signed item: a module item is stored
    /// ([`Self::add_module`]), anything else is scheduled here or on its owner's node
    /// ([`Self::submit`]). Returns the item's id.
    pub async fn accept(&self, bytes: &[u8]) -> Result<String, MuError> {
        let item = DataItem::from_bytes(bytes).map_err(MuError::Malformed)?;
        if crate::module::is_module(&item) {
            return self.add_module(&item).await;
        }
        Ok(self.submit_decoded(&item).await?.id)
    }

    pub async fn submit_item(&self, item: &DataItem) -> Result<Submitted, MuError> {
        item.verify().map_err(MuError::BadSignature)?;
        if item.tag("Type") == Some("Process")
            && let Some(module) = item.tag("Module")
            && !self.inner.cu.has_module(module)?
        {
            return Err(MuError::UnknownModule(module.to_owned()));
        }
        let assignment = self.inner.su.schedule(item, None).await?;
        let process = ProcessId::parse(&assignment.process)
            .ok_or_else(|| StoreError::Corrupt("process id".into()))?;
        let this = self.clone();
        let slot = assignment.slot;
        // Stopping, nothing is evaluated in the background any more; a reader still computes it.
        self.inner.tasks.spawn(async move {
            match this.inner.cu.compute(&process, slot).await {
                Ok(()) => this.inner.wake.notify_one(),
                Err(e) => tracing::warn!(%process, slot, "evaluation failed: {e}"),
            }
        });
        Ok(Submitted {
            id: item.id(),
            process: assignment.process,
            slot,
        })
    }

    /// After a crash, messages may be acknowledged (in the log) but not computed: their sends are
    /// not in the outbox yet. Compute them now rather than when someone next reads the process.
    async fn compute_acknowledged(node: std::sync::Weak<Inner>) {
        let Some(inner) = node.upgrade() else {
            return;
        };
        let mu = Self { inner };
        let processes = match mu.inner.su.store().processes() {
            Ok(processes) => processes,
            Err(e) => {
                tracing::error!("cannot list processes to recover: {e}");
                return;
            }
        };
        drop(mu);
        let (walked, mut recomputed) = (processes.len(), 0usize);
        for record in processes {
            // Most processes are computed and cost only a read: yield between them, so a walk
            // over many thousands does not keep a runtime thread from the node's answers.
            tokio::task::yield_now().await;
            let Some(inner) = node.upgrade() else {
                return;
            };
            let mu = Self { inner };
            if mu.inner.tasks.is_stopped() {
                return;
            }
            let Some(last) = record.next_slot.checked_sub(1) else {
                continue;
            };
            let Some(process) = ProcessId::parse(&record.id) else {
                continue;
            };
            match mu.inner.cu.has_result(&process, last) {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(%process, "cannot check what is computed: {e}");
                    continue;
                }
            }
            recomputed += 1;
            match mu.inner.cu.compute(&process, last).await {
                Ok(()) => mu.inner.wake.notify_one(),
                Err(e) => tracing::warn!(%process, "recovery evaluation failed: {e}"),
            }
        }
        tracing::debug!(walked, recomputed, "acknowledged messages computed");
    }

    /// Waits until `message` itself has been computed and nothing sent on its behalf is still
    /// waiting in the outbox, or until `timeout`. Returns whether the crank finished.
    pub async fn wait_cranked(&self, message: &str, timeout: Duration) -> Result<bool, MuError> {
        let mut progress = self.inner.progress.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if !self.pending_for(message)? {
                return Ok(true);
            }
            self.inner.wake.notify_one();
            if tokio::time::timeout_at(deadline, progress.changed())
                .await
                .is_err()
            {
                return Ok(false);
            }
        }
    }

    /// Cranks whose deliveries the fan-out bound is still counting (ended ones are forgotten).
    pub fn cranks_in_progress(&self) -> usize {
        self.inner.fanout.lock().expect("fanout lock").len()
    }

    /// [`Self::wait_cranked`], then, if the crank has ended, the deliveries of it that could not
    /// be made. `None`: still going when `timeout` ran out.
    pub async fn crank_outcome(
        &self,
        message: &str,
        timeout: Duration,
    ) -> Result<Option<Vec<Undeliverable>>, MuError> {
        if !self.wait_cranked(message, timeout).await? {
            return Ok(None);
        }
        Ok(Some(self.inner.su.store().undeliverable_of(message)?))
    }

    /// Deliveries that could not be made (those still retained), oldest first.
    pub fn undeliverable(&self) -> Result<Vec<Undeliverable>, MuError> {
        Ok(self.inner.su.store().undeliverable()?)
    }

    fn pending_for(&self, message: &str) -> Result<bool, MuError> {
        // Until its own result is stored, what it sends is not in the outbox yet.
        if let Some(id) = b64::decode_32(message) {
            for (process, slot) in self.inner.su.store().placements(&id)? {
                if !self.inner.cu.has_result(&process, slot)? {
                    return Ok(true);
                }
            }
        }
        if self
            .inner
            .delivering
            .lock()
            .expect("delivering lock")
            .contains_key(message)
        {
            return Ok(true);
        }
        Ok(self.inner.su.store().outbox_has_crank(message)?)
    }

    /// Drops the fan-out counts of cranks with nothing left in the outbox or in flight.
    fn forget_ended_cranks(&self) -> Result<(), MuError> {
        let counted: Vec<String> = self
            .inner
            .fanout
            .lock()
            .expect("fanout lock")
            .keys()
            .cloned()
            .collect();
        let mut ended = HashSet::new();
        for crank in counted {
            if !self.pending_for(&crank)? {
                ended.insert(crank);
            }
        }
        self.inner
            .fanout
            .lock()
            .expect("fanout lock")
            .retain(|origin, _| !ended.contains(origin));
        Ok(())
    }

    /// Counts one more delivery for `origin`; false once it is over the fan-out bound.
    fn count_fanout(&self, origin: &str) -> bool {
        let mut fanout = self.inner.fanout.lock().expect("fanout lock");
        let count = fanout.entry(origin.to_owned()).or_insert(0);
        *count += 1;
        *count <= self.inner.limits.max_fanout
    }
}
