//! The process module's exports: a Lua 5.4 state with the aos process library (see `aos-vm-glue`),
//! driven by the host. Everything here runs inside wasm; the host supplies the only inputs
//! (message, env) and every WASI import it sees is deterministic.
//!
//! Exports (pointers and sizes are guest linear-memory offsets):
//! - `aos_alloc(len) -> ptr`, `aos_free(ptr, len)`: buffers the host writes inputs into.
//! - `aos_init(memory_limit) -> status`: builds the Lua state (0 = ok, else the error text is in
//!   the output buffer, see below).
//! - `aos_handle(msg, msg_len, env, env_len) -> packed`: one message; takes ownership of both input
//!   buffers; returns the result JSON as `ptr << 32 | len` (valid until the next call), with bit 31
//!   set when the result carries `Error`. The result's `GasUsed` comes from the import
//!   `aos::fuel_used`.
//! - `aos_eval_script(src, len) -> packed`: runs a chunk outside `handle` (tests, tooling).
//! - `aos_library_hash() -> packed`: sha256 (hex) of the embedded library sources.
//! - `aos_output() -> packed`: the output buffer (the error text after a failed `aos_init`).

use std::cell::RefCell;

use mlua::Lua;

mod library {
    include!(concat!(env!("OUT_DIR"), "/library.rs"));
}

#[link(wasm_import_module = "aos")]
unsafe extern "C" {
    /// Fuel this message has used so far (the host meters it).
    fn fuel_used() -> u64;
}

/// Bit of the packed length that marks a result with `Error` (results are far below 2 GiB).
const ERROR_FLAG: u64 = 1 << 31;

thread_local! {
    static LUA: RefCell<Option<Lua>> = const { RefCell::new(None) };
    static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn packed(bytes: &[u8]) -> u64 {
    OUT.with(|out| {
        let mut out = out.borrow_mut();
        out.clear();
        out.extend_from_slice(bytes);
        ((out.as_ptr() as u64) << 32) | out.len() as u64
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn aos_alloc(len: u32) -> *mut u8 {
    let mut buffer = Vec::<u8>::with_capacity(len as usize);
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr
}

/// # Safety
/// `ptr` must come from `aos_alloc(len)` and not be freed twice.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aos_free(ptr: *mut u8, len: u32) {
    // SAFETY: the host passes back exactly what aos_alloc returned, with its length.
    drop(unsafe { Vec::from_raw_parts(ptr, 0, len as usize) });
}

/// # Safety
/// `ptr..ptr+len` must be a buffer from `aos_alloc(len)` that the host filled.
unsafe fn take_input(ptr: *mut u8, len: u32) -> Vec<u8> {
    // SAFETY: see above; capacity is `len` and all `len` bytes were written by the host.
    unsafe { Vec::from_raw_parts(ptr, len as usize, len as usize) }
}

#[unsafe(no_mangle)]
pub extern "C" fn aos_library_hash() -> u64 {
    packed(library::LIBRARY_HASH.as_bytes())
}

#[unsafe(no_mangle)]
pub extern "C" fn aos_output() -> u64 {
    OUT.with(|out| {
        let out = out.borrow();
        ((out.as_ptr() as u64) << 32) | out.len() as u64
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn aos_init(memory_limit: u64) -> u32 {
    match aos_vm_glue::build_state(memory_limit as usize, library::LIBRARY) {
        Ok(lua) => {
            LUA.with(|cell| *cell.borrow_mut() = Some(lua));
            packed(b"");
            0
        }
        Err(e) => {
            packed(aos_vm_glue::error_text(&e).as_bytes());
            1
        }
    }
}

/// # Safety
/// Both buffers come from `aos_alloc` and are handed over to the guest.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aos_handle(msg: *mut u8, msg_len: u32, env: *mut u8, env_len: u32) -> u64 {
    // SAFETY: the host allocated and filled both buffers through aos_alloc.
    let (msg, env) = unsafe { (take_input(msg, msg_len), take_input(env, env_len)) };
    // SAFETY: a plain host function without arguments or memory access.
    let meter = || unsafe { fuel_used() };
    let (result, failed) = LUA.with(|cell| match cell.borrow().as_ref() {
        Some(lua) => aos_vm_glue::handle_to_bytes(lua, &msg, &env, Some(&meter)),
        None => {
            let result = aos_vm_glue::error_result("the process is not initialised");
            (serde_json::to_vec(&result).unwrap_or_default(), true)
        }
    });
    let flag = if failed { ERROR_FLAG } else { 0 };
    packed(&result) | flag
}

/// # Safety
/// `src` comes from `aos_alloc(len)` and is handed over to the guest.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aos_eval_script(src: *mut u8, len: u32) -> u64 {
    // SAFETY: the host allocated and filled the buffer through aos_alloc.
    let src = unsafe { take_input(src, len) };
    let json = LUA.with(|cell| match cell.borrow().as_ref() {
        Some(lua) => aos_vm_glue::eval_script(lua, &src),
        None => serde_json::json!({"ok": false, "error": "the process is not initialised"}),
    });
    packed(&serde_json::to_vec(&json).unwrap_or_default())
}
