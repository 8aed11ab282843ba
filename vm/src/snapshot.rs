//! A process's state as bytes: its linear memory, tagged with the module it belongs to. (The
//! module's only mutable global, the stack pointer, is back at its initial value between calls,
//! and its table never changes, so memory is the whole state.)
//!
//! Format 2 (`AOSSNAP2`, what [`Snapshot::to_bytes`] writes) keeps the memory in 64 KiB chunks:
//! all-zero chunks are left out, the others are LZ4 blocks, or raw where LZ4 does not shrink
//! them. A restore decodes the chunks straight into the new instance's memory, which is zero
//! already where a chunk is missing, so it costs about one pass over the non-zero memory (format 1
//! cost a zstd pass into a buffer, a copy into the instance and another for the rollback point).
//! The bytes are a function of the memory alone: equal memories give equal snapshots. Format 1
//! (`AOSSNAP1`: zstd of the whole memory) is still read, so stored checkpoints keep restoring.

use std::sync::Arc;

use crate::error::VmError;

const MAGIC_V1: &[u8; 8] = b"AOSSNAP1";
const MAGIC_V2: &[u8; 8] = b"AOSSNAP2";

/// Chunk size of format 2: one wasm page.
const CHUNK: usize = 64 * 1024;

/// Flag on a chunk's stored length: the chunk is stored raw.
const RAW: u32 = 1 << 31;

/// Largest memory a snapshot may claim (wasm32's 4 GiB).
const MAX_MEMORY: usize = 4 << 30;

/// A point-in-time copy of a process's memory.
#[derive(Clone)]
pub struct Snapshot {
    pub(crate) module_id: String,
    pub(crate) image: Image,
}

/// A memory image: a plain copy, or a format-2 snapshot as read, decoded where it is used.
/// Cheap to clone (the bytes are shared).
#[derive(Clone)]
pub(crate) enum Image {
    Raw(Arc<Vec<u8>>),
    Encoded(Arc<Encoded>),
}

/// A checked format-2 snapshot: its bytes and where each stored chunk is in them.
pub(crate) struct Encoded {
    bytes: Vec<u8>,
    len: usize,
    chunks: Vec<Stored>,
}

struct Stored {
    index: usize,
    start: usize,
    len: usize,
    raw: bool,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("module_id", &self.module_id)
            .field("memory_bytes", &self.image.len())
            .finish()
    }
}

impl PartialEq for Snapshot {
    fn eq(&self, other: &Self) -> bool {
        self.module_id == other.module_id
            && self.image.len() == other.image.len()
            && self.image.to_vec().ok() == other.image.to_vec().ok()
    }
}

impl Eq for Snapshot {}

fn bad(why: &str) -> VmError {
    VmError::Snapshot(why.to_owned())
}

fn is_zero(bytes: &[u8]) -> bool {
    // Blocks of 64 without an early exit inside vectorise; the exit between them stops early.
    bytes
        .chunks(64)
        .all(|block| block.iter().fold(0u8, |acc, b| acc | b) == 0)
}

fn chunk_range(index: usize, len: usize) -> std::ops::Range<usize> {
    let start = index * CHUNK;
    start..(start + CHUNK).min(len)
}

