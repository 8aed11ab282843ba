//! The messenger unit: verifies signed items, hands them to the scheduler, has the compute unit
//! evaluate them, and delivers what processes send onward — recursively ("cranking").
//!
//! Pending deliveries live in the store's outbox, written in the same commit as the result that
//! produced them; a delivery leaves the outbox in the same commit as the append that fulfils it. A
//! crash therefore neither drops nor doubles a message: on start the cranker drains what is left.
//! A crank is bounded in depth (hops from the user's message) and in fan-out (deliveries per
//! user message), so two processes that answer each other forever stop at the bound.
//!
//! Monitoring (`monitor`) keeps a process's cron ticks running in real time; see `crate::cron`.

mod monitor;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use thiserror::Error;
use tokio::sync::{Notify, watch};

use crate::cu::{CRANK_DEPTH_TAG, ComputeUnit, CuError};
use crate::message::{DataItem, Ed25519Signer, ItemDraft, ItemError, Signer, Tag, b64};
use crate::store::{self, Delivery, DeliveryKind, ProcessId, StoreError};
use crate::su::{ScheduleError, Scheduler};

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
}

/// Bounds on one crank.
#[derive(Debug, Clone)]
pub struct CrankLimits {
    /// Hops from the user's message; a delivery deeper than this is not made.
    pub max_depth: u32,
    /// Deliveries made on behalf of one user message.
    pub max_fanout: u32,
}

impl Default for CrankLimits {
    fn default() -> Self {
        Self {
            max_depth: 32,
            max_fanout: 1000,
        }
    }
}

/// Above this many fan-out counts, the cranker drops those of ended cranks before going on.
const FANOUT_COUNTS_KEPT: usize = 4096;

/// Where a submitted message landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submitted {
    pub id: String,
    pub process: String,
    pub slot: u64,
}

/// A delivery that could not be made, kept for inspection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undeliverable {
    pub delivery: Delivery,
    pub reason: String,
}

impl Undeliverable {
    /// Where the delivery was going, for people: the Target, or what a spawn or assignment is.
    pub fn target(&self) -> String {
        match &self.delivery.kind {
            DeliveryKind::Message { body } => body
                .get("Target")
                .and_then(Value::as_str)
                .unwrap_or("(no Target)")
                .to_owned(),
            DeliveryKind::Spawn { .. } => "(a new process)".to_owned(),
            DeliveryKind::Assignment { processes, .. } => processes.join(", "),
        }
    }
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
    /// Bumped after every delivery round, so waiters re-check the outbox.
    progress: watch::Sender<u64>,
    /// Deliveries made per user message, for cranks that may not have ended.
    fanout: Mutex<HashMap<String, u32>>,
    /// Monitored processes and when each one's next tick is due (ms).
    monitors: Mutex<BTreeMap<ProcessId, u64>>,
    monitor_wake: Arc<Notify>,
    /// The crank (`pushed_for`) of the delivery being made right now: it has left the outbox
    /// but what it produces may not be there yet.
    delivering: Mutex<Option<String>>,
}

