//! `aos-vm` owns the process runtime: loading a wasm module (a Lua 5.4 interpreter plus the process
//! library from `lua/`), instantiating processes from it, handling one message at a time under fuel
//! and memory limits, and snapshotting/restoring a process's linear memory.
//!
//! It must never do networking, storage or signature checks, and nothing that differs between
//! machines (wall clock, OS randomness, hash-map iteration order) may reach a process: the message
//! and its env are the only inputs. Every WASI import the module sees is a constant stub.
//!
//! The nouns follow wasmtime's: [`VmConfig`] → [`Vm`] (engine, compiled-module cache) → [`Module`]
//! (one compiled module, addressed by the sha256 of its bytes) → [`Process`] (one instance and its
//! memory). [`NativeProcess`] runs the same library on native Lua for quick local checks; the wasm
//! path is the authoritative one.
//!
//! Two module kinds sit behind the one [`Module`]/[`Process`] interface (DESIGN.md §10): ours
//! (Lua 5.4 on wasm32-wasip1, `vm/guest`) and AO's emscripten modules (the `handle(msg, env)`
//! protocol of @permaweb/ao-loader, wasm32 or wasm64), under the same fuel, memory ceiling,
//! rollback, snapshot and determinism rules. [`ModuleFormat`] names them.
//!
//! Crates beyond the design card: `zstd` (format-1 snapshots, still read), `lz4_flex` (format-2
//! snapshot chunks: decodes several times faster than zstd, which restore time is made of) and
//! `libc` (`madvise` for huge pages; userfaultfd and `PAGEMAP_SCAN` to learn which pages a
//! dry-run's copy and its process wrote, `dirty.rs`; Linux only).

mod aos_abi;
mod config;
mod dirty;
mod emscripten;
mod error;
mod format;
mod host;
mod instance;
mod library;
mod native;
mod pages;
mod process;
mod runtime;
mod scratch;
mod snapshot;
mod wasi;

pub use config::VmConfig;
pub use error::VmError;
pub use format::{AOS_FORMAT, ModuleFormat, ModuleOptions, parse_memory_limit};
pub use native::NativeProcess;
pub use process::{Outcome, Process};
pub use runtime::{Module, Vm, module_id};
pub use scratch::{Attempt, Scratch, TRACK_WRITES_FROM};
pub use snapshot::Snapshot;

/// The committed process module (`vm/module/process.wasm`, rebuilt by `scripts/build-module`).
pub static DEFAULT_MODULE: &[u8] = include_bytes!("../module/process.wasm");

/// sha256 (hex) of the `lua/*.lua` sources this crate was built with; a module built from the same
/// sources reports the same value (see [`Module::library_hash`]).
pub fn library_hash() -> &'static str {
    library::LIBRARY_HASH
}
