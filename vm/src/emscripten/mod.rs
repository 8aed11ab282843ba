//! AO's own module kind: emscripten builds (`wasm32-unknown-emscripten*`, and
//! `wasm64-unknown-emscripten-draft_2024_02_15` on 64-bit memory) exporting
//! `handle(msg, env) -> json`, the protocol @permaweb/ao-loader speaks. This is our own loader for
//! that contract on wasmtime, under the same rules as our modules: fuel instead of AO's metering,
//! the memory ceiling in the store's limiter, constant answers for clocks and randomness.

mod imports;
mod instance;

pub(crate) use imports::linker;
pub(crate) use instance::EmInstance;

/// Whether `module` speaks ao-loader's protocol: it exports `handle`, `malloc` and a memory.
pub(crate) fn is_emscripten(module: &wasmtime::Module) -> bool {
    ["handle", "malloc", "free", "memory"]
        .iter()
        .all(|name| module.get_export(name).is_some())
}

/// Whether the module's memory is 64-bit (the wasm64 format).
pub(crate) fn is_memory64(module: &wasmtime::Module) -> bool {
    module
        .exports()
        .filter_map(|e| e.ty().memory().cloned())
        .any(|m| m.is_64())
}
