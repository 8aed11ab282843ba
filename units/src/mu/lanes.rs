//! Delivering the outbox. Each target is a *lane* (see `Delivery::lane`): one task per lane makes
//! its deliveries in order, waiting for each to be computed (so what it sends is queued before
//! the crank counts as ended); up to `CrankLimits::concurrent_targets` lanes run at once. A lane
//! whose store write fails backs off and retries; a delivery that can never be made (it cannot
//! be signed, or its target refuses it) is given up with its reason, and the lane goes on.
//!
//! A target scheduled on another node (`route`) gets its deliveries through that node's SU: the
//! row leaves the outbox only once the remote SU acknowledged (or said it has the item already,
//! which is what a retry after a crash sees), so each delivery lands exactly once. A peer that is
//! down stalls only the lanes to its processes; they back off (doubling, up to
//! [`RETRY_AT_MOST`]) and keep the reason for `GET /mu/crank/{id}`.

use std::collections::{HashMap, HashSet};
use std::sync::Weak;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::remote::ForwardError;
use super::{Inner, Messenger, MuError, Route, RouteError};
use crate::crank::{self, CRANK_DEPTH_TAG, FROM_PROCESS_TAG, PUSHED_FOR_TAG};
use crate::message::{DataItem, ItemDraft, Signer, Tag, b64};
use crate::store::{self, Delivery, DeliveryKind, ProcessId, StoreError};
use crate::su::{Fault, ScheduleError};

/// Deliveries a lane reads from the store at a time.
const LANE_BATCH: usize = 64;

/// Above this many fan-out counts, the cranker drops those of ended cranks.
const FANOUT_COUNTS_KEPT: usize = 4096;

/// A lane whose delivery failed (the store's or a peer's fault) waits this long before trying
/// again, doubling with each failure in a row up to [`RETRY_AT_MOST`].
const RETRY_AFTER: Duration = Duration::from_millis(500);
const RETRY_AT_MOST: Duration = Duration::from_secs(8);

/// What became of a forwarded item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Landed {
    Now,
    /// It was in its target's log already.
    Before,
    /// The target refused it; it is recorded as undeliverable.
    Refused,
}

/// Lanes in flight and lanes backing off.
#[derive(Debug, Default)]
pub(super) struct LaneSet {
    running: HashSet<[u8; 32]>,
    retry_at: HashMap<[u8; 32], Instant>,
    /// Lanes whose last attempt failed: why, and how many attempts in a row failed.
    stalled: HashMap<[u8; 32], Stall>,
}

/// Why a lane is waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stall {
    pub reason: String,
    pub attempts: u32,
}

impl LaneSet {
    pub(super) fn stall(&self, lane: &[u8; 32]) -> Option<Stall> {
        self.stalled.get(lane).cloned()
    }
}

/// A delivery of a crank still waiting in the outbox, and why it waits if its lane failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Where it goes (as [`crate::store::Undeliverable::target`] says it).
    pub target: String,
    /// `None` while it simply has its turn coming.
    pub stall: Option<Stall>,
}

/// Pending deliveries `Messenger::pending_of` lists at most.
const PENDING_LISTED: usize = 100;

impl Messenger {
    /// What of `crank` is still in the outbox (at most 100), each with the reason its lane is
    /// waiting, if it is.
    pub fn pending_of(&self, crank: &str) -> Result<Vec<Pending>, MuError> {
        let waiting = self
            .inner
            .su
            .store()
            .outbox_of_crank(crank, PENDING_LISTED)?;
        let lanes = self.inner.lanes.lock().expect("lanes lock");
        Ok(waiting
            .into_iter()
            .map(|(_, delivery)| Pending {
                stall: lanes.stall(&delivery.lane()),
                target: store::Undeliverable {
                    delivery,
                    reason: String::new(),
                }
                .target(),
            })
            .collect())
    }

