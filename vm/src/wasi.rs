//! The WASI imports a module may use, each a constant: no clock, no randomness, no files, no
//! environment. Answers never depend on host state, so a restored snapshot sees exactly what the
//! original instance saw.

use wasmtime::{Caller, Linker};

use crate::host::HostState;

pub const MODULE: &str = "wasi_snapshot_preview1";

/// Every function defined below.
pub const PROVIDED: &[&str] = &[
    "random_get",
    "clock_time_get",
    "environ_sizes_get",
    "environ_get",
    "args_sizes_get",
    "args_get",
    "fd_write",
    "fd_read",
    "fd_close",
    "fd_seek",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_renumber",
    "path_open",
    "path_remove_directory",
    "path_rename",
    "path_unlink_file",
    "sched_yield",
    "proc_exit",
];
const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_NOTCAPABLE: i32 = 76;

/// A byte written by `random_get`: Rust's std seeds its hash maps with it; a constant keeps them
/// deterministic (no process code can see those maps' order anyway).
const RANDOM_BYTE: u8 = 0x5a;

fn write_bytes(caller: &mut Caller<'_, HostState>, ptr: i32, bytes: &[u8]) -> bool {
    let Some(memory) = caller.get_export("memory").and_then(|e| e.into_memory()) else {
        return false;
    };
    memory.write(caller, ptr as u32 as usize, bytes).is_ok()
}

fn read_u32(caller: &mut Caller<'_, HostState>, ptr: u32) -> Option<u32> {
    let memory = caller.get_export("memory").and_then(|e| e.into_memory())?;
    let mut buf = [0u8; 4];
    memory.read(&*caller, ptr as usize, &mut buf).ok()?;
    Some(u32::from_le_bytes(buf))
}

pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    // Not WASI: the guest asks how much fuel its message has used, for the result's GasUsed.
    linker.func_wrap("aos", "fuel_used", |caller: Caller<'_, HostState>| -> u64 {
        let left = caller.get_fuel().unwrap_or(0);
        caller.data().fuel_start().saturating_sub(left)
    })?;
    linker.func_wrap(
        MODULE,
        "random_get",
        |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| {
            let bytes = vec![RANDOM_BYTE; len.max(0) as usize];
            if write_bytes(&mut caller, ptr, &bytes) {
                ERRNO_SUCCESS
            } else {
                ERRNO_BADF
            }
        },
    )?;
    linker.func_wrap(
        MODULE,
        "clock_time_get",
        |mut caller: Caller<'_, HostState>, _id: i32, _precision: i64, out: i32| {
            // Time stands still at the epoch; processes read the message's Timestamp instead.
            if write_bytes(&mut caller, out, &0u64.to_le_bytes()) {
                ERRNO_SUCCESS
            } else {
                ERRNO_BADF
            }
        },
    )?;
    linker.func_wrap(
        MODULE,
        "environ_sizes_get",
        |mut caller: Caller<'_, HostState>, count: i32, size: i32| {
            let ok = write_bytes(&mut caller, count, &0u32.to_le_bytes())
                && write_bytes(&mut caller, size, &0u32.to_le_bytes());
            if ok { ERRNO_SUCCESS } else { ERRNO_BADF }
        },
    )?;
    linker.func_wrap(MODULE, "environ_get", |_: i32, _: i32| ERRNO_SUCCESS)?;
    linker.func_wrap(
        MODULE,
        "args_sizes_get",
        |mut caller: Caller<'_, HostState>, count: i32, size: i32| {
            let ok = write_bytes(&mut caller, count, &0u32.to_le_bytes())
                && write_bytes(&mut caller, size, &0u32.to_le_bytes());
            if ok { ERRNO_SUCCESS } else { ERRNO_BADF }
        },
    )?;
    linker.func_wrap(MODULE, "args_get", |_: i32, _: i32| ERRNO_SUCCESS)?;
    linker.func_wrap(
        MODULE,
        "fd_write",
        |mut caller: Caller<'_, HostState>, fd: i32, iovs: i32, count: i32, written: i32| {
            // stdout/stderr are swallowed (the library captures print itself); report it all
            // written so writers do not loop.
            if fd != 1 && fd != 2 {
                return ERRNO_BADF;
            }
            let mut total: u32 = 0;
            for i in 0..count.max(0) as u32 {
                let Some(len) = read_u32(&mut caller, iovs as u32 + i * 8 + 4) else {
                    return ERRNO_BADF;
                };
                total = total.wrapping_add(len);
            }
            if write_bytes(&mut caller, written, &total.to_le_bytes()) {
                ERRNO_SUCCESS
            } else {
                ERRNO_BADF
            }
        },
    )?;
    linker.func_wrap(MODULE, "fd_read", |_: i32, _: i32, _: i32, _: i32| {
        ERRNO_BADF
    })?;
    linker.func_wrap(MODULE, "fd_close", |_: i32| ERRNO_BADF)?;
    linker.func_wrap(MODULE, "fd_seek", |_: i32, _: i64, _: i32, _: i32| {
        ERRNO_BADF
    })?;
    linker.func_wrap(MODULE, "fd_fdstat_get", |_: i32, _: i32| ERRNO_BADF)?;
    linker.func_wrap(MODULE, "fd_fdstat_set_flags", |_: i32, _: i32| ERRNO_BADF)?;
    linker.func_wrap(MODULE, "fd_prestat_get", |_: i32, _: i32| ERRNO_BADF)?;
    linker.func_wrap(MODULE, "fd_prestat_dir_name", |_: i32, _: i32, _: i32| {
        ERRNO_BADF
    })?;
    linker.func_wrap(MODULE, "fd_renumber", |_: i32, _: i32| ERRNO_BADF)?;
    linker.func_wrap(
        MODULE,
        "path_open",
        |_: i32, _: i32, _: i32, _: i32, _: i32, _: i64, _: i64, _: i32, _: i32| ERRNO_NOTCAPABLE,
    )?;
    linker.func_wrap(MODULE, "path_remove_directory", |_: i32, _: i32, _: i32| {
        ERRNO_NOTCAPABLE
    })?;
    linker.func_wrap(
        MODULE,
        "path_rename",
        |_: i32, _: i32, _: i32, _: i32, _: i32, _: i32| ERRNO_NOTCAPABLE,
    )?;
    linker.func_wrap(MODULE, "path_unlink_file", |_: i32, _: i32, _: i32| {
        ERRNO_NOTCAPABLE
    })?;
    linker.func_wrap(MODULE, "sched_yield", || ERRNO_SUCCESS)?;
    linker.func_wrap(MODULE, "proc_exit", |code: i32| -> wasmtime::Result<()> {
        Err(wasmtime::Error::msg(format!(
            "the process called exit({code})"
        )))
    })?;
    Ok(())
}
