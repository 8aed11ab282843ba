//! `aos-vm` owns the process runtime: loading a wasm module (a Lua 5.4 interpreter plus the process
//! library from `lua/`), instantiating processes from it, handling one message at a time under fuel and
//! memory limits, and snapshotting/restoring a process's linear memory.
//!
//! It must never do networking, storage or signature checks, and nothing that differs between machines
//! (wall clock, OS randomness, hash-map iteration order) may reach a process: the message and its env
//! are the only inputs.
