//! One process: a wasm instance of a module plus its memory, handling one message at a time.
//!
//! A message that ends in `Error` — a Lua error, fuel exhausted, the heap full, a trap — leaves no
//! trace. Instead of copying the whole memory before every message (cost proportional to the
//! heap), the process keeps a *rollback point* (a memory copy) and the messages handled since; on
//! an error it restores the point and replays those messages. A new point is taken only once the
//! fuel spent since the last one exceeds `rollback_fuel_per_byte` × memory size, so the copying
//! costs in proportion to the work done and a replay costs about one copy at most.

use serde_json::Value;
use wasmtime::{
    FuncType, Memory, Store, StoreLimits, StoreLimitsBuilder, Tag, TagType, Trap, TypedFunc,
    ValType,
};

use crate::error::VmError;
use crate::runtime::{Module, Vm};
use crate::snapshot::Snapshot;

/// The exception tag the guest's setjmp/longjmp uses; the host defines it.
pub(crate) const LONGJMP_TAG: &str = "__c_longjmp";

pub(crate) const EXPORTS: &[&str] = &[
    "memory",
    "aos_alloc",
    "aos_init",
    "aos_handle",
    "aos_eval_script",
    "aos_library_hash",
    "aos_output",
];

/// Most messages kept for replay before a rollback point is forced.
const MAX_REPLAY: usize = 10_000;

pub struct HostState {
    limits: StoreLimits,
    fuel_start: u64,
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
        }
    }

    /// The fuel the current call started with.
    pub(crate) fn fuel_start(&self) -> u64 {
        self.fuel_start
    }
}

struct Instance {
    store: Store<HostState>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    init: TypedFunc<u64, u32>,
    handle: TypedFunc<(u32, u32, u32, u32), u64>,
    eval: TypedFunc<(u32, u32), u64>,
    library_hash: TypedFunc<(), u64>,
    output: TypedFunc<(), u64>,
}

impl Instance {
    fn new(vm: &Vm, module: &Module) -> Result<Self, VmError> {
        let engine = &vm.inner.engine;
        let mut store = Store::new(engine, HostState::new(vm.inner.config.memory_limit));
        store.limiter(|state| &mut state.limits);
        let mut linker = vm.inner.linker.clone();
        let tag = Tag::new(
            &mut store,
            &TagType::new(FuncType::new(engine, [ValType::I32], [])),
        )?;
        linker.define(&store, "env", LONGJMP_TAG, tag)?;
        let instance = linker.instantiate(&mut store, &module.module)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or(VmError::MissingExport("memory"))?;
        Ok(Self {
            alloc: instance.get_typed_func(&mut store, "aos_alloc")?,
            init: instance.get_typed_func(&mut store, "aos_init")?,
            handle: instance.get_typed_func(&mut store, "aos_handle")?,
            eval: instance.get_typed_func(&mut store, "aos_eval_script")?,
            library_hash: instance.get_typed_func(&mut store, "aos_library_hash")?,
            output: instance.get_typed_func(&mut store, "aos_output")?,
            store,
            memory,
        })
    }

    /// Copies `bytes` into a fresh guest buffer.
    fn put(&mut self, bytes: &[u8]) -> Result<u32, wasmtime::Error> {
        let ptr = self.alloc.call(&mut self.store, bytes.len() as u32)?;
        self.memory.write(&mut self.store, ptr as usize, bytes)?;
        Ok(ptr)
    }

    fn read_packed(&self, packed: u64) -> Result<Vec<u8>, VmError> {
        let (ptr, len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
        let data = self.memory.data(&self.store);
        data.get(ptr..ptr + len)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| VmError::Protocol("output outside memory".into()))
    }

    fn memory_copy(&self) -> Vec<u8> {
        self.memory.data(&self.store).to_vec()
    }

    fn load_memory(&mut self, bytes: &[u8]) -> Result<(), VmError> {
        let page = 65536;
        let current = self.memory.data_size(&self.store);
        if bytes.len() < current || !bytes.len().is_multiple_of(page) {
            return Err(VmError::Snapshot(format!(
                "memory of {} bytes cannot replace {current}",
                bytes.len()
            )));
        }
        self.memory
            .grow(&mut self.store, ((bytes.len() - current) / page) as u64)?;
        self.memory.data_mut(&mut self.store).copy_from_slice(bytes);
        Ok(())
    }

