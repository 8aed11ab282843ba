//! One process: a wasm instance of a module plus its memory, handling one message at a time.
//!
//! A message that ends in `Error` — a Lua error, fuel exhausted, the heap full, a trap — leaves no
//! trace. Instead of copying the whole memory before every message (cost proportional to the
//! heap), the process keeps a *rollback point* (a memory copy) and the messages handled since; on
//! an error it restores the point and replays those messages. A new point is taken only once the
//! fuel spent since the last one exceeds `rollback_fuel_per_byte` × memory size, so the copying
//! costs in proportion to the work done and a replay costs about one copy at most.

use std::sync::Arc;

use serde_json::Value;

use crate::error::VmError;
use crate::host::Ran;
use crate::instance::Instance;
use crate::runtime::{Module, Vm};
use crate::snapshot::{Image, Snapshot};

/// Most messages kept for replay before a rollback point is forced.
const MAX_REPLAY: usize = 10_000;

/// The outcome of one message: its result JSON (with `GasUsed`) and whether it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    json: String,
    gas_used: u64,
    error: Option<String>,
}

impl Outcome {
    /// The result object as JSON: `{Output, Messages, Spawns, Assignments, Error?, GasUsed}`.
    pub fn result_json(&self) -> &str {
        &self.json
    }

    pub fn gas_used(&self) -> u64 {
        self.gas_used
    }

    /// The `Error` of the result, if it failed (its state change was rolled back).
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// A running process. `Send`, so a compute unit can move it between threads.
pub struct Process {
    vm: Vm,
    module: Module,
    instance: Instance,
    rollback_point: Image,
    since_point: Vec<(Vec<u8>, Vec<u8>)>,
    fuel_since_point: u64,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("module", &self.module.id())
            .field("memory_bytes", &self.memory_len())
            .field("since_rollback_point", &self.since_point.len())
            .finish()
    }
}

impl Vm {
    /// A new process of `module`: instantiates it and builds its Lua state (the library's setup
    /// runs here, before any message).
    pub fn spawn(&self, module: &Module) -> Result<Process, VmError> {
        let instance = Instance::started(self, module)?;
        let rollback_point = Image::Raw(Arc::new(instance.memory_copy()));
        Ok(Process {
            vm: self.clone(),
            module: module.clone(),
            instance,
            rollback_point,
            since_point: Vec::new(),
            fuel_since_point: 0,
        })
    }

    /// A process that continues exactly where `snapshot` was taken.
    pub fn restore(&self, module: &Module, snapshot: &Snapshot) -> Result<Process, VmError> {
        if snapshot.module_id != module.id() {
            return Err(VmError::Snapshot(format!(
                "snapshot of module {} cannot run on module {}",
                snapshot.module_id,
                module.id()
            )));
        }
        let instance = Instance::with_image(self, module, &snapshot.image)?;
        Ok(Process {
            vm: self.clone(),
            module: module.clone(),
            instance,
            // The snapshot's own image: a rollback decodes it again, nothing is copied now.
            rollback_point: snapshot.image.clone(),
            since_point: Vec::new(),
            fuel_since_point: 0,
        })
    }
}

impl Process {
    pub fn module(&self) -> &Module {
        &self.module
    }

    pub fn memory_len(&self) -> usize {
        self.instance.memory_len()
    }

    pub(crate) fn instance(&self) -> &Instance {
        &self.instance
    }

    pub(crate) fn instance_mut(&mut self) -> &mut Instance {
        &mut self.instance
    }

    /// Fuel one message may burn: the runtime's limit, lowered by the module's `Compute-Limit`.
    fn fuel(&self) -> u64 {
        self.module.fuel_per_message(&self.vm.inner.config)
    }

    /// Handles one message (`msg_json`, `env_json` as in DESIGN.md §3). A failed message is a
    /// normal outcome with `error()` set, and the process is as it was before it.
    pub fn handle(&mut self, msg_json: &str, env_json: &str) -> Result<Outcome, VmError> {
        let fuel = self.fuel();
        let outcome = self
            .instance
            .run(msg_json.as_bytes(), env_json.as_bytes(), fuel)?;
        let outcome = finish(outcome, fuel)?;
        if outcome.error.is_some() {
            self.roll_back()?;
        } else {
            self.since_point
                .push((msg_json.as_bytes().to_vec(), env_json.as_bytes().to_vec()));
            self.fuel_since_point += outcome.gas_used;
            self.maybe_move_rollback_point();
        }
        Ok(outcome)
    }

    /// Evaluates a message against the current state and forgets it (a dry-run), with at most
    /// the runtime's `fuel_per_dry_run`.
    pub fn dry_run(&mut self, msg_json: &str, env_json: &str) -> Result<Outcome, VmError> {
        let fuel = self.fuel().min(self.vm.inner.config.fuel_per_dry_run);
        let outcome = self
            .instance
            .run(msg_json.as_bytes(), env_json.as_bytes(), fuel)?;
        let outcome = finish(outcome, fuel)?;
        self.roll_back()?;
        Ok(outcome)
    }