    pub(super) async fn crank_forever(node: Weak<Inner>) {
        while let Some(inner) = node.upgrade() {
            let mu = Self { inner };
            // Listen for commits before reading the outbox: one that lands while the lanes are
            // being started must wake the next round, not wait for the fallback tick.
            let mut commits = mu.inner.cu.commits();
            commits.mark_unchanged();
            if let Err(e) = mu.start_lanes() {
                tracing::error!("cannot read the outbox: {e}");
            }
            mu.inner.progress.send_modify(|n| *n += 1);
            // Woken by a submit, by a lane that ended, by any result commit (it may have queued
            // deliveries), or by the clock as a fallback. The wait holds no strong reference,
            // so a dropped node is noticed.
            let wake = mu.inner.wake.clone();
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

    /// Starts a task for every lane with deliveries waiting that is not running or backing off,
    /// while there is room.
    fn start_lanes(&self) -> Result<(), MuError> {
        let room = {
            let lanes = self.inner.lanes.lock().expect("lanes lock");
            self.inner
                .limits
                .concurrent_targets
                .saturating_sub(lanes.running.len())
        };
        if room == 0 {
            return Ok(());
        }
        let store = self.inner.su.store();
        // Look past the lanes that are busy, so they cannot hide the idle ones behind them.
        let busy = self.inner.lanes.lock().expect("lanes lock").running.len();
        let waiting = store.outbox_lanes(room + busy + 64)?;
        if waiting.is_empty() && busy == 0 {
            // Nothing queued and nothing in flight: every crank has ended.
            self.inner.fanout.lock().expect("fanout lock").clear();
            return Ok(());
        }
        if self.inner.fanout.lock().expect("fanout lock").len() > FANOUT_COUNTS_KEPT {
            self.forget_ended_cranks()?;
        }
        let now = Instant::now();
        let mut lanes = self.inner.lanes.lock().expect("lanes lock");
        lanes.retry_at.retain(|_, at| *at > now);
        for lane in waiting {
            if lanes.running.len() >= self.inner.limits.concurrent_targets {
                break;
            }
            if lanes.running.contains(&lane) || lanes.retry_at.contains_key(&lane) {
                continue;
            }
            if self.inner.tasks.spawn(self.clone().run_lane(lane)) {
                lanes.running.insert(lane);
            }
        }
        Ok(())
    }

    /// Delivers `lane` in order until it is empty or a delivery fails for the store's sake.
    async fn run_lane(self, lane: [u8; 32]) {
        let failed = loop {
            let batch = match self.inner.su.store().outbox_lane(&lane, LANE_BATCH) {
                Ok(batch) => batch,
                Err(e) => break Some(MuError::from(e)),
            };
            if batch.is_empty() {
                break None;
            }
            let mut error = None;
            for (seq, delivery) in batch {
                // A node that is stopping makes no more deliveries; they wait in the outbox.
                if self.inner.tasks.is_stopped() {
                    break;
                }
                let crank = delivery.pushed_for.clone();
                *self
                    .inner
                    .delivering
                    .lock()
                    .expect("delivering lock")
                    .entry(crank.clone())
                    .or_insert(0) += 1;
                let delivered = self.deliver(seq, delivery).await;
                {
                    let mut delivering = self.inner.delivering.lock().expect("delivering lock");
                    if let Some(n) = delivering.get_mut(&crank) {
                        *n -= 1;
                        if *n == 0 {
                            delivering.remove(&crank);
                        }
                    }
                }
                self.inner.progress.send_modify(|n| *n += 1);
                if let Err(e) = delivered {
                    error = Some(e);
                    break;
                }
            }
            if let Some(e) = error {
                break Some(e);
            }
            if self.inner.tasks.is_stopped() {
                break None;
            }
        };
        {
            let mut lanes = self.inner.lanes.lock().expect("lanes lock");
            lanes.running.remove(&lane);
            match failed {
                Some(e) => {
                    let attempts = lanes.stalled.get(&lane).map_or(0, |s| s.attempts) + 1;
                    let wait = RETRY_AFTER
                        .saturating_mul(1 << (attempts - 1).min(16))
                        .min(RETRY_AT_MOST);
                    tracing::warn!(lane = %b64::encode(lane), attempts, "delivery failed, retrying in {wait:?}: {e}");
                    lanes.retry_at.insert(lane, Instant::now() + wait);
                    let reason = e.to_string();
                    lanes.stalled.insert(lane, Stall { reason, attempts });
                }
                None => {
                    lanes.stalled.remove(&lane);
                }
            }
        }
        self.inner.progress.send_modify(|n| *n += 1);
        self.inner.wake.notify_one();
    }

    /// Makes one delivery. `Err` only for the store's failures (the delivery stays queued).
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
                let draft = crank::forward_draft(&delivery, body, "Message").target(target);
                let item = match self.inner.node.sign(draft) {
                    Ok(item) => item,
                    Err(e) => {
                        let reason = format!("cannot be sent as a data item: {e}");
                        return self.give_up(seq, delivery, reason).await;
                    }
                };
                self.schedule_forwarded(seq, delivery, &item)
                    .await
                    .map(drop)
            }
            DeliveryKind::Spawn { body } => {
                let mut draft = crank::forward_draft(&delivery, body, "Process");
                if !draft.tags.iter().any(|t| t.name == "Scheduler") {
                    draft.tags.push(Tag::new("Scheduler", self.address()));
                }
                let item = match self.inner.node.sign(draft) {
                    Ok(item) => item,
                    Err(e) => {
                        let reason = format!("spawn cannot be sent as a data item: {e}");
                        return self.give_up(seq, delivery, reason).await;
                    }
                };
                let reference = item.tag("Reference").map(str::to_owned);
                // Also when it landed before a crash: the notice may not have gone out then
                // (the scheduler refuses the notice itself if it did).
                if self
                    .schedule_forwarded(seq, delivery.clone(), &item)
                    .await?
                    != Landed::Refused
                {
                    self.notify_spawned(&delivery, &item.id(), reference)
                        .await?;
                }
                Ok(())
            }
            DeliveryKind::Assignment { message, processes } => {
                let Some(message_id) = b64::decode_32(message) else {
                    let reason = "assignment of an invalid message id".to_owned();
                    return self.give_up(seq, delivery.clone(), reason).await;
                };
                let mut refused = Vec::new();
                for process in processes {
                    let Some(target) = ProcessId::parse(process) else {
                        refused.push(format!("{process}: not a process id"));
                        continue;
                    };
                    match self.inner.su.assign(message_id, target, None).await {
                        Ok(a) => {
                            if let Err(e) = self.inner.cu.result(&target, a.slot).await {
                                tracing::warn!(%process, "assigned message failed to evaluate: {e}");
                            }
                        }
                        Err(e) if e.fault() == Fault::Refused => {
                            if !matches!(e, ScheduleError::Duplicate(_)) {
                                refused.push(format!("{process}: {e}"));
                            }
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                if refused.is_empty() {
                    self.remove(seq).await
                } else {
                    self.give_up(seq, delivery.clone(), refused.join("; "))
                        .await
                }
            }
        }
    }

    /// Schedules a node-signed item for delivery `seq` and waits for its evaluation.
    async fn schedule_forwarded(
        &self,
        seq: u64,
        delivery: Delivery,
        item: &DataItem,
    ) -> Result<Landed, MuError> {
        match self.route_of(item).await {
            Ok(Route::Here) => {}
            Ok(Route::There { url, .. }) => {
                return self.forward_delivery(seq, delivery, item, &url).await;
            }
            // No record locates the scheduler (never had one, or it expired): nothing to retry.
            Err(MuError::Route(e @ RouteError::UnknownScheduler(_))) => {
                return self
                    .give_up(seq, delivery, e.to_string())
                    .await
                    .map(|()| Landed::Refused);
            }
            Err(e) => return Err(e),
        }
        match self.inner.su.schedule(item, Some(seq)).await {
            Ok(assignment) => {
                let process = ProcessId::parse(&assignment.process)
                    .ok_or_else(|| StoreError::Corrupt("process id".into()))?;
                if let Err(e) = self.inner.cu.result(&process, assignment.slot).await {
                    tracing::warn!(%process, slot = assignment.slot, "forwarded message failed to evaluate: {e}");
                }
                Ok(Landed::Now)
            }
            // Delivered before a crash took the outbox row's removal with it.
            Err(ScheduleError::Duplicate(_)) => self.remove(seq).await.map(|()| Landed::Before),
            Err(e) => match e.fault() {
                Fault::Refused => self
                    .give_up(seq, delivery, e.to_string())
                    .await
                    .map(|()| Landed::Refused),
                Fault::Failed => Err(e.into()),
            },
        }
    }

    /// Delivery `seq` to another node's SU at `url`. The row goes once that SU has the item;
    /// until then (peer down, failing) it stays and the lane retries.
    async fn forward_delivery(
        &self,
        seq: u64,
        delivery: Delivery,
        item: &DataItem,
        url: &str,
    ) -> Result<Landed, MuError> {
        match self.forward(url, item).await {
            Ok(_) => self.remove(seq).await.map(|()| Landed::Now),
            Err(RouteError::Forward(ForwardError::Duplicate { .. })) => {
                self.remove(seq).await.map(|()| Landed::Before)
            }
            Err(e @ RouteError::Forward(ForwardError::Refused { .. })) => self
                .give_up(seq, delivery, e.to_string())
                .await
                .map(|()| Landed::Refused),
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
            .tag(FROM_PROCESS_TAG, child)
            .tag(PUSHED_FOR_TAG, delivery.pushed_for.clone())
            .tag(CRANK_DEPTH_TAG, delivery.depth.to_string())
            .target(parent);
        if let Some(reference) = reference {
            draft.tags.push(Tag::new("X-Reference", reference));
        }
        let item = match self.inner.node.sign(draft) {
            Ok(item) => item,
            Err(e) => {
                tracing::warn!(parent = %delivery.from_process, "Spawned notice cannot be signed: {e}");
                return Ok(());
            }
        };
        match self.inner.su.schedule(&item, None).await {
            Ok(a) => {
                let process = ProcessId(parent);
                if let Err(e) = self.inner.cu.result(&process, a.slot).await {
                    tracing::warn!(%process, "Spawned notice failed to evaluate: {e}");
                }
                Ok(())
            }
            Err(e) => match e.fault() {
                Fault::Refused => Ok(()),
                Fault::Failed => Err(e.into()),
            },
        }
    }

    async fn remove(&self, seq: u64) -> Result<(), MuError> {
        self.inner
            .su
            .writer()
            .write(move |txn| store::outbox::fulfil(txn, seq).map(drop))
            .await?;
        Ok(())
    }

    async fn give_up(&self, seq: u64, delivery: Delivery, reason: String) -> Result<(), MuError> {
        tracing::warn!(from = %delivery.from_process, slot = delivery.from_slot, "undeliverable: {reason}");
        self.inner
            .su
            .writer()
            .write(move |txn| store::outbox::give_up(txn, seq, &reason))
            .await?;
        Ok(())
    }
}