    /// Runs one message with `fuel`; `Ok(Err(text))` is a trap (the instance must be discarded).
    fn run(&mut self, msg: &[u8], env: &[u8], fuel: u64) -> Result<Result<Ran, String>, VmError> {
        self.store.set_fuel(fuel)?;
        self.store.data_mut().fuel_start = fuel;
        let call = (|| {
            let m = self.put(msg)?;
            let e = self.put(env)?;
            self.handle
                .call(&mut self.store, (m, msg.len() as u32, e, env.len() as u32))
        })();
        let used = fuel - self.store.get_fuel().unwrap_or(0);
        match call {
            Ok(packed) => Ok(Ok(Ran {
                json: self.read_packed(packed & !ERROR_FLAG)?,
                failed: packed & ERROR_FLAG != 0,
                fuel: used,
            })),
            Err(e) => Ok(Err(trap_text(&e, fuel))),
        }
    }
}

/// Bit of `aos_handle`'s packed answer that marks a result with `Error`.
const ERROR_FLAG: u64 = 1 << 31;

/// What one completed call gave back.
struct Ran {
    json: Vec<u8>,
    failed: bool,
    /// All fuel the call used (the result's GasUsed stops before the result is encoded).
    fuel: u64,
}

fn trap_text(e: &wasmtime::Error, fuel: u64) -> String {
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => {
            format!("the message ran out of fuel (limit {fuel}): is there an endless loop?")
        }
        Some(Trap::StackOverflow) => "the message overflowed the stack".to_owned(),
        Some(trap) => format!("the process trapped: {trap}"),
        None => format!("the process failed: {e:#}"),
    }
}

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
    rollback_point: Vec<u8>,
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
        let mut instance = Instance::new(self, module)?;
        instance.store.set_fuel(self.inner.config.fuel_for_init)?;
        let status = instance
            .init
            .call(&mut instance.store, self.inner.config.lua_memory_limit())
            .map_err(|e| VmError::Init(trap_text(&e, self.inner.config.fuel_for_init)))?;
        if status != 0 {
            instance.store.set_fuel(1_000_000)?;
            let packed = instance.output.call(&mut instance.store, ())?;
            let text = String::from_utf8_lossy(&instance.read_packed(packed)?).into_owned();
            return Err(VmError::Init(text));
        }
        let rollback_point = instance.memory_copy();
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
        let mut instance = Instance::new(self, module)?;
        instance.load_memory(&snapshot.memory)?;
        Ok(Process {
            vm: self.clone(),
            module: module.clone(),
            instance,
            rollback_point: snapshot.memory.clone(),
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
        self.instance.memory.data_size(&self.instance.store)
    }

    /// Handles one message (`msg_json`, `env_json` as in DESIGN.md §3). A failed message is a
    /// normal outcome with `error()` set, and the process is as it was before it.
    pub fn handle(&mut self, msg_json: &str, env_json: &str) -> Result<Outcome, VmError> {
        let fuel = self.vm.inner.config.fuel_per_message;
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

    /// Evaluates a message against the current state and forgets it (a dry-run).
    pub fn dry_run(&mut self, msg_json: &str, env_json: &str) -> Result<Outcome, VmError> {
        let fuel = self.vm.inner.config.fuel_per_message;
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
        let fuel = self.vm.inner.config.fuel_per_message;
        self.instance.store.set_fuel(fuel)?;
        let instance = &mut self.instance;
        let called = (|| {
            let ptr = instance.put(src.as_bytes())?;
            instance
                .eval
                .call(&mut instance.store, (ptr, src.len() as u32))
        })();
        match called {
            Ok(packed) => {
                let bytes = self.instance.read_packed(packed)?;
                self.set_rollback_point();
                serde_json::from_slice(&bytes).map_err(|e| VmError::Protocol(e.to_string()))
            }
            Err(e) => {
                let text = trap_text(&e, fuel);
                self.roll_back()?;
                Ok(serde_json::json!({"ok": false, "error": text}))
            }
        }
    }

    /// sha256 (hex) of the library sources inside this process's module.
    pub fn library_hash(&mut self) -> Result<String, VmError> {
        self.instance.store.set_fuel(1_000_000)?;
        let packed = self
            .instance
            .library_hash
            .call(&mut self.instance.store, ())?;
        Ok(String::from_utf8_lossy(&self.instance.read_packed(packed)?).into_owned())
    }

    /// The process's state now.
    pub fn snapshot(&self) -> Result<Snapshot, VmError> {
        Ok(Snapshot {
            module_id: self.module.id().to_owned(),
            memory: self.instance.memory_copy(),
        })
    }

    fn set_rollback_point(&mut self) {
        self.rollback_point = self.instance.memory_copy();
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
        let mut instance = Instance::new(&self.vm, &self.module)?;
        instance.load_memory(&self.rollback_point)?;
        let fuel = self.vm.inner.config.fuel_per_message;
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
fn finish(outcome: Result<Ran, String>, fuel: u64) -> Result<Outcome, VmError> {
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
