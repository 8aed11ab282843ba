//! The engine, compiled modules and their on-disk cache.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine, Linker};

use crate::config::VmConfig;
use crate::error::VmError;
use crate::format::{ModuleFormat, ModuleOptions};
use crate::host::HostState;
use crate::{aos_abi, emscripten, wasi};

/// base64url(sha256(bytes)): a module's id.
pub fn module_id(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(bytes))
}

/// The runtime: one engine, the compiled modules, the limits. Cheap to clone.
#[derive(Clone)]
pub struct Vm {
    pub(crate) inner: Arc<VmInner>,
}

pub(crate) struct VmInner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) config: VmConfig,
    modules: Mutex<HashMap<String, Module>>,
}

impl std::fmt::Debug for Vm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vm")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// One compiled module of either kind, with the limits it was loaded with. Cheap to clone.
#[derive(Clone)]
pub struct Module {
    pub(crate) id: Arc<str>,
    pub(crate) module: wasmtime::Module,
    format: ModuleFormat,
    /// The host functions an emscripten module imports, defined once per module.
    emscripten: Option<Arc<Linker<HostState>>>,
    compute_limit: Option<u64>,
    memory_limit: Option<u64>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("id", &self.id)
            .field("format", &self.format)
            .finish()
    }
}

impl Module {
    /// base64url(sha256(module bytes)).
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn format(&self) -> ModuleFormat {
        self.format
    }

    pub(crate) fn emscripten_linker(&self) -> Option<&Linker<HostState>> {
        self.emscripten.as_deref()
    }

    /// Fuel per message: the runtime's, lowered by the module's `Compute-Limit`.
    pub(crate) fn fuel_per_message(&self, config: &VmConfig) -> u64 {
        self.compute_limit
            .map_or(config.fuel_per_message, |c| c.min(config.fuel_per_message))
    }

    /// The memory ceiling: the runtime's, lowered by the module's `Memory-Limit`.
    pub(crate) fn memory_limit(&self, config: &VmConfig) -> u64 {
        self.memory_limit
            .map_or(config.memory_limit, |m| m.min(config.memory_limit))
    }

    /// This module under a process's own limits (a spawn's `Compute-Limit` and `Memory-Limit`).
    /// Each only lowers what the module (and so the runtime) allows, never raises it: a process
    /// cannot ask for more than the node gives. Cheap: the compiled code is shared.
    pub fn limited(&self, compute_limit: Option<u64>, memory_limit: Option<u64>) -> Module {
        fn lower(current: Option<u64>, asked: Option<u64>) -> Option<u64> {
            match (current, asked) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }
        Module {
            compute_limit: lower(self.compute_limit, compute_limit),
            memory_limit: lower(self.memory_limit, memory_limit),
            ..self.clone()
        }
    }
}

impl Vm {
    pub fn new(config: VmConfig) -> Result<Self, VmError> {
        let mut wasm = Config::new();
        // Determinism: fuel (never epochs, which follow the wall clock) bounds work; NaNs are
        // canonical on every CPU; no relaxed SIMD. Threads are not compiled in at all (the
        // `threads` feature of wasmtime is off).
        wasm.consume_fuel(true)
            .wasm_exceptions(true)
            .cranelift_nan_canonicalization(true)
            .wasm_relaxed_simd(false)
            // AO's wasm64 format: 64-bit linear memory (wasm32 modules are unaffected).
            .wasm_memory64(true);
        if std::env::var_os("AOS_VM_PERFMAP").is_some() {
            wasm.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&wasm)?;
        let mut linker = Linker::new(&engine);
        wasi::add_to_linker(&mut linker)?;
        Ok(Self {
            inner: Arc::new(VmInner {
                engine,
                linker,
                config,
                modules: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn config(&self) -> &VmConfig {
        &self.inner.config
    }

    /// Compiles `bytes` (or takes it from the memory or disk cache), tells its kind from its
    /// exports and checks its imports.
    pub fn load_module(&self, bytes: &[u8]) -> Result<Module, VmError> {
        self.load_module_with(bytes, &ModuleOptions::default())
    }

    /// [`Vm::load_module`] with what a module item declares: its `Module-Format` (checked
    /// against the module) and its `Compute-Limit` and `Memory-Limit`.
    pub fn load_module_with(
        &self,
        bytes: &[u8],
        options: &ModuleOptions,
    ) -> Result<Module, VmError> {
        let id = module_id(bytes);
        let cached = self
            .inner
            .modules
            .lock()
            .expect("module cache lock")
            .get(&id)
            .cloned();
        let module = match cached {
            Some(module) => module,
            None => {
                let module = self.classify(id.clone(), self.compile_cached(&id, bytes)?)?;
                self.inner
                    .modules
                    .lock()
                    .expect("module cache lock")
                    .insert(id, module.clone());
                module
            }
        };
        if let Some(format) = options.format
            && format != module.format
        {
            return Err(VmError::WrongFormat(format!(
                "the module is {:?}, not {format:?}",
                module.format
            )));
        }
        Ok(Module {
            compute_limit: options.compute_limit,
            memory_limit: options.memory_limit,
            ..module
        })
    }

    fn classify(&self, id: String, module: wasmtime::Module) -> Result<Module, VmError> {
        let (format, emscripten) = if aos_abi::is_ours(&module) {
            aos_abi::check(&module)?;
            (ModuleFormat::Aos, None)
        } else if emscripten::is_emscripten(&module) {
            let format = if emscripten::is_memory64(&module) {
                ModuleFormat::Emscripten64
            } else {
                ModuleFormat::Emscripten32
            };
            let linker = emscripten::linker(&self.inner.engine, &module)?;
            (format, Some(Arc::new(linker)))
        } else {
            // Neither kind: report what ours would need.
            aos_abi::check(&module)?;
            return Err(VmError::MissingExport("aos_handle"));
        };
        Ok(Module {
            id: id.into(),
            module,
            format,
            emscripten,
            compute_limit: None,
            memory_limit: None,
        })
    }

    fn cache_path(&self, id: &str) -> Option<PathBuf> {
        let dir = match &self.inner.config.cache_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::home_dir().map(|h| h.join(".cache")))?
                .join("aos"),
        };
        // The engine's configuration is part of the compiled code: key on it too.
        let flavour = format!("wasmtime-48.0.8-m64-{}", std::env::consts::ARCH);
        Some(dir.join("modules").join(format!("{id}-{flavour}.cwasm")))
    }

    fn compile_cached(&self, id: &str, bytes: &[u8]) -> Result<wasmtime::Module, VmError> {
        let path = self.cache_path(id);
        if let Some(path) = &path
            && path.is_file()
        {
            // SAFETY: `deserialize_file` trusts its input to be wasmtime's own output for this
            // engine. Files under this name are only ever written below by `serialize()` of the
            // module with this id (the sha256 of its bytes) on this wasmtime version and arch,
            // renamed into place atomically; wasmtime itself checks version and config flags.
            match unsafe { wasmtime::Module::deserialize_file(&self.inner.engine, path) } {
                Ok(module) => return Ok(module),
                Err(e) => {
                    tracing::warn!("ignoring unusable compiled module {}: {e}", path.display())
                }
            }
        }
        let module = wasmtime::Module::new(&self.inner.engine, bytes)?;
        if let Some(path) = &path
            && let Err(e) = write_atomically(path, &module.serialize()?)
        {
            tracing::warn!("cannot cache compiled module at {}: {e}", path.display());
        }
        Ok(module)
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("module"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
