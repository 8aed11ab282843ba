//! Our own module kind: Lua 5.4 and the process library on wasm32-wasip1, speaking this project's
//! ABI (`aos_init`, `aos_handle`, … with packed pointer/length answers; see `vm/guest`).

use wasmtime::{FuncType, Memory, Store, Tag, TagType, TypedFunc, ValType};

use crate::dirty::WriteTracker;
use crate::error::VmError;
use crate::host::{HostState, Ran, trap_text};
use crate::runtime::{Module, Vm};
use crate::wasi;

/// The exception tag the guest's setjmp/longjmp uses; the host defines it.
const LONGJMP_TAG: &str = "__c_longjmp";

const EXPORTS: &[&str] = &[
    "memory",
    "aos_alloc",
    "aos_init",
    "aos_handle",
    "aos_eval_script",
    "aos_library_hash",
    "aos_output",
];

/// Whether `module` looks like one of ours (it exports our entry point).
pub(crate) fn is_ours(module: &wasmtime::Module) -> bool {
    module.get_export("aos_handle").is_some()
}

/// Refuses a module that imports what we do not provide or lacks one of our exports.
pub(crate) fn check(module: &wasmtime::Module) -> Result<(), VmError> {
    for import in module.imports() {
        let known = (import.module() == wasi::MODULE && wasi::PROVIDED.contains(&import.name()))
            || (import.module() == "env" && import.name() == LONGJMP_TAG)
            || (import.module() == "aos" && import.name() == "fuel_used");
        if !known {
            return Err(VmError::UnknownImport(format!(
                "{}::{}",
                import.module(),
                import.name()
            )));
        }
    }
    for export in EXPORTS {
        if module.get_export(export).is_none() {
            return Err(VmError::MissingExport(export));
        }
    }
    Ok(())
}

/// Bit of `aos_handle`'s packed answer that marks a result with `Error`.
const ERROR_FLAG: u64 = 1 << 31;

pub(crate) struct AosInstance {
    pub(crate) store: Store<HostState>,
    pub(crate) memory: Memory,
    alloc: TypedFunc<u32, u32>,
    init: TypedFunc<u64, u32>,
    handle: TypedFunc<(u32, u32, u32, u32), u64>,
    eval: TypedFunc<(u32, u32), u64>,
    library_hash: TypedFunc<(), u64>,
    output: TypedFunc<(), u64>,
    memory_limit: u64,
    /// Write tracking of the memory, made the first time it is asked for (a process that is
    /// never dry-run never pays for it).
    writes: Tracking,
}

enum Tracking {
    Untried,
    Off,
    On(WriteTracker),
}

impl AosInstance {
    pub(crate) fn new(vm: &Vm, module: &Module, memory_limit: u64) -> Result<Self, VmError> {
        let engine = &vm.inner.engine;
        let mut store = Store::new(engine, HostState::new(memory_limit));
        store.limiter(|state| state.limits());
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
        crate::pages::advise_huge(memory.data_ptr(&store), memory_limit);
        Ok(Self {
            alloc: instance.get_typed_func(&mut store, "aos_alloc")?,
            init: instance.get_typed_func(&mut store, "aos_init")?,
            handle: instance.get_typed_func(&mut store, "aos_handle")?,
            eval: instance.get_typed_func(&mut store, "aos_eval_script")?,
            library_hash: instance.get_typed_func(&mut store, "aos_library_hash")?,
            output: instance.get_typed_func(&mut store, "aos_output")?,
            store,
            memory,
            memory_limit,
            writes: Tracking::Untried,
        })
    }

    /// The memory's write tracker, if the kernel can track it; made on first use.
    pub(crate) fn writes(&mut self) -> Option<&mut WriteTracker> {
        let base = self.memory.data_ptr(&self.store);
        if let Tracking::On(t) = &self.writes
            && t.base() != base as usize
        {
            // Moved memory (not with wasmtime's 4 GiB reservations, but then nothing is known).
            self.writes = Tracking::Off;
        }
        if matches!(self.writes, Tracking::Untried) {
            let limit = self.memory_limit.min(4 << 30) as usize;
            self.writes = match WriteTracker::new(base, limit) {
                Some(t) => Tracking::On(t),
                None => Tracking::Off,
            };
        }
        match &mut self.writes {
            Tracking::On(t) => Some(t),
            _ => None,
        }
    }

    /// Builds the Lua state and loads the library (the spawn's setup, before any message).
    pub(crate) fn init(&mut self, fuel: u64, lua_memory_limit: u64) -> Result<(), VmError> {
        self.store.set_fuel(fuel)?;
        let status = self
            .init
            .call(&mut self.store, lua_memory_limit)
            .map_err(|e| VmError::Init(trap_text(&e, fuel)))?;
        if status != 0 {
            self.store.set_fuel(1_000_000)?;
            let packed = self.output.call(&mut self.store, ())?;
            let text = String::from_utf8_lossy(&self.read_packed(packed)?).into_owned();
            return Err(VmError::Init(text));
        }
        Ok(())
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

    /// Runs a chunk of Lua outside `handle`: `Ok(Err(text))` is a trap.
    pub(crate) fn eval_script(
        &mut self,
        src: &str,
        fuel: u64,
    ) -> Result<Result<Vec<u8>, String>, VmError> {
        self.store.set_fuel(fuel)?;
        let called = (|| {
            let ptr = self.put(src.as_bytes())?;
            self.eval.call(&mut self.store, (ptr, src.len() as u32))
        })();
        match called {
            Ok(packed) => Ok(Ok(self.read_packed(packed)?)),
            Err(e) => Ok(Err(trap_text(&e, fuel))),
        }
    }

    pub(crate) fn library_hash(&mut self) -> Result<String, VmError> {
        self.store.set_fuel(1_000_000)?;
        let packed = self.library_hash.call(&mut self.store, ())?;
        Ok(String::from_utf8_lossy(&self.read_packed(packed)?).into_owned())
    }
}
