//! Tests of the runtime through the real wasm module, in one test binary.

mod determinism;
mod emscripten;
mod json_parity;
mod limits;
mod lua_specs;
mod native_parity;
mod results;
mod scratch;
mod snapshots;
mod sqlite;
mod support;