impl Image {
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Raw(memory) => memory.len(),
            Self::Encoded(encoded) => encoded.len,
        }
    }

    /// Writes the memory into `dst` (as long as the image), where `dst[zero_from..]` is known
    /// to be zero (memory just grown): all-zero chunks there are not written, so their pages are
    /// never touched.
    pub(crate) fn write_into(&self, dst: &mut [u8], zero_from: usize) -> Result<(), VmError> {
        let len = self.len();
        if dst.len() != len {
            return Err(bad("memory size mismatch"));
        }
        match self {
            Self::Raw(memory) => {
                for index in 0..len.div_ceil(CHUNK) {
                    let range = chunk_range(index, len);
                    let src = &memory[range.clone()];
                    if range.start >= zero_from && is_zero(src) {
                        continue;
                    }
                    dst[range].copy_from_slice(src);
                }
            }
            Self::Encoded(encoded) => {
                let chunks = len.div_ceil(CHUNK);
                if len < PARALLEL_FROM {
                    return encoded.write_part(dst, 0..chunks, &encoded.chunks, zero_from);
                }
                // Two halves on two threads: decoding and the kernel's page clearing are each
                // a third of a big restore, and the halves touch disjoint memory.
                let half = chunks / 2;
                let (low, high) = dst.split_at_mut(half * CHUNK);
                let split = encoded.chunks.partition_point(|c| c.index < half);
                let (first, second) = encoded.chunks.split_at(split);
                let (a, b) = std::thread::scope(|scope| {
                    let a = scope.spawn(|| encoded.write_part(low, 0..half, first, zero_from));
                    let b = encoded.write_part(high, half..chunks, second, zero_from);
                    (a.join(), b)
                });
                a.map_err(|_| bad("decoding thread panicked"))??;
                b?;
            }
        }
        Ok(())
    }

    fn to_vec(&self) -> Result<Vec<u8>, VmError> {
        match self {
            Self::Raw(memory) => Ok(memory.to_vec()),
            Self::Encoded(_) => {
                let mut memory = vec![0; self.len()];
                self.write_into(&mut memory, 0)?;
                Ok(memory)
            }
        }
    }

    /// Format 2 of this memory.
    fn encode(&self, module_id: &str) -> Vec<u8> {
        let memory = match self {
            Self::Raw(memory) => memory,
            Self::Encoded(encoded) => return encoded.bytes.clone(),
        };
        let len = memory.len();
        let present: Vec<usize> = (0..len.div_ceil(CHUNK))
            .filter(|&index| !is_zero(&memory[chunk_range(index, len)]))
            .collect();
        let mut out = Vec::with_capacity(64 + present.len() * (8 + CHUNK / 2));
        out.extend_from_slice(MAGIC_V2);
        out.extend_from_slice(&(module_id.len() as u16).to_le_bytes());
        out.extend_from_slice(module_id.as_bytes());
        out.extend_from_slice(&(len as u64).to_le_bytes());
        out.extend_from_slice(&(present.len() as u32).to_le_bytes());
        let table = out.len();
        out.resize(table + present.len() * 8, 0);
        let mut scratch = vec![0; lz4_flex::block::get_maximum_output_size(CHUNK)];
        for (n, &index) in present.iter().enumerate() {
            let src = &memory[chunk_range(index, len)];
            let stored = match lz4_flex::block::compress_into(src, &mut scratch) {
                Ok(size) if size < src.len() => {
                    out.extend_from_slice(&scratch[..size]);
                    size as u32
                }
                _ => {
                    out.extend_from_slice(src);
                    src.len() as u32 | RAW
                }
            };
            let entry = table + n * 8;
            out[entry..entry + 4].copy_from_slice(&(index as u32).to_le_bytes());
            out[entry + 4..entry + 8].copy_from_slice(&stored.to_le_bytes());
        }
        out
    }
}

/// Images at least this big are decoded on two threads.
const PARALLEL_FROM: usize = 16 << 20;

impl Encoded {
    /// Writes chunks `indices` (whose `stored` ones are given) into `dst`, which holds exactly
    /// those chunks of the memory.
    fn write_part(
        &self,
        dst: &mut [u8],
        indices: std::ops::Range<usize>,
        stored: &[Stored],
        zero_from: usize,
    ) -> Result<(), VmError> {
        let base = indices.start * CHUNK;
        let local = |index: usize| {
            let range = chunk_range(index, self.len);
            range.start - base..range.end - base
        };
        let zero = |dst: &mut [u8], from: usize, to: usize| {
            for index in from..to {
                if index * CHUNK >= zero_from {
                    break;
                }
                dst[local(index)].fill(0);
            }
        };
        let mut next = indices.start;
        for chunk in stored {
            zero(dst, next, chunk.index);
            self.decode(chunk, &mut dst[local(chunk.index)])?;
            next = chunk.index + 1;
        }
        zero(dst, next, indices.end);
        Ok(())
    }

    fn decode(&self, stored: &Stored, dst: &mut [u8]) -> Result<(), VmError> {
        let src = &self.bytes[stored.start..stored.start + stored.len];
        if stored.raw {
            if src.len() != dst.len() {
                return Err(bad("raw chunk of the wrong size"));
            }
            dst.copy_from_slice(src);
            return Ok(());
        }
        match lz4_flex::block::decompress_into(src, dst) {
            Ok(n) if n == dst.len() => Ok(()),
            Ok(_) => Err(bad("chunk of the wrong size")),
            Err(e) => Err(bad(&format!("chunk {}: {e}", stored.index))),
        }
    }

