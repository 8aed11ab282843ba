//! One instance of a module of either kind, behind the operations a [`crate::Process`] needs:
//! start it, run a message, copy and replace its memory.

use wasmtime::{Memory, Store};

use crate::aos_abi::AosInstance;
use crate::dirty::WriteTracker;
use crate::emscripten::EmInstance;
use crate::error::VmError;
use crate::format::ModuleFormat;
use crate::host::{HostState, Ran};
use crate::runtime::{Module, Vm};
use crate::snapshot::Image;

// One per process, held in place: the size difference between the kinds costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Instance {
    Aos(AosInstance),
    Emscripten(EmInstance),
}

impl Instance {
    /// A fresh instance, not yet started (a restore loads memory into it instead).
    pub(crate) fn new(vm: &Vm, module: &Module) -> Result<Self, VmError> {
        let memory_limit = module.memory_limit(&vm.inner.config);
        Ok(match module.format() {
            ModuleFormat::Aos => Self::Aos(AosInstance::new(vm, module, memory_limit)?),
            ModuleFormat::Emscripten32 | ModuleFormat::Emscripten64 => {
                Self::Emscripten(EmInstance::new(vm, module, memory_limit)?)
            }
        })
    }

    /// A fresh instance, started: what a spawn begins with.
    pub(crate) fn started(vm: &Vm, module: &Module) -> Result<Self, VmError> {
        let mut instance = Self::new(vm, module)?;
        let config = &vm.inner.config;
        match &mut instance {
            Self::Aos(i) => i.init(
                config.fuel_for_init,
                crate::config::lua_memory_limit(module.memory_limit(config)),
            )?,
            Self::Emscripten(i) => i.init(config.fuel_for_init)?,
        }
        Ok(instance)
    }

    /// A fresh instance continuing from `image` (a snapshot or a rollback point).
    pub(crate) fn with_image(vm: &Vm, module: &Module, image: &Image) -> Result<Self, VmError> {
        let mut instance = match module.format() {
            // Our module's state is its memory alone: no start-up to run first.
            ModuleFormat::Aos => Self::new(vm, module)?,
            // emscripten's start-up also sets globals (the stack limits), so it runs before
            // the memory is replaced, as ao-loader does when it resumes from a buffer.
            _ => Self::started(vm, module)?,
        };
        instance.load_image(image)?;
        Ok(instance)
    }

    fn parts(&mut self) -> (&mut Store<HostState>, Memory) {
        match self {
            Self::Aos(i) => (&mut i.store, i.memory),
            Self::Emscripten(i) => (&mut i.store, i.memory),
        }
    }

    pub(crate) fn run(
        &mut self,
        msg: &[u8],
        env: &[u8],
        fuel: u64,
    ) -> Result<Result<Ran, String>, VmError> {
        match self {
            Self::Aos(i) => i.run(msg, env, fuel),
            Self::Emscripten(i) => i.run(msg, env, fuel),
        }
    }

    pub(crate) fn memory(&self) -> &[u8] {
        match self {
            Self::Aos(i) => i.memory.data(&i.store),
            Self::Emscripten(i) => i.memory.data(&i.store),
        }
    }

    pub(crate) fn memory_len(&self) -> usize {
        self.memory().len()
    }

    pub(crate) fn memory_copy(&self) -> Vec<u8> {
        self.memory().to_vec()
    }

    /// Replaces the memory with `bytes` (at least as long as it is now), as a dry-run scratch
    /// is refreshed from its process. Returns how many 4 KiB pages differed.
    pub(crate) fn load_memory(&mut self, bytes: &[u8]) -> Result<usize, VmError> {
        self.grow_to(bytes.len())?;
        let (store, memory) = self.parts();
        // A scratch differs from its process only where its last dry-run wrote and where the
        // process moved since: comparing reads both, but writes only the pages that differ,
        // which is cheaper than writing them all.
        const CHUNK: usize = 4096;
        let dst = memory.data_mut(&mut *store);
        let mut differed = 0;
        for (d, s) in dst.chunks_mut(CHUNK).zip(bytes.chunks(CHUNK)) {
            if d != s {
                d.copy_from_slice(s);
                differed += 1;
            }
        }
        Ok(differed)
    }

    /// The memory's write tracker (our module's instances only), made on first use; `None`
    /// where the kernel cannot track writes.
    pub(crate) fn writes(&mut self) -> Option<&mut WriteTracker> {
        match self {
            Self::Aos(i) => i.writes(),
            Self::Emscripten(_) => None,
        }
    }

    /// Replaces the pages in `runs` (4 KiB page index ranges) with those of `bytes`, after
    /// growing to its length: a scratch refreshed from what either side wrote.
    pub(crate) fn load_pages(
        &mut self,
        bytes: &[u8],
        runs: &[(usize, usize)],
    ) -> Result<(), VmError> {
        self.grow_to(bytes.len())?;
        let (store, memory) = self.parts();
        // Only pages that differ are written: a page written here is left writable in the
        // scratch and listed again at the next refresh, so writing equal pages would keep
        // every page ever listed on the list.
        let dst = memory.data_mut(&mut *store);
        for &(first, end) in runs {
            for page in first..end {
                let (a, b) = (page * 4096, ((page + 1) * 4096).min(bytes.len()));
                if a < b && dst[a..b] != bytes[a..b] {
                    dst[a..b].copy_from_slice(&bytes[a..b]);
                }
            }
        }
        Ok(())
    }

    /// Copies the memory into `buffer`, reusing its allocation.
    pub(crate) fn copy_memory_into(&self, buffer: &mut Vec<u8>) {
        buffer.clear();
        buffer.extend_from_slice(self.memory());
    }

    /// Grows the memory to `len` bytes (whole wasm pages, not less than it is) before it is
    /// replaced; returns the length it had.
    fn grow_to(&mut self, len: usize) -> Result<usize, VmError> {
        let (store, memory) = self.parts();
        let page = 65536;
        let current = memory.data_size(&*store);
        if len < current || !len.is_multiple_of(page) {
            return Err(VmError::Snapshot(format!(
                "memory of {len} bytes cannot replace {current}"
            )));
        }
        memory.grow(&mut *store, ((len - current) / page) as u64)?;
        Ok(current)
    }

    fn load_image(&mut self, image: &Image) -> Result<(), VmError> {
        let current = self.grow_to(image.len())?;
        let (store, memory) = self.parts();
        // What was grown is zero already: the image skips its zero chunks there.
        image.write_into(memory.data_mut(&mut *store), current)
    }
}
