//! Limits and knobs of the runtime.

use std::path::PathBuf;

/// How processes run. The defaults suit real handlers; tests lower them.
#[derive(Debug, Clone)]
pub struct VmConfig {
    /// Fuel (wasm instructions, roughly) one message may burn. 10^10 is about one second of tight
    /// Lua on a current core: generous for handlers, a hard stop for `while true do end`.
    pub fuel_per_message: u64,
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
            fuel_per_message: 10_000_000_000,
            fuel_for_init: 10_000_000_000,
            memory_limit: 256 * 1024 * 1024,
            cache_dir: None,
            rollback_fuel_per_byte: 4,
        }
    }
}

impl VmConfig {
    /// The Lua heap cap: below the store's, so running out is a Lua error, not a trap.
    pub(crate) fn lua_memory_limit(&self) -> u64 {
        self.memory_limit
            - (self.memory_limit / 8)
                .max(8 * 1024 * 1024)
                .min(self.memory_limit / 2)
    }
}
