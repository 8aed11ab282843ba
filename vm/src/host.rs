//! What every store carries, whatever the module kind: its limits and the fuel bookkeeping the
//! guest may ask about. Nothing here survives a message except through linear memory.

use wasmtime::{StoreLimits, StoreLimitsBuilder, Trap};

pub struct HostState {
    limits: StoreLimits,
    fuel_start: u64,
    /// The memory ceiling, for emscripten's `emscripten_get_heap_max`.
    pub(crate) memory_limit: u64,
    /// emscripten's `setTempRet0`/`getTempRet0` cell: the high half of an i64 result crossing the
    /// import boundary. It is set and read within one call, never carried between messages.
    pub(crate) temp_ret0: i32,
}

impl HostState {
    pub(crate) fn new(memory_limit: u64) -> Self {
        Self {
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_limit as usize)
                .instances(1)
                .trap_on_grow_failure(false)
                .build(),
            fuel_start: 0,
            memory_limit,
            temp_ret0: 0,
        }
    }

    pub(crate) fn limits(&mut self) -> &mut StoreLimits {
        &mut self.limits
    }

    /// The fuel the current call started with.
    pub(crate) fn fuel_start(&self) -> u64 {
        self.fuel_start
    }

    pub(crate) fn set_fuel_start(&mut self, fuel: u64) {
        self.fuel_start = fuel;
    }
}

/// What one completed call gave back.
pub(crate) struct Ran {
    pub(crate) json: Vec<u8>,
    pub(crate) failed: bool,
    /// All fuel the call used (the result's GasUsed may stop before the result is encoded).
    pub(crate) fuel: u64,
}

pub(crate) fn trap_text(e: &wasmtime::Error, fuel: u64) -> String {
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => {
            format!("the message ran out of fuel (limit {fuel}): is there an endless loop?")
        }
        Some(Trap::StackOverflow) => "the message overflowed the stack".to_owned(),
        Some(trap) => format!("the process trapped: {trap}"),
        None => format!("the process failed: {e:#}"),
    }
}