    /// Checks the layout of format 2's body (after the module id): sizes, chunk order and
    /// bounds. The chunks themselves are checked when they are decoded.
    fn parse(bytes: Vec<u8>, body: usize) -> Result<Self, VmError> {
        let rest = &bytes[body..];
        let (len, rest) = rest.split_at_checked(8).ok_or_else(|| bad("truncated"))?;
        let len = u64::from_le_bytes(len.try_into().map_err(|_| bad("size"))?) as usize;
        if len > MAX_MEMORY {
            return Err(bad("memory larger than 4 GiB"));
        }
        let (count, rest) = rest.split_at_checked(4).ok_or_else(|| bad("truncated"))?;
        let count = u32::from_le_bytes(count.try_into().map_err(|_| bad("count"))?) as usize;
        let (table, data) = rest
            .split_at_checked(count.checked_mul(8).ok_or_else(|| bad("count"))?)
            .ok_or_else(|| bad("truncated"))?;
        let mut start = bytes.len() - data.len();
        let mut chunks = Vec::with_capacity(count);
        let mut next = 0;
        for entry in table.chunks_exact(8) {
            let index = u32::from_le_bytes(entry[..4].try_into().map_err(|_| bad("index"))?);
            let stored = u32::from_le_bytes(entry[4..].try_into().map_err(|_| bad("length"))?);
            let index = index as usize;
            if index < next || index >= len.div_ceil(CHUNK) {
                return Err(bad("chunks out of order"));
            }
            let size = (stored & !RAW) as usize;
            if start + size > bytes.len() {
                return Err(bad("truncated"));
            }
            chunks.push(Stored {
                index,
                start,
                len: size,
                raw: stored & RAW != 0,
            });
            start += size;
            next = index + 1;
        }
        if start != bytes.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(Self { bytes, len, chunks })
    }
}

impl Snapshot {
    pub fn module_id(&self) -> &str {
        &self.module_id
    }

    /// Uncompressed memory size in bytes.
    pub fn memory_len(&self) -> usize {
        self.image.len()
    }

    /// sha256 (hex) of the raw memory: equal processes have equal hashes.
    pub fn memory_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        match &self.image {
            Image::Raw(memory) => hasher.update(memory.as_slice()),
            Image::Encoded(encoded) => {
                // Chunk by chunk: no copy of the whole memory.
                let zero = vec![0; CHUNK];
                let mut chunk = vec![0; CHUNK];
                let mut next = 0;
                let chunks = encoded.len.div_ceil(CHUNK);
                for stored in &encoded.chunks {
                    for index in next..stored.index {
                        hasher.update(&zero[..chunk_range(index, encoded.len).len()]);
                    }
                    let dst = &mut chunk[..chunk_range(stored.index, encoded.len).len()];
                    if encoded.decode(stored, dst).is_err() {
                        // A corrupt chunk hashes as zeros; restoring it is the error.
                        dst.fill(0);
                    }
                    hasher.update(&*dst);
                    next = stored.index + 1;
                }
                for index in next..chunks {
                    hasher.update(&zero[..chunk_range(index, encoded.len).len()]);
                }
            }
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// `AOSSNAP2 | u16 id length | module id | u64 memory size | u32 n | n × (u32 chunk index,
    /// u32 stored length, bit 31 = raw) | the stored chunks`, chunk indices ascending.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.image.encode(&self.module_id)
    }

    /// Reads format 2, or format 1 (`AOSSNAP1 | u16 id length | module id | u64 size |
    /// zstd(memory)`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VmError> {
        let (v2, rest) = if let Some(rest) = bytes.strip_prefix(MAGIC_V2) {
            (true, rest)
        } else if let Some(rest) = bytes.strip_prefix(MAGIC_V1) {
            (false, rest)
        } else {
            return Err(bad("not a snapshot"));
        };
        let (len, rest) = rest.split_at_checked(2).ok_or_else(|| bad("truncated"))?;
        let len = u16::from_le_bytes([len[0], len[1]]) as usize;
        let (id, rest) = rest.split_at_checked(len).ok_or_else(|| bad("truncated"))?;
        let module_id = String::from_utf8(id.to_vec()).map_err(|_| bad("module id"))?;
        if v2 {
            let body = bytes.len() - rest.len();
            let encoded = Encoded::parse(bytes.to_vec(), body)?;
            return Ok(Self {
                module_id,
                image: Image::Encoded(Arc::new(encoded)),
            });
        }
        let (size, compressed) = rest.split_at_checked(8).ok_or_else(|| bad("truncated"))?;
        let size = u64::from_le_bytes(size.try_into().map_err(|_| bad("size"))?) as usize;
        if size > MAX_MEMORY {
            return Err(bad("memory larger than 4 GiB"));
        }
        let memory = zstd::bulk::decompress(compressed, size).map_err(|e| bad(&e.to_string()))?;
        if memory.len() != size {
            return Err(bad("memory size mismatch"));
        }
        Ok(Self {
            module_id,
            image: Image::Raw(Arc::new(memory)),
        })
    }
}
