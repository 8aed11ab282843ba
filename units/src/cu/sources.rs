//! Where the compute unit reads each process's log: this node's store for the processes its own
//! SU schedules (read in place, as always), and the owner's SU over HTTP ([`RemoteSource`]) for
//! any other — "compute anywhere" (issue 14, item 5).
//!
//! A remote process leaves no row in the scheduler's tables (routing takes a process record in
//! the store to mean "scheduled here"): its record lives here, in memory, as its source verified
//! it, and its results and checkpoints in the CU's own tables like any other's (this CU's cache).
//! One [`RemoteSource`] is kept per remote process, so the links it verified are kept between
//! requests, and one process's slow pages do not queue another's (a source reads one page at a
//! time); its HTTP client, and so its connections, are shared.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use super::{ComputeUnit, CuError};
use crate::schedule::{RemoteSource, ScheduleSource, SourceError};
use crate::store::{ProcessId, ProcessRecord};

/// Who schedules a process this node does not hold (the messenger's routing answers it).
pub trait Locate: Send + Sync {
    /// The SU URL of the node that schedules `process`; `Ok(None)` when no node is known to.
    fn scheduler_url<'a>(
        &'a self,
        process: &'a ProcessId,
    ) -> Pin<Box<dyn Future<Output = Result<Option<String>, String>> + Send + 'a>>;

    /// The HTTP client to read remote logs with (its timeouts bound every wait on a peer).
    fn client(&self) -> reqwest::Client;
}

/// The CU's schedule sources beyond its own store.
#[derive(Default)]
pub(super) struct Sources {
    locate: OnceLock<Arc<dyn Locate>>,
    remote: Mutex<HashMap<ProcessId, Remote>>,
}

/// A process another node schedules, as this CU knows it.
#[derive(Clone)]
pub(super) struct Remote {
    /// Its identity as the spawn gives it; the tail (`next_slot`, …) is not kept up to date here.
    pub(super) record: ProcessRecord,
    pub(super) source: Arc<RemoteSource>,
}

impl ComputeUnit {
    /// Lets this CU compute processes other nodes schedule, finding their SU with `locate`.
    /// Without it (an embedded node) it computes only what its own store holds. Only the first
    /// call counts.
    pub fn locate_with(&self, locate: Arc<dyn Locate>) {
        let _ = self.inner.sources.locate.set(locate);
    }

    /// The record of `process` and, for another node's process, the source of its log.
    pub(super) async fn resolve(
        &self,
        process: &ProcessId,
    ) -> Result<(ProcessRecord, Option<Arc<RemoteSource>>), CuError> {
        if let Some(record) = self.inner.store.process(process)? {
            return Ok((record, None));
        }
        let known = self
            .inner
            .sources
            .remote
            .lock()
            .expect("remote lock")
            .get(process)
            .cloned();
        if let Some(remote) = known {
            return Ok((remote.record, Some(remote.source)));
        }
        let unknown = || CuError::UnknownProcess(process.to_string());
        let locate = self.inner.sources.locate.get().ok_or_else(unknown)?;
        let url = locate
            .scheduler_url(process)
            .await
            .map_err(|why| CuError::Unlocated {
                process: process.to_string(),
                why,
            })?
            .ok_or_else(unknown)?;
        let source = Arc::new(RemoteSource::with_client(url, locate.client()));
        // This CU's own checkpoint is trusted: the log is taken up again after it, unread
        // before it (the spawn still is, for the record).
        if !self.inner.config.ignore_checkpoints
            && let Some(checkpoint) = self.inner.store.newest_checkpoint(process)?
            && let Some(chain) = checkpoint.chain
        {
            source.trust(process, checkpoint.slot, chain.link, chain.timestamp);
        }
        let record = source
            .process(process)
            .await
            .map_err(|e| remote_error(&source, e))?;
        // Two first requests may both get here: the first source kept is the one used.
        let remote = self
            .inner
            .sources
            .remote
            .lock()
            .expect("remote lock")
            .entry(*process)
            .or_insert(Remote { record, source })
            .clone();
        Ok((remote.record, Some(remote.source)))
    }
}

/// A source's failure as the CU reports it: a process or message the owner does not have is
/// unknown here too; anything else names the scheduler it came from.
pub(super) fn remote_error(source: &RemoteSource, e: SourceError) -> CuError {
    match e {
        SourceError::UnknownProcess(process) => CuError::UnknownProcess(process),
        SourceError::UnknownMessage(message, process) => CuError::UnknownMessage(message, process),
        e => CuError::Remote {
            url: source.url().to_owned(),
            error: e,
        },
    }
}
