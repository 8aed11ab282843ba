//! Limits and knobs of the runtime.

use std::path::PathBuf;

/// How processes run. The defaults suit real handlers; tests lower them.
#[derive(Debug, Clone)]
pub struct VmConfig {
    /// Fuel (wasm instructions, roughly) one message may burn: the node's cap, which a process's
    /// `Compute-Limit` may only lower. 10^10 is about a second of tight Lua on a current core;
    /// the default 10^11 lets a 10^8-step loop finish (about 2.4 × 10^10) and still stops
    /// `while true do end` within seconds. The node evaluates processes independently, so one
    /// long message holds up only its own process.
    pub fuel_per_message: u64,
    /// Fuel a dry-run may burn at most (also lowered by the process's own limit). Lower than a
    /// message's: anyone may ask for dry-runs, nothing is kept of them, and the node runs few at
    /// once, so a looping one must not hold that turn for long.
    pub fuel_per_dry_run: u64,
    /// Fuel for building the Lua state and loading the library at spawn.
    pub fuel_for_init: u64,
    /// Linear-memory ceiling of one process in bytes (wasm32: at most 4 GiB).
    pub memory_limit: u64,
    /// Where compiled modules are cached (keyed by module id and wasmtime version). `None`: the
    /// user's cache dir (`~/.cache/aos`), or no disk cache when there is none.
    pub cache_dir: Option<PathBuf>,
    /// A new in-memory rollback point is taken once the fuel spent since the last one exceeds
    /// this many units per byte of memory: snapshot cost stays proportional to work done, and
    /// the replay after a failed message stays bounded by about the cost of one copy.
    pub rollback_fuel_per_byte: u64,
}

impl Default for VmConfig {
    fn default() -> Self {
        Self {
            fuel_per_message: 100_000_000_000,
            fuel_per_dry_run: 10_000_000_000,
            fuel_for_init: 10_000_000_000,
            memory_limit: 256 * 1024 * 1024,
            cache_dir: None,
            rollback_fuel_per_byte: 4,
        }
    }
}

/// The Lua heap cap under a memory ceiling of `memory_limit`: below it, so running out is a
/// Lua error, not a trap.
pub(crate) fn lua_memory_limit(memory_limit: u64) -> u64 {
    memory_limit
        - (memory_limit / 8)
            .max(8 * 1024 * 1024)
            .min(memory_limit / 2)
}
