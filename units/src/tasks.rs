//! The background work of a node — the cranker and its lanes, the monitor, evaluations started by
//! a submit, location renewal and peer pulls, periodic checkpoints — owned in one place, so a
//! node can stop it all and know it has stopped before it checkpoints and closes its store.
//!
//! A task is spawned here rather than with `tokio::spawn`. Stopping ([`Tasks::stop`]) raises a
//! signal every task can see ([`Stop`]), refuses new tasks, and waits for the running ones:
//! those spawned with [`Tasks::spawn_cancellable`] are dropped at their next await point; the
//! others run to their end and are expected to look at the signal between steps (an evaluation
//! is finished rather than abandoned with its thread still running). Whatever has not ended
//! after [`STOP_GRACE`] is aborted. Dropping the last handle aborts everything at once.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long [`Tasks::stop`] waits for tasks to end on their own before aborting them.
pub const STOP_GRACE: Duration = Duration::from_secs(15);

/// A set of background tasks. Cheap to clone; clones share the set.
#[derive(Clone)]
pub struct Tasks {
    inner: Arc<Inner>,
}

struct Inner {
    stop: watch::Sender<bool>,
    /// `None` once stopped: nothing more may start.
    running: Mutex<Option<JoinSet<()>>>,
}

impl std::fmt::Debug for Tasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tasks")
            .field("stopped", &self.is_stopped())
            .field("running", &self.running())
            .finish()
    }
}

impl Default for Tasks {
    fn default() -> Self {
        Self::new()
    }
}

/// The stop signal, as a task sees it.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the set is stopping (at once if it is).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }

    /// Sleeps for `period`; `false` if the set began stopping meanwhile.
    pub async fn sleep(&mut self, period: Duration) -> bool {
        tokio::select! {
            _ = self.wait() => false,
            _ = tokio::time::sleep(period) => !self.is_set(),
        }
    }
}

impl Tasks {
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                stop: watch::channel(false).0,
                running: Mutex::new(Some(JoinSet::new())),
            }),
        }
    }

    /// The stop signal, for a task to look at between its steps.
    pub fn stop_signal(&self) -> Stop {
        Stop(self.inner.stop.subscribe())
    }

    pub fn is_stopped(&self) -> bool {
        *self.inner.stop.borrow()
    }

    /// Tasks not yet ended.
    pub fn running(&self) -> usize {
        let mut running = self.inner.running.lock().expect("tasks lock");
        running.as_mut().map_or(0, |set| {
            while set.try_join_next().is_some() {}
            set.len()
        })
    }

    /// Runs `task` to its end; [`Self::stop`] waits for it (up to [`STOP_GRACE`]). `false`, and
    /// `task` dropped unstarted, once the set is stopping. Needs a tokio runtime.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) -> bool {
        let mut running = self.inner.running.lock().expect("tasks lock");
        let Some(set) = running.as_mut().filter(|_| !self.is_stopped()) else {
            return false;
        };
        // Ended tasks stay in the set until joined: reap them as new ones come.
        while set.try_join_next().is_some() {}
        set.spawn(task);
        true
    }

    /// Runs `task` until it ends or the set begins stopping, whichever is first.
    pub fn spawn_cancellable(&self, task: impl Future<Output = ()> + Send + 'static) -> bool {
        let mut stop = self.stop_signal();
        self.spawn(async move {
            tokio::select! {
                biased;
                _ = stop.wait() => {}
                _ = task => {}
            }
        })
    }

    /// Calls `step` every `period` (the first time after one period) until the set stops; a
    /// step under way is finished.
    pub fn every<F, Fut>(&self, period: Duration, mut step: F) -> bool
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut stop = self.stop_signal();
        self.spawn(async move {
            while stop.sleep(period).await {
                step().await;
            }
        })
    }

    /// Raises the stop signal, refuses new tasks and waits until every task has ended
    /// (aborting what is still running after [`STOP_GRACE`]).
    pub async fn stop(&self) {
        let Some(mut set) = self.halt() else {
            return;
        };
        let ended = tokio::time::timeout(STOP_GRACE, async {
            while set.join_next().await.is_some() {}
        })
        .await;
        if ended.is_err() {
            tracing::warn!(
                left = set.len(),
                "background tasks still running {STOP_GRACE:?} after the stop; aborting them"
            );
            set.abort_all();
            while set.join_next().await.is_some() {}
        }
    }

    /// Raises the stop signal and aborts every task without waiting (a node dropped without a
    /// shutdown).
    pub fn abort(&self) {
        if let Some(mut set) = self.halt() {
            set.abort_all();
            set.detach_all();
        }
    }

    fn halt(&self) -> Option<JoinSet<()>> {
        let mut running = self.inner.running.lock().expect("tasks lock");
        self.inner.stop.send_replace(true);
        running.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn stop_waits_for_running_tasks_and_refuses_new_ones() {
        let tasks = Tasks::new();
        let steps = Arc::new(AtomicU32::new(0));
        let counted = steps.clone();
        tasks.every(Duration::from_secs(1), move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        let finished = Arc::new(AtomicU32::new(0));
        let done = finished.clone();
        let mut stop = tasks.stop_signal();
        tasks.spawn(async move {
            stop.wait().await;
            // Finishing its step after the signal: stop waits for this.
            tokio::time::sleep(Duration::from_millis(300)).await;
            done.fetch_add(1, Ordering::SeqCst);
        });
        tasks.spawn_cancellable(std::future::pending());
        tokio::time::sleep(Duration::from_millis(3500)).await;
        assert_eq!(steps.load(Ordering::SeqCst), 3);
        assert_eq!(tasks.running(), 3);
        tasks.stop().await;
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        assert_eq!(tasks.running(), 0);
        assert!(!tasks.spawn(async {}));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(steps.load(Ordering::SeqCst), 3, "no step after the stop");
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_ignores_the_signal_is_aborted_after_the_grace() {
        let tasks = Tasks::new();
        tasks.spawn(std::future::pending());
        let started = tokio::time::Instant::now();
        tasks.stop().await;
        assert!(started.elapsed() >= STOP_GRACE);
        assert_eq!(tasks.running(), 0);
    }
}