    /// Runs a chunk of Lua in the process's state outside `handle` (tests and tooling). Returns
    /// `{ok, value}` or `{ok: false, error}`. Its changes stay.
    pub fn eval_script(&mut self, src: &str) -> Result<Value, VmError> {
        let fuel = self.fuel();
        let Instance::Aos(instance) = &mut self.instance else {
            return Err(VmError::Unsupported("eval_script on an emscripten module"));
        };
        match instance.eval_script(src, fuel)? {
            Ok(bytes) => {
                self.set_rollback_point();
                serde_json::from_slice(&bytes).map_err(|e| VmError::Protocol(e.to_string()))
            }
            Err(text) => {
                self.roll_back()?;
                Ok(serde_json::json!({"ok": false, "error": text}))
            }
        }
    }

    /// sha256 (hex) of the library sources inside this process's module (our modules only).
    pub fn library_hash(&mut self) -> Result<String, VmError> {
        match &mut self.instance {
            Instance::Aos(instance) => instance.library_hash(),
            Instance::Emscripten(_) => {
                Err(VmError::Unsupported("library_hash on an emscripten module"))
            }
        }
    }

    /// The process's state now.
    pub fn snapshot(&self) -> Result<Snapshot, VmError> {
        Ok(Snapshot {
            module_id: self.module.id().to_owned(),
            image: Image::Raw(Arc::new(self.instance.memory_copy())),
        })
    }

    fn set_rollback_point(&mut self) {
        // Into the last point's buffer when nothing else shares it: its pages are mapped
        // already, so a big memory costs a copy, not a copy plus a page fault per 4 KiB.
        let reused = match &mut self.rollback_point {
            Image::Raw(buffer) => Arc::get_mut(buffer)
                .map(|buffer| self.instance.copy_memory_into(buffer))
                .is_some(),
            Image::Encoded(_) => false,
        };
        if !reused {
            self.rollback_point = Image::Raw(Arc::new(self.instance.memory_copy()));
        }
        self.since_point.clear();
        self.fuel_since_point = 0;
    }

    fn maybe_move_rollback_point(&mut self) {
        let per_byte = self.vm.inner.config.rollback_fuel_per_byte;
        let threshold = per_byte.saturating_mul(self.memory_len() as u64);
        if self.fuel_since_point >= threshold || self.since_point.len() >= MAX_REPLAY {
            self.set_rollback_point();
        }
    }

    /// Back to the state after the last successful message: a fresh instance, the rollback point's
    /// memory, and a replay of the messages handled since.
    fn roll_back(&mut self) -> Result<(), VmError> {
        let mut instance = Instance::with_image(&self.vm, &self.module, &self.rollback_point)?;
        let fuel = self.fuel();
        for (msg, env) in &self.since_point {
            match instance.run(msg, env, fuel)? {
                Ok(_) => {}
                Err(trap) => {
                    return Err(VmError::Protocol(format!(
                        "a message that succeeded failed on replay: {trap}"
                    )));
                }
            }
        }
        self.instance = instance;
        Ok(())
    }
}

/// The outcome of a call: the guest's result as it is (it carries `GasUsed`), or an error result
/// for a trap. Only failed results are parsed, for their error text.
pub(crate) fn finish(outcome: Result<Ran, String>, fuel: u64) -> Result<Outcome, VmError> {
    match outcome {
        Ok(ran) => {
            let json = String::from_utf8(ran.json)
                .map_err(|e| VmError::Protocol(format!("result is not UTF-8: {e}")))?;
            let (error, gas_used) = if ran.failed {
                let value: Value = serde_json::from_str(&json)
                    .map_err(|e| VmError::Protocol(format!("result is not JSON: {e}")))?;
                let error = match value.get("Error") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => "error".to_owned(),
                };
                (Some(error), value["GasUsed"].as_u64().unwrap_or(ran.fuel))
            } else {
                (None, gas_from_text(&json).unwrap_or(ran.fuel))
            };
            Ok(Outcome {
                json,
                gas_used,
                error,
            })
        }
        Err(trap) => {
            let result = serde_json::json!({
                "Error": trap,
                "Messages": [],
                "Spawns": [],
                "Assignments": [],
                "Output": "",
                "GasUsed": fuel,
            });
            Ok(Outcome {
                json: result.to_string(),
                gas_used: fuel,
                error: Some(trap),
            })
        }
    }
}

/// `GasUsed` read from the result text without parsing the rest (the guest writes keys sorted,
/// and no key before it can contain this text unescaped).
fn gas_from_text(json: &str) -> Option<u64> {
    let at = json.find("\"GasUsed\":")? + "\"GasUsed\":".len();
    let digits: String = json[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}
