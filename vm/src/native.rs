//! The same process library on native Lua (mlua), without wasm: for fast local checks. Results
//! must match the wasm runtime's (tests prove it on shared inputs); the wasm path stays
//! authoritative, and native results carry no `GasUsed` (there is no fuel here). Native Lua seeds
//! its string hashes from the clock and addresses, so `pairs` order varies from run to run here
//! (never in wasm): the library never lets that order reach a result.

use mlua::Lua;
use serde_json::Value;

use crate::error::VmError;
use crate::library::LIBRARY;

/// A process on native Lua. Not rolled back on errors and not snapshot-able: a checking tool.
pub struct NativeProcess {
    lua: Lua,
}

impl std::fmt::Debug for NativeProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeProcess").finish_non_exhaustive()
    }
}

impl NativeProcess {
    pub fn new(memory_limit: usize) -> Result<Self, VmError> {
        let lua = aos_vm_glue::build_state(memory_limit, LIBRARY)
            .map_err(|e| VmError::Native(aos_vm_glue::error_text(&e)))?;
        Ok(Self { lua })
    }

    /// The result object of one message.
    pub fn handle(&mut self, msg_json: &str, env_json: &str) -> Value {
        aos_vm_glue::handle(&self.lua, msg_json.as_bytes(), env_json.as_bytes(), None)
    }

    pub fn eval_script(&mut self, src: &str) -> Value {
        aos_vm_glue::eval_script(&self.lua, src.as_bytes())
    }
}
