//! Monitoring: the processes whose cron ticks run when they are due rather than when the next
//! message arrives. The set is durable (a restarted node keeps monitoring). For each due process
//! the scheduler moves the process's clock fence to now and the compute unit runs the ticks
//! before it; what the ticks send goes through the outbox like any other delivery.

use std::sync::Weak;
use std::time::Duration;

use super::{Inner, Messenger, MuError, RouteError};
use crate::cron::{self, CronSchedule};
use crate::message::DataItem;
use crate::store::{self, ProcessId};
use crate::su::{ScheduleError, now_ms};
use crate::tasks::Stop;

/// Longest sleep of the monitor loop, so new monitors and clock jumps are noticed.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// After a failed tick, wait this long before trying that process again.
const RETRY_MS: u64 = 1_000;

impl Messenger {
    /// Starts running `process`'s cron ticks in real time. `request` is the caller's signed item
    /// (AO's MU takes one); it must verify and be signed by the process's owner or the node.
    /// Ticks run where the process is scheduled: a request for another node's process goes to
    /// that node's messenger, whose answer (a refusal too) is this one.
    pub async fn monitor(&self, process: &ProcessId, request: &DataItem) -> Result<(), MuError> {
        if self.relayed_monitor(process, request, true).await? {
            return Ok(());
        }
        self.check_cron_control(process, request)?;
        let key = *process;
        self.inner
            .su
            .writer()
            .write(move |txn| store::monitors::add(txn, &key))
            .await?;
        self.inner
            .monitors
            .lock()
            .expect("monitors lock")
            .insert(*process, 0);
        self.inner.monitor_wake.notify_one();
        Ok(())
    }

    /// Stops real-time ticks of `process` (its ticks still run, in order, before its next
    /// message). Only its owner or the node may.
    pub async fn unmonitor(&self, process: &ProcessId, request: &DataItem) -> Result<(), MuError> {
        if self.relayed_monitor(process, request, false).await? {
            return Ok(());
        }
        self.check_cron_control(process, request)?;
        let key = *process;
        self.inner
            .su
            .writer()
            .write(move |txn| store::monitors::remove(txn, &key))
            .await?;
        self.inner
            .monitors
            .lock()
            .expect("monitors lock")
            .remove(process);
        Ok(())
    }

    /// Hands a (un)monitor request for a process another node schedules to that node's
    /// messenger. `false`: the process is this node's, or nobody knows it (the local checks say
    /// so). The request is checked here only for its signature; the owner checks the rest.
    async fn relayed_monitor(
        &self,
        process: &ProcessId,
        request: &DataItem,
        start: bool,
    ) -> Result<bool, MuError> {
        let Some(su_url) = self.owner_url(process).await else {
            return Ok(false);
        };
        request.verify().map_err(MuError::BadSignature)?;
        // A Scheduler-Location names the SU; an aos node's MU is beside it.
        let root = su_url.trim_end_matches('/');
        let root = root.strip_suffix("/su").unwrap_or(root);
        self.inner
            .route
            .remote
            .relay_monitor(
                &format!("{root}/mu"),
                &process.to_string(),
                start,
                &request.to_bytes(),
            )
            .await
            .map_err(|e| RouteError::Forward(e).into())
            .map(|()| true)
    }

    /// `request` verifies, `process` exists and has a cron, and the signer may control it.
    fn check_cron_control(&self, process: &ProcessId, request: &DataItem) -> Result<(), MuError> {
        request.verify().map_err(MuError::BadSignature)?;
        let record = self
            .inner
            .su
            .store()
            .process(process)?
            .ok_or_else(|| ScheduleError::UnknownProcess(process.to_string()))?;
        cron::check_controller(&record, &request.owner_address(), &self.address())
            .map_err(ScheduleError::BadCron)?;
        if CronSchedule::of(&record).is_none() {
            return Err(MuError::NoCron(process.to_string()));
        }
        Ok(())
    }

    /// The monitored processes.
    pub fn monitored(&self) -> Vec<ProcessId> {
        self.inner
            .monitors
            .lock()
            .expect("monitors lock")
            .keys()
            .copied()
            .collect()
    }

    fn load_monitors(&self) -> Result<(), MuError> {
        let stored = self.inner.su.store().monitored()?;
        let mut monitors = self.inner.monitors.lock().expect("monitors lock");
        for process in stored {
            monitors.entry(process).or_insert(0);
        }
        Ok(())
    }

    pub(super) async fn monitor_forever(node: Weak<Inner>, mut stop: Stop) {
        if let Some(inner) = node.upgrade()
            && let Err(e) = (Self { inner }).load_monitors()
        {
            tracing::error!("cannot read the monitored processes: {e}");
        }
        while let Some(inner) = node.upgrade() {
            let mu = Self { inner };
            if stop.is_set() {
                return;
            }
            mu.run_due_ticks().await;
            let next = mu
                .inner
                .monitors
                .lock()
                .expect("monitors lock")
                .values()
                .min()
                .copied();
            let sleep = next.map_or(MAX_SLEEP, |next| {
                Duration::from_millis(next.saturating_sub(now_ms())).min(MAX_SLEEP)
            });
            // Sleep without a strong reference, so a dropped node is noticed.
            let wake = mu.inner.monitor_wake.clone();
            drop(mu);
            tokio::select! {
                _ = stop.wait() => return,
                _ = tokio::time::timeout(sleep, wake.notified()) => {}
            }
        }
    }

    async fn run_due_ticks(&self) {
        let now = now_ms();
        let due: Vec<ProcessId> = self
            .inner
            .monitors
            .lock()
            .expect("monitors lock")
            .iter()
            .filter(|(_, next)| **next <= now)
            .map(|(p, _)| *p)
            .collect();
        for process in due {
            if self.inner.tasks.is_stopped() {
                return;
            }
            let next = match self.tick(&process).await {
                Ok(Some(next)) => next,
                Ok(None) => u64::MAX,
                Err(e) => {
                    tracing::warn!(%process, "cron tick failed: {e}");
                    now_ms() + RETRY_MS
                }
            };
            // Unless it was unmonitored meanwhile.
            if let Some(slot) = self
                .inner
                .monitors
                .lock()
                .expect("monitors lock")
                .get_mut(&process)
            {
                *slot = next;
            }
        }
    }

    /// Runs the ticks of `process` that are due now; returns when the next one is.
    async fn tick(&self, process: &ProcessId) -> Result<Option<u64>, MuError> {
        let fence = self.inner.su.advance(*process).await?;
        // Messages placed from now on get `fence` or later, so ticks strictly before it are safe.
        let next = self
            .inner
            .cu
            .run_cron(process, fence.saturating_sub(1))
            .await?;
        self.inner.wake.notify_one();
        // Queued after the ticks' results, so it sees them: a monitored process's cron results
        // stay bounded however long it runs.
        let key = *process;
        let pruned = self
            .inner
            .su
            .writer()
            .write(move |txn| store::results::prune_cron_results(txn, &key, cron::RESULTS_KEPT))
            .await?;
        if pruned > 0 {
            tracing::debug!(%process, pruned, "old cron results pruned");
        }
        Ok(next)
    }
}
