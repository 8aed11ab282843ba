//! Group commit. Every write of the node goes through one writer thread, which takes all the jobs
//! waiting at that moment, runs them in one redb transaction and commits once: under load many
//! appends share one fsync, and an append is acknowledged only after its commit.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use redb::WriteTransaction;
use tokio::sync::{mpsc, oneshot, watch};

use super::{Store, StoreError};

/// Most jobs folded into one commit; bounds the latency a single commit adds to its first job.
const MAX_BATCH: usize = 4096;

type Run =
    Box<dyn FnOnce(&WriteTransaction) -> Result<Box<dyn FnOnce(bool) + Send>, StoreError> + Send>;

/// What the writer thread is asked to do.
enum Command {
    Job(Run),
    /// Commit what came before, let go of the store and say so.
    Close(oneshot::Sender<()>),
}

/// A handle to the writer thread. Dropping every handle stops the thread after its last batch;
/// [`Writer::close`] stops it now and waits until it has let go of the store.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::UnboundedSender<Command>,
    /// `Some(why)` while writes fail (the last commit failed and no probe has got through since).
    health: Arc<watch::Sender<Option<String>>>,
}

/// How often a failing writer tries an empty commit to see whether the store works again.
const PROBE_EVERY: Duration = Duration::from_secs(1);

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    pub fn start(store: Store) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let health = Arc::new(watch::channel(None).0);
        let thread_health = health.clone();
        thread::Builder::new()
            .name("aos-store-writer".into())
            .spawn(move || run(store, rx, &thread_health))
            .expect("spawn the store writer thread");
        Self { tx, health }
    }

    /// Why writes fail right now, if they do: the last commit failed and no later commit (nor
    /// the writer's own probe, once a second) has got through. The node's health check reports it.
    pub fn failure(&self) -> Option<String> {
        self.health.borrow().clone()
    }

    /// Changes whenever [`Self::failure`] does.
    pub fn health(&self) -> watch::Receiver<Option<String>> {
        self.health.subscribe()
    }

    /// Runs `job` inside the next batch's write transaction and returns its value once the batch
    /// has committed. `job` must check everything before it writes: a job's `Err` aborts the whole
    /// batch (it is for storage failures), so refusals belong inside `T`.
    pub async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        self.enqueue(job).await
    }

    /// Queues `job` now and returns a future of its committed value. Jobs commit in the order
    /// they are queued (a later job never commits before an earlier one), which lets a caller
    /// queue a write, carry on, and wait for it later.
    pub fn enqueue<T, F>(
        &self,
        job: F,
    ) -> impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let run: Run = Box::new(move |txn| {
            let value = job(txn)?;
            Ok(Box::new(move |committed: bool| {
                let _ = reply.send(if committed {
                    Ok(value)
                } else {
                    Err(StoreError::Db(
                        "the batch holding this write failed to commit".into(),
                    ))
                });
            }) as Box<dyn FnOnce(bool) + Send>)
        });
        let sent = self
            .tx
            .send(Command::Job(run))
            .map_err(|_| StoreError::Db("the store writer has stopped".into()));
        async move {
            sent?;
            answer
                .await
                .map_err(|_| StoreError::Db("the store writer dropped a write".into()))?
        }
    }

    /// Commits every write queued before it, stops the thread and waits until the thread has
    /// dropped its [`Store`] clone. redb marks a file cleanly closed only when the last clone
    /// goes, and a file not closed cleanly is repaired (a scan of the whole file) on the next
    /// open; a process that exits while the thread still holds its clone leaves it so. Later
    /// writes through any handle fail. Closing twice is harmless.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.tx.send(Command::Close(done)).is_ok() {
            let _ = closed.await;
        }
    }

    /// The blocking twin of [`Writer::write`], for threads outside the runtime.
    pub fn write_blocking<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        futures_lite_block_on(self.write(job))
    }
}

fn run(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<Command>,
    health: &watch::Sender<Option<String>>,
) {
    let mut closed = None;
    while closed.is_none() {
        // While writes fail, wake once a second to probe the store, so health recovers (or
        // keeps saying it has not) even when nobody writes.
        let first = if health.borrow().is_some() {
            match rx.try_recv() {
                Ok(command) => command,
                Err(mpsc::error::TryRecvError::Empty) => {
                    thread::sleep(PROBE_EVERY);
                    report(health, probe(&store));
                    continue;
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            }
        } else {
            match rx.blocking_recv() {
                Some(command) => command,
                None => break,
            }
        };
        let mut batch = Vec::new();
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                Command::Job(job) => batch.push(job),
                Command::Close(done) => {
                    closed = Some(done);
                    break;
                }
            }
            if batch.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            report(health, commit_batch(&store, batch));
        }
    }
    // Refuse what comes after a close, then let go of the store before saying it is closed.
    rx.close();
    drop(store);
    if let Some(done) = closed {
        let _ = done.send(());
    }
}

fn report(health: &watch::Sender<Option<String>>, outcome: Result<(), String>) {
    let now = outcome.err();
    health.send_if_modified(|was| {
        if *was == now {
            return false;
        }
        *was = now;
        true
    });
}

/// An empty commit: whether the store takes writes again.
fn probe(store: &Store) -> Result<(), String> {
    let txn = store.db().begin_write().map_err(|e| e.to_string())?;
    txn.commit().map_err(|e| e.to_string())
}

fn commit_batch(store: &Store, batch: Vec<Run>) -> Result<(), String> {
    let txn = match store.db().begin_write() {
        Ok(txn) => txn,
        Err(e) => {
            tracing::error!("cannot begin a write: {e}");
            // Dropping the jobs drops their reply senders: callers see an error.
            return Err(e.to_string());
        }
    };
    let mut done = Vec::with_capacity(batch.len());
    for job in batch {
        match job(&txn) {
            Ok(finish) => done.push(finish),
            Err(e) => {
                tracing::error!("write job failed, aborting its batch: {e}");
                let _ = txn.abort();
                for finish in done {
                    finish(false);
                }
                return Err(e.to_string());
            }
        }
    }
    let committed = txn.commit().map_err(|e| {
        tracing::error!("commit failed: {e}");
        e.to_string()
    });
    for finish in done {
        finish(committed.is_ok());
    }
    committed
}

/// Waits on a future from a plain thread without a runtime (the writer's replies are oneshots).
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::pin::pin;
    use std::task::{Context, Poll, Wake, Waker};

    struct ThreadWaker(thread::Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(value) => return value,
            Poll::Pending => thread::park(),
        }
    }
}
