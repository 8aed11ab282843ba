//! Fixed-width keys. Big-endian slots make byte order equal slot order.

use crate::message::b64;

/// A process id (the id of its spawn message) as raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessId(pub [u8; 32]);

impl ProcessId {
    pub fn parse(text: &str) -> Option<Self> {
        b64::decode_32(text).map(Self)
    }
}

impl std::fmt::Display for ProcessId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&b64::encode(self.0))
    }
}

/// process ‖ slot.
pub fn log_key(process: &ProcessId, slot: u64) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..32].copy_from_slice(&process.0);
    key[32..].copy_from_slice(&slot.to_be_bytes());
    key
}

pub fn parse_log_key(key: &[u8]) -> Option<(ProcessId, u64)> {
    let process: [u8; 32] = key.get(..32)?.try_into().ok()?;
    let slot: [u8; 8] = key.get(32..40)?.try_into().ok()?;
    Some((ProcessId(process), u64::from_be_bytes(slot)))
}

/// message ‖ process.
pub(crate) fn slot_key(message: &[u8; 32], process: &ProcessId) -> [u8; 64] {
    let mut key = [0u8; 64];
    key[..32].copy_from_slice(message);
    key[32..].copy_from_slice(&process.0);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_keys_sort_by_slot() {
        let p = ProcessId([9; 32]);
        assert!(log_key(&p, 255) < log_key(&p, 256));
        assert_eq!(parse_log_key(&log_key(&p, 77)), Some((p, 77)));
    }
}