impl Messenger {
    /// Starts the messenger and its cranker task (which first drains what a previous run left).
    pub fn start(su: Scheduler, cu: ComputeUnit, node: Ed25519Signer, limits: CrankLimits) -> Self {
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
                monitors: Mutex::new(BTreeMap::new()),
                monitor_wake: Arc::new(Notify::new()),
                delivering: Mutex::new(None),
            }),
        };
        // The background tasks hold the messenger weakly: they stop once the node lets go of it.
        tokio::spawn(Self::crank_forever(Arc::downgrade(&mu.inner)));
        tokio::spawn(Self::monitor_forever(Arc::downgrade(&mu.inner)));
        mu
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
    /// deliver in the background.
    pub async fn submit(&self, bytes: &[u8]) -> Result<Submitted, MuError> {
        let item = DataItem::from_bytes(bytes).map_err(MuError::Malformed)?;
        self.submit_item(&item).await
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
        tokio::spawn(async move {
            match this.inner.cu.result(&process, slot).await {
                Ok(_) => this.inner.wake.notify_one(),
                Err(e) => tracing::warn!(%process, slot, "evaluation failed: {e}"),
            }
        });
        Ok(Submitted {
            id: item.id(),
            process: assignment.process,
            slot,
        })
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
        let mut lost = self.undeliverable()?;
        lost.retain(|u| u.delivery.pushed_for == message);
        Ok(Some(lost))
    }

    /// Deliveries that could not be made.
    pub fn undeliverable(&self) -> Result<Vec<Undeliverable>, MuError> {
        let store = self.inner.su.store();
        let txn = store.db().begin_read().map_err(StoreError::from)?;
        let table = txn
            .open_table(store::UNDELIVERABLE)
            .map_err(StoreError::from)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(StoreError::from)? {
            let (_, v) = entry.map_err(StoreError::from)?;
            out.push(store::decode(v.value())?);
        }
        Ok(out)
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
            .as_deref()
            == Some(message)
        {
            return Ok(true);
        }
        Ok(self
            .outbox(usize::MAX)?
            .iter()
            .any(|(_, d)| d.pushed_for == message))
    }

    fn outbox(&self, limit: usize) -> Result<Vec<(u64, Delivery)>, MuError> {
        let store = self.inner.su.store();
        let txn = store.db().begin_read().map_err(StoreError::from)?;
        let table = txn.open_table(store::OUTBOX).map_err(StoreError::from)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(StoreError::from)?.take(limit) {
            let (k, v) = entry.map_err(StoreError::from)?;
            out.push((k.value(), store::decode(v.value())?));
        }
        Ok(out)
    }

    async fn crank_forever(node: Weak<Inner>) {
        while let Some(inner) = node.upgrade() {
            let mu = Self { inner };
            if let Err(e) = mu.crank_round().await {
                tracing::error!("crank round failed: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            mu.inner.progress.send_modify(|n| *n += 1);
            // Woken by a submit, by any result commit (it may have queued deliveries), or by
            // the clock as a fallback. The wait holds no strong reference, so a dropped node
            // is noticed.
            let wake = mu.inner.wake.clone();
            let mut commits = mu.inner.cu.commits();
            commits.mark_unchanged();
            drop(mu);
            let _ = tokio::time::timeout(Duration::from_millis(500), async {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = commits.changed() => {}
                }
            })
            .await;
        }
    }

    /// Delivers everything in the outbox, including what those deliveries produce.
    async fn crank_round(&self) -> Result<(), MuError> {
        loop {
            let batch = self.outbox(64)?;
            if batch.is_empty() {
                // A delivery returns only once its target's result (and what that sends) is in
                // the outbox, so an empty outbox means every crank has ended: forget their counts.
                self.inner.fanout.lock().expect("fanout lock").clear();
                return Ok(());
            }
            if self.inner.fanout.lock().expect("fanout lock").len() > FANOUT_COUNTS_KEPT {
                // Under steady load the outbox may never run empty.
                self.forget_ended_cranks()?;
            }
            for (seq, delivery) in batch {
                *self.inner.delivering.lock().expect("delivering lock") =
                    Some(delivery.pushed_for.clone());
                let delivered = self.deliver(seq, delivery).await;
                *self.inner.delivering.lock().expect("delivering lock") = None;
                delivered?;
            }
        }
    }

    async fn deliver(&self, seq: u64, delivery: Delivery) -> Result<(), MuError> {
        if delivery.depth > self.inner.limits.max_depth {
            let reason = format!(
                "crank depth {} exceeds {}",
                delivery.depth, self.inner.limits.max_depth
            );
            return self.give_up(seq, delivery, reason).await;
        }
        if !self.count_fanout(&delivery.pushed_for) {
            let reason = format!(
                "more than {} deliveries for one message",
                self.inner.limits.max_fanout
            );
            return self.give_up(seq, delivery, reason).await;
        }
        match &delivery.kind {
            DeliveryKind::Message { body } => {
                let Some(target) = body
                    .get("Target")
                    .and_then(Value::as_str)
                    .and_then(b64::decode_32)
                else {
                    return self.give_up(seq, delivery, "no valid Target".into()).await;
                };
                let draft = self
                    .forward_draft(&delivery, body, "Message")
                    .target(target);
                let item = self.inner.node.sign(draft).map_err(MuError::Malformed)?;
                self.schedule_forwarded(seq, delivery, &item).await
            }
            DeliveryKind::Spawn { body } => {
                let mut draft = self.forward_draft(&delivery, body, "Process");
                if !draft.tags.iter().any(|t| t.name == "Scheduler") {
                    draft.tags.push(Tag::new("Scheduler", self.address()));
                }
                let item = self.inner.node.sign(draft).map_err(MuError::Malformed)?;
                let reference = item.tag("Reference").map(str::to_owned);
                self.schedule_forwarded(seq, delivery.clone(), &item)
                    .await?;
                self.notify_spawned(&delivery, &item.id(), reference).await
            }
            DeliveryKind::Assignment { message, processes } => {
                let Some(message_id) = b64::decode_32(message) else {
                    return self
                        .give_up(
                            seq,
                            delivery.clone(),
                            "assignment of an invalid message id".into(),
                        )
                        .await;
                };
                for process in processes {
                    let Some(target) = ProcessId::parse(process) else {
                        continue;
                    };
                    match self.inner.su.assign(message_id, target, None).await {
                        Ok(a) => {
                            self.inner.cu.result(&target, a.slot).await?;
                        }
                        Err(e) => tracing::warn!(%process, "assignment not made: {e}"),
                    }
                }
                self.remove(seq).await
            }
        }
    }

    /// Drops the fan-out counts of cranks with nothing left in the outbox.
    fn forget_ended_cranks(&self) -> Result<(), MuError> {
        let pending: std::collections::HashSet<String> = self
            .outbox(usize::MAX)?
            .into_iter()
            .map(|(_, d)| d.pushed_for)
            .collect();
        self.inner
            .fanout
            .lock()
            .expect("fanout lock")
            .retain(|origin, _| pending.contains(origin));
        Ok(())
    }

    /// Counts one more delivery for `origin`; false once it is over the fan-out bound.
    fn count_fanout(&self, origin: &str) -> bool {
        let mut fanout = self.inner.fanout.lock().expect("fanout lock");
        let count = fanout.entry(origin.to_owned()).or_insert(0);
        *count += 1;
        *count <= self.inner.limits.max_fanout
    }

    /// A node-signed item carrying what the process wrote, marked with where it comes from.
    fn forward_draft(&self, delivery: &Delivery, body: &Value, kind: &str) -> ItemDraft {
        const OURS: [&str; 6] = [
            "Data-Protocol",
            "Variant",
            "Type",
            "From-Process",
            "Pushed-For",
            CRANK_DEPTH_TAG,
        ];
        let mut draft = ItemDraft::new(match body.get("Data") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(text)) => text.clone().into_bytes(),
            Some(other) => other.to_string().into_bytes(),
        });
        draft.tags = vec![
            Tag::new("Data-Protocol", "ao"),
            Tag::new("Variant", "ao.TN.1"),
            Tag::new("Type", kind),
            Tag::new("From-Process", delivery.from_process.clone()),
            Tag::new("Pushed-For", delivery.pushed_for.clone()),
            Tag::new(CRANK_DEPTH_TAG, delivery.depth.to_string()),
        ];
        for tag in body
            .get("Tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(value)) = (tag.get("name"), tag.get("value")) else {
                continue;
            };
            let name = name
                .as_str()
                .map_or_else(|| name.to_string(), str::to_owned);
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            if !OURS.contains(&name.as_str()) {
                draft.tags.push(Tag::new(name, value));
            }
        }
        // Deterministic anchor: the same delivery always makes the same item (so a redelivery is
        // recognised as a duplicate), and two equal sends from different slots differ.
        let anchor = body
            .get("Anchor")
            .and_then(Value::as_str)
            .and_then(|a| <[u8; 32]>::try_from(a.as_bytes()).ok())
            .unwrap_or_else(|| {
                let mut hasher = Sha256::new();
                hasher.update(delivery.from_process.as_bytes());
                hasher.update(delivery.from_slot.to_be_bytes());
                if let Some(tick) = delivery.from_tick {
                    hasher.update(b"tick");
                    hasher.update(tick.to_be_bytes());
                }
                hasher.update(body.to_string().as_bytes());
                hasher.finalize().into()
            });
        draft.anchor = Some(anchor);
        draft
    }

    async fn schedule_forwarded(
        &self,
        seq: u64,
        delivery: Delivery,
        item: &DataItem,
    ) -> Result<(), MuError> {
        match self.inner.su.schedule(item, Some(seq)).await {
            Ok(assignment) => {
                let process = ProcessId::parse(&assignment.process)
                    .ok_or_else(|| StoreError::Corrupt("process id".into()))?;
                if let Err(e) = self.inner.cu.result(&process, assignment.slot).await {
                    tracing::warn!(%process, slot = assignment.slot, "forwarded message failed to evaluate: {e}");
                }
                Ok(())
            }
            Err(ScheduleError::Duplicate(_)) => self.remove(seq).await,
            Err(
                e @ (ScheduleError::UnknownProcess(_)
                | ScheduleError::NoTarget
                | ScheduleError::WrongScheduler(..)),
            ) => self.give_up(seq, delivery, e.to_string()).await,
            Err(e) => Err(e.into()),
        }
    }

    /// Tells the spawning process the id of its child (aos's `Spawned` message).
    async fn notify_spawned(
        &self,
        delivery: &Delivery,
        child: &str,
        reference: Option<String>,
    ) -> Result<(), MuError> {
        let Some(parent) = b64::decode_32(&delivery.from_process) else {
            return Ok(());
        };
        let mut draft = ItemDraft::new("")
            .tag("Data-Protocol", "ao")
            .tag("Variant", "ao.TN.1")
            .tag("Type", "Message")
            .tag("Action", "Spawned")
            .tag("Process", child)
            .tag("From-Process", child)
            .tag("Pushed-For", delivery.pushed_for.clone())
            .tag(CRANK_DEPTH_TAG, delivery.depth.to_string())
            .target(parent);
        if let Some(reference) = reference {
            draft.tags.push(Tag::new("X-Reference", reference));
        }
        let item = self.inner.node.sign(draft).map_err(MuError::Malformed)?;
        match self.inner.su.schedule(&item, None).await {
            Ok(a) => {
                let process = ProcessId(parent);
                if let Err(e) = self.inner.cu.result(&process, a.slot).await {
                    tracing::warn!(%process, "Spawned notice failed to evaluate: {e}");
                }
                Ok(())
            }
            Err(ScheduleError::Duplicate(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn remove(&self, seq: u64) -> Result<(), MuError> {
        self.inner
            .su
            .writer()
            .write(move |txn| {
                txn.open_table(store::OUTBOX)?.remove(seq)?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    async fn give_up(&self, seq: u64, delivery: Delivery, reason: String) -> Result<(), MuError> {
        tracing::warn!(from = %delivery.from_process, slot = delivery.from_slot, "undeliverable: {reason}");
        let record = store::encode(&Undeliverable { delivery, reason });
        self.inner
            .su
            .writer()
            .write(move |txn| {
                txn.open_table(store::OUTBOX)?.remove(seq)?;
                txn.open_table(store::UNDELIVERABLE)?
                    .insert(seq, &record[..])?;
                Ok(())
            })
            .await?;
        Ok(())
    }
}
