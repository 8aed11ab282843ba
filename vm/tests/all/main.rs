//! Tests of the runtime through the real wasm module, in one test binary.

mod determinism;
mod emscripten;
mod limits;
mod lua_specs;
mod native_parity;
mod snapshots;
mod support;
