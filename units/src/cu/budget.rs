//! The hot set's memory budget: how many bytes of linear memory the compute unit keeps in
//! instantiated processes before it evicts the least recently used (checkpointing them first).

use std::sync::Arc;

use serde::Serialize;

use super::{ComputeUnit, HotSlot};
use crate::store::ProcessId;

/// Used when the machine's memory cannot be read.
const FALLBACK_BYTES: u64 = 1 << 30;

/// A quarter of the machine's memory (`MemTotal` in `/proc/meminfo`), or 1 GiB where that cannot
/// be read. A quarter: each hot process also holds a rollback copy of its memory, and the node
/// needs room for dry-run copies, snapshots and the store's cache.
pub fn default_hot_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| mem_total(&text))
        .map_or(FALLBACK_BYTES, |total| total / 4)
}

/// `MemTotal` in bytes from the text of `/proc/meminfo`.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line["MemTotal:".len()..].split_whitespace();
    let number: u64 = words.next()?.parse().ok()?;
    let scale = match words.next() {
        Some("kB") => 1024,
        None => 1,
        Some(_) => return None,
    };
    number.checked_mul(scale)
}

/// What the hot set holds now (the CU's `GET /` shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HotMemory {
    /// Processes in the hot set.
    pub processes: usize,
    /// Their linear memory, in bytes.
    pub bytes: u64,
    /// The budget `bytes` is kept under (a process being evaluated may exceed it alone).
    pub budget: u64,
}

/// A process in the hot set: its slot, when it was last asked for, and its memory then.
pub(super) struct HotEntry {
    pub(super) slot: HotSlot,
    pub(super) used: u64,
    /// The linear memory of its state after its last evaluation (0 while it has none).
    pub(super) bytes: u64,
}

impl ComputeUnit {
    /// The hot set now: processes, their memory, the budget.
    pub fn hot_memory(&self) -> HotMemory {
        let hot = self.inner.hot.lock().expect("hot lock");
        HotMemory {
            processes: hot.len(),
            bytes: hot.values().map(|e| e.bytes).sum(),
            budget: self.inner.config.hot_memory,
        }
    }

    /// Records the memory `slot` (of `process`) holds after an evaluation.
    pub(super) fn note_memory(&self, process: &ProcessId, slot: &HotSlot, bytes: u64) {
        let mut hot = self.inner.hot.lock().expect("hot lock");
        if let Some(entry) = hot.get_mut(process)
            && Arc::ptr_eq(&entry.slot, slot)
        {
            entry.bytes = bytes;
        }
    }

    /// Evicts the least recently used processes that nobody is evaluating until the hot set is
    /// within `max_hot` processes and `hot_memory` bytes (run as each use of a process ends, so
    /// once no evaluation is running the hot set is within both). One that moved since its last
    /// checkpoint is checkpointed first, so its next use restores it instead of replaying. A
    /// process being evaluated is never evicted: one bigger than the budget alone still runs,
    /// and is the first to go once it is idle. A round takes every victim it needs at once and
    /// checkpoints them together: one at a time, eviction fell behind a stream of spawns (one
    /// commit per victim against many spawns per commit), and the hot set grew far past its
    /// bound, with all of it to checkpoint at shutdown.
    pub(super) async fn keep_within_budget(&self) {
        let _round = self.inner.evicting.lock().await;
        loop {
            let victims = self.victims();
            if victims.is_empty() {
                return;
            }
            if let Err(e) = self.checkpoint_slots(victims.clone(), true, None).await {
                // Its state is recomputed from the previous checkpoint on next use.
                tracing::warn!("evicted without a checkpoint: {e}");
            }
            let mut hot = self.inner.hot.lock().expect("hot lock");
            for (process, slot) in victims {
                if let Some(entry) = hot.get_mut(&process)
                    && Arc::ptr_eq(&entry.slot, &slot)
                {
                    // Someone asked for it meanwhile: the entry stays, empty, and they load it.
                    if Arc::strong_count(&slot) == 2 {
                        hot.remove(&process);
                    } else {
                        entry.bytes = 0;
                    }
                }
            }
        }
    }

    /// Before `process` joins the hot set: when the set is full, waits for a round of
    /// [`Self::keep_within_budget`]. Eviction in the background alone falls behind a stream of
    /// new processes (each victim costs a snapshot, as dear as a spawn): the set, and the
    /// checkpoints a shutdown must write, grew with every process spawned. With this the set
    /// exceeds its bounds by at most the processes being loaded at once. Called holding no
    /// process's lock (a round waits for its victims' locks).
    pub(super) async fn make_room_for(&self, process: &ProcessId) {
        let full = {
            let hot = self.inner.hot.lock().expect("hot lock");
            !hot.contains_key(process)
                && (hot.len() >= self.inner.config.max_hot
                    || hot.values().map(|e| e.bytes).sum::<u64>() > self.inner.config.hot_memory)
        };
        if full {
            self.keep_within_budget().await;
        }
    }

    /// Whether the hot set is past one of its bounds (a round of eviction has work to do).
    fn over_budget(&self) -> bool {
        let hot = self.inner.hot.lock().expect("hot lock");
        hot.len() > self.inner.config.max_hot
            || hot.values().map(|e| e.bytes).sum::<u64>() > self.inner.config.hot_memory
    }

    /// The least recently used idle processes whose going brings the hot set within its bounds
    /// (fewer if not enough are idle).
    fn victims(&self) -> Vec<(ProcessId, HotSlot)> {
        let hot = self.inner.hot.lock().expect("hot lock");
        let mut count = hot.len();
        let mut bytes: u64 = hot.values().map(|e| e.bytes).sum();
        let (max_hot, budget) = (self.inner.config.max_hot, self.inner.config.hot_memory);
        if count <= max_hot && bytes <= budget {
            return Vec::new();
        }
        // Only the map holds an idle slot; the clones taken here keep others off it.
        let mut idle: Vec<_> = hot
            .iter()
            .filter(|(_, e)| Arc::strong_count(&e.slot) == 1)
            .collect();
        idle.sort_by_key(|(_, e)| e.used);
        let mut victims = Vec::new();
        for (process, entry) in idle {
            if count <= max_hot && bytes <= budget {
                break;
            }
            count -= 1;
            bytes = bytes.saturating_sub(entry.bytes);
            victims.push((*process, entry.slot.clone()));
        }
        victims
    }
}

/// A use of a hot process that [`ComputeUnit::evaluate`] hands out: while it lives the process
/// is not evicted; when it ends, the hot set is brought back within its budget (in the
/// background, so the answer that used it need not wait for another process's checkpoint).
pub(super) struct HotUse {
    pub(super) slot: Option<HotSlot>,
    pub(super) cu: ComputeUnit,
}

impl std::ops::Deref for HotUse {
    type Target = HotSlot;

    fn deref(&self) -> &HotSlot {
        self.slot.as_ref().expect("taken only on drop")
    }
}

impl Drop for HotUse {
    fn drop(&mut self) {
        // Let go first: this process may be the one to evict.
        drop(self.slot.take());
        // Most uses end within the bounds: no round (a task and its lock) for those.
        if !self.cu.over_budget() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let cu = self.cu.clone();
            runtime.spawn(async move { cu.keep_within_budget().await });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_total_is_read_in_bytes() {
        let text = "MemTotal:       16318412 kB\nMemFree:         1234 kB\n";
        assert_eq!(mem_total(text), Some(16_318_412 * 1024));
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
        assert_eq!(mem_total("MemTotal: lots kB\n"), None);
        assert!(default_hot_memory() > 0);
    }
}
