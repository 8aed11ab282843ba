//! A process's state as bytes: its linear memory, zstd-compressed, tagged with the module it
//! belongs to. (The module's only mutable global, the stack pointer, is back at its initial value
//! between calls, and its table never changes, so memory is the whole state.)

use crate::error::VmError;

const MAGIC: &[u8; 8] = b"AOSSNAP1";

/// A point-in-time copy of a process's memory.
#[derive(Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub(crate) module_id: String,
    pub(crate) memory: Vec<u8>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("module_id", &self.module_id)
            .field("memory_bytes", &self.memory.len())
            .finish()
    }
}

impl Snapshot {
    pub fn module_id(&self) -> &str {
        &self.module_id
    }

    /// Uncompressed memory size in bytes.
    pub fn memory_len(&self) -> usize {
        self.memory.len()
    }

    /// sha256 (hex) of the raw memory: equal processes have equal hashes.
    pub fn memory_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        Sha256::digest(&self.memory)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// `AOSSNAP1 | u16 id length | module id | zstd(memory)`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.memory.len() / 4 + 64);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.module_id.len() as u16).to_le_bytes());
        out.extend_from_slice(self.module_id.as_bytes());
        let compressed = zstd::bulk::compress(&self.memory, 1).expect("zstd compresses any input");
        out.extend_from_slice(&(self.memory.len() as u64).to_le_bytes());
        out.extend_from_slice(&compressed);
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VmError> {
        let bad = |why: &str| VmError::Snapshot(why.to_owned());
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| bad("not a snapshot"))?;
        let (len, rest) = rest.split_at_checked(2).ok_or_else(|| bad("truncated"))?;
        let len = u16::from_le_bytes([len[0], len[1]]) as usize;
        let (id, rest) = rest.split_at_checked(len).ok_or_else(|| bad("truncated"))?;
        let module_id = String::from_utf8(id.to_vec()).map_err(|_| bad("module id"))?;
        let (size, compressed) = rest.split_at_checked(8).ok_or_else(|| bad("truncated"))?;
        let size = u64::from_le_bytes(size.try_into().map_err(|_| bad("size"))?) as usize;
        if size > 4 << 30 {
            return Err(bad("memory larger than 4 GiB"));
        }
        let memory = zstd::bulk::decompress(compressed, size).map_err(|e| bad(&e.to_string()))?;
        if memory.len() != size {
            return Err(bad("memory size mismatch"));
        }
        Ok(Self { module_id, memory })
    }
}
