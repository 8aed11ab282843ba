//! The schedule as this node's own store holds it: the same reads the compute unit makes of the
//! store today (`Store::process`, `Store::log`, `Store::message`), behind [`ScheduleSource`].

use super::{LogEntry, LogPage, ScheduleSource, SourceError, SourceFuture};
use crate::message::b64;
use crate::store::{ProcessId, ProcessRecord, Store, StoreError};

/// This node's store as a schedule source. Trusted: this node's SU wrote it.
#[derive(Debug, Clone)]
pub struct LocalSource {
    store: Store,
}

impl LocalSource {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    fn record(&self, process: &ProcessId) -> Result<ProcessRecord, SourceError> {
        self.store
            .process(process)?
            .ok_or_else(|| SourceError::UnknownProcess(process.to_string()))
    }

    fn read_page(
        &self,
        process: &ProcessId,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<LogPage, SourceError> {
        self.record(process)?;
        let limit = limit.max(1);
        // One more than asked tells whether the log goes on.
        let mut log = self.store.log(process, from, to, limit.saturating_add(1))?;
        let has_next = log.len() > limit;
        log.truncate(limit);
        let mut entries = Vec::with_capacity(log.len());
        for assignment in log {
            let id = b64::decode_32(&assignment.message)
                .ok_or_else(|| StoreError::Corrupt("message id".into()))?;
            let message = self.store.message(&id)?.ok_or_else(|| {
                StoreError::Corrupt(format!("message {} missing", assignment.message))
            })?;
            entries.push(LogEntry {
                assignment,
                message,
            });
        }
        Ok(LogPage { entries, has_next })
    }

    fn read_slot(&self, process: &ProcessId, id: &[u8; 32]) -> Result<u64, SourceError> {
        let unknown = || SourceError::UnknownMessage(b64::encode(id), process.to_string());
        self.store.slot_of(id, process)?.ok_or_else(unknown)
    }

    fn read_message(&self, process: &ProcessId, id: &[u8; 32]) -> Result<Vec<u8>, SourceError> {
        let unknown = || SourceError::UnknownMessage(b64::encode(id), process.to_string());
        self.store.slot_of(id, process)?.ok_or_else(unknown)?;
        self.store.message(id)?.ok_or_else(unknown)
    }
}

impl ScheduleSource for LocalSource {
    fn process<'a>(&'a self, process: &'a ProcessId) -> SourceFuture<'a, ProcessRecord> {
        Box::pin(std::future::ready(self.record(process)))
    }

    fn page<'a>(
        &'a self,
        process: &'a ProcessId,
        from: u64,
        to: u64,
        limit: usize,
    ) -> SourceFuture<'a, LogPage> {
        Box::pin(std::future::ready(self.read_page(process, from, to, limit)))
    }

    fn message<'a>(
        &'a self,
        process: &'a ProcessId,
        message: &'a [u8; 32],
    ) -> SourceFuture<'a, Vec<u8>> {
        Box::pin(std::future::ready(self.read_message(process, message)))
    }

    fn slot_of<'a>(
        &'a self,
        process: &'a ProcessId,
        message: &'a [u8; 32],
    ) -> SourceFuture<'a, u64> {
        Box::pin(std::future::ready(self.read_slot(process, message)))
    }
}
