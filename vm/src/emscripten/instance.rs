//! One instance of an emscripten module, driven the way @permaweb/ao-loader drives it: the
//! message and env go in as NUL-terminated JSON strings, `handle` answers one, `{"ok": bool,
//! "response": {...}}`. The loader throws on `ok: false`; here that is a result with `Error`.

use serde_json::{Map, Value};
use wasmtime::{Func, Memory, Store, Val};

use crate::emscripten::imports::Abort;
use crate::error::VmError;
use crate::host::{HostState, Ran, trap_text};
use crate::runtime::{Module, Vm};

pub(crate) struct EmInstance {
    pub(crate) store: Store<HostState>,
    pub(crate) memory: Memory,
    memory64: bool,
    malloc: Func,
    free: Func,
    handle: Func,
    /// The start-up exports this module has, in the order the JS glue calls them.
    start: Vec<Func>,
}

impl EmInstance {
    pub(crate) fn new(vm: &Vm, module: &Module, memory_limit: u64) -> Result<Self, VmError> {
        let linker = module
            .emscripten_linker()
            .ok_or_else(|| VmError::Protocol("not an emscripten module".into()))?;
        let mut store = Store::new(&vm.inner.engine, HostState::new(memory_limit));
        store.limiter(|state| state.limits());
        let instance = linker.instantiate(&mut store, &module.module)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or(VmError::MissingExport("memory"))?;
        let func = |store: &mut Store<HostState>, name: &'static str| {
            instance
                .get_func(&mut *store, name)
                .ok_or(VmError::MissingExport(name))
        };
        // `_initialize` (a reactor's start) runs the constructors itself.
        let ctors = instance
            .get_func(&mut store, "_initialize")
            .or_else(|| instance.get_func(&mut store, "__wasm_call_ctors"));
        let start = instance
            .get_func(&mut store, "emscripten_stack_init")
            .into_iter()
            .chain(ctors)
            .collect();
        Ok(Self {
            start,
            malloc: func(&mut store, "malloc")?,
            free: func(&mut store, "free")?,
            handle: func(&mut store, "handle")?,
            memory64: memory.ty(&store).is_64(),
            store,
            memory,
        })
    }

    /// The runtime's start-up, as the JS glue does it before the first message: the stack limits,
    /// then the static constructors. (Calling them again on a restored instance is harmless:
    /// the snapshot's memory replaces whatever they wrote.)
    pub(crate) fn init(&mut self, fuel: u64) -> Result<(), VmError> {
        self.store.set_fuel(fuel)?;
        for f in self.start.clone() {
            f.call(&mut self.store, &[], &mut [])
                .map_err(|e| VmError::Init(trap_text(&e, fuel)))?;
        }
        Ok(())
    }

    fn pointer(&self, value: u64) -> Val {
        if self.memory64 {
            Val::I64(value as i64)
        } else {
            Val::I32(value as u32 as i32)
        }
    }

    fn as_pointer(value: &Val) -> u64 {
        match value {
            Val::I32(x) => *x as u32 as u64,
            Val::I64(x) => *x as u64,
            _ => 0,
        }
    }

    /// A NUL-terminated copy of `bytes` in a `malloc`ed buffer.
    fn put(&mut self, bytes: &[u8]) -> wasmtime::Result<u64> {
        let mut out = [self.pointer(0)];
        let size = [self.pointer(bytes.len() as u64 + 1)];
        self.malloc.call(&mut self.store, &size, &mut out)?;
        let ptr = Self::as_pointer(&out[0]);
        if ptr == 0 {
            return Err(wasmtime::Error::new(Abort(
                "the process has no memory left for the message".into(),
            )));
        }
        self.memory.write(&mut self.store, ptr as usize, bytes)?;
        self.memory
            .write(&mut self.store, ptr as usize + bytes.len(), &[0])?;
        Ok(ptr)
    }

    fn c_string(&self, ptr: u64) -> Result<Vec<u8>, VmError> {
        let data = self.memory.data(&self.store);
        let tail = data
            .get(ptr as usize..)
            .filter(|_| ptr != 0)
            .ok_or_else(|| VmError::Protocol("handle answered outside memory".into()))?;
        let len = tail
            .iter()
            .position(|b| *b == 0)
            .ok_or_else(|| VmError::Protocol("handle's answer is not terminated".into()))?;
        Ok(tail[..len].to_vec())
    }

    /// Runs one message with `fuel`; `Ok(Err(text))` is a trap (the instance must be discarded).
    pub(crate) fn run(
        &mut self,
        msg: &[u8],
        env: &[u8],
        fuel: u64,
    ) -> Result<Result<Ran, String>, VmError> {
        self.store.set_fuel(fuel)?;
        self.store.data_mut().set_fuel_start(fuel);
        let call = (|| {
            let m = self.put(msg)?;
            let e = self.put(env)?;
            let mut out = [self.pointer(0)];
            let args = [self.pointer(m), self.pointer(e)];
            self.handle.call(&mut self.store, &args, &mut out)?;
            for ptr in args {
                self.free.call(&mut self.store, &[ptr], &mut [])?;
            }
            Ok::<u64, wasmtime::Error>(Self::as_pointer(&out[0]))
        })();
        let used = fuel - self.store.get_fuel().unwrap_or(0);
        match call {
            Ok(ptr) => Ok(Ok(result(&self.c_string(ptr)?, used)?)),
            Err(e) => Ok(Err(match e.downcast_ref::<Abort>() {
                Some(abort) => abort.0.clone(),
                None => trap_text(&e, fuel),
            })),
        }
    }
}

/// ao-loader's answer turned into our result shape: `{Output, Messages, Spawns, Assignments,
/// Error?, GasUsed}`, keys sorted.
fn result(answer: &[u8], gas: u64) -> Result<Ran, VmError> {
    let bad = |why: String| VmError::Protocol(format!("handle's answer {why}"));
    let answer: Value =
        serde_json::from_slice(answer).map_err(|e| bad(format!("is not JSON: {e}")))?;
    let ok = answer.get("ok").and_then(Value::as_bool).unwrap_or(false);
    let response = answer.get("response").cloned().unwrap_or(Value::Null);
    let mut out = Map::new();
    if ok {
        let Value::Object(fields) = response else {
            return Err(bad("has no response object".into()));
        };
        out.extend(fields);
    } else {
        let error = match response {
            Value::String(s) => s,
            Value::Null => "the process refused the message".to_owned(),
            other => other.to_string(),
        };
        out.insert("Error".into(), Value::String(error));
    }
    for list in ["Messages", "Spawns", "Assignments"] {
        out.entry(list).or_insert_with(|| Value::Array(Vec::new()));
    }
    out.entry("Output")
        .or_insert_with(|| Value::String(String::new()));
    if out.get("Error").is_some_and(Value::is_null) {
        out.remove("Error");
    }
    let failed = out.contains_key("Error");
    out.insert("GasUsed".into(), Value::from(gas));
    Ok(Ran {
        json: serde_json::to_vec(&Value::Object(out)).expect("a JSON value serialises"),
        failed,
        fuel: gas,
    })
}
