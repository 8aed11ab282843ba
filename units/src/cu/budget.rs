//! The hot set's memory budget: how many bytes of linear memory the compute unit keeps in
//! instantiated processes before it evicts the least recently used (checkpointing them first).

use serde::Serialize;

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
