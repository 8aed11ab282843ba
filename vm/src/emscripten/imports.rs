//! The imports an emscripten module of AO's gets from @permaweb/ao-loader's JS glue, as host
//! functions: each one deterministic. Time stands at the epoch, the file system is empty, stdout
//! is swallowed, the heap grows only within the memory ceiling, and `longjmp` unwinds to the
//! nearest `invoke_*` exactly as the JS `throw`/`catch` pair does.
//!
//! Every function takes its arguments as integers of either width, so one definition serves
//! wasm32 and wasm64 modules alike (pointers are i32 in one, i64 in the other).

use wasmtime::{Caller, Extern, FuncType, Linker, Memory, Val, ValType};

use crate::error::VmError;
use crate::host::HostState;

/// What a `longjmp` (or an `abort` from C++ unwinding) throws through wasm frames; the nearest
/// `invoke_*` catches it.
#[derive(Debug)]
pub(crate) struct Unwind;

impl std::fmt::Display for Unwind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("longjmp with no setjmp to catch it")
    }
}

impl std::error::Error for Unwind {}

/// A failure the module asked for (`abort`, `exit`, a failed `assert`, an unsupported feature).
#[derive(Debug)]
pub(crate) struct Abort(pub(crate) String);

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Abort {}

#[derive(Debug, Clone, Copy)]
enum Import {
    /// `invoke_<sig>(index, args…)`: call table entry `index`, catching an [`Unwind`].
    Invoke,
    ThrowLongjmp,
    Abort(&'static str),
    GetTempRet0,
    SetTempRet0,
    /// Answers this integer (or float) and does nothing else.
    Constant(i64),
    /// `time(ptr)`: 0, also stored at `ptr` when it is not null.
    Time,
    /// `clock_time_get(id, precision, out)` (WASI): 0 at `out`.
    ClockTimeGet,
    /// `__clock_gettime(id, timespec)`: tv_sec = 0.
    ClockGettime,
    Difftime,
    MemcpyBig,
    ResizeHeap,
    HeapMax,
    FdWrite,
    EnvironSizesGet,
    System,
    Tzset,
    /// `_gmtime_js`/`_localtime_js`: UTC broken-down time into a `struct tm`.
    Gmtime,
    /// `_mktime_js`/`_timegm_js`: seconds from a `struct tm` read as UTC.
    Timegm,
    GasUsed,
}

fn classify(module: &str, name: &str) -> Option<Import> {
    use Import::*;
    if module != "env" && module != "wasi_snapshot_preview1" {
        return None;
    }
    if name.starts_with("invoke_") {
        return Some(Invoke);
    }
    if name.starts_with("__syscall_") {
        // ENOSYS: there is no file system, network or process table.
        return Some(Constant(-52));
    }
    Some(match name {
        "_emscripten_throw_longjmp" | "emscripten_longjmp" => ThrowLongjmp,
        "abort" | "_abort_js" => Abort("the process aborted"),
        "__assert_fail" => Abort("an assertion failed in the process"),
        "exit" | "proc_exit" => Abort("the process called exit"),
        "__cxa_throw" => Abort("C++ exceptions are not supported"),
        "__asyncjs__weavedrive_open"
        | "__asyncjs__weavedrive_read"
        | "__asyncjs__weavedrive_close" => {
            Abort("WeaveDrive (reading Arweave data from a process) is not available here")
        }
        "getTempRet0" => GetTempRet0,
        "setTempRet0" => SetTempRet0,
        "time" => Time,
        "clock_time_get" => ClockTimeGet,
        "__clock_gettime" | "clock_gettime" => ClockGettime,
        "clock"
        | "emscripten_date_now"
        | "emscripten_get_now"
        | "_emscripten_get_now_is_monotonic" => Constant(0),
        "difftime" => Difftime,
        "emscripten_memcpy_big" | "_emscripten_memcpy_js" | "emscripten_memcpy_js" => MemcpyBig,
        "emscripten_resize_heap" => ResizeHeap,
        "emscripten_get_heap_max" => HeapMax,
        "emscripten_notify_memory_growth"
        | "emscripten_err"
        | "emscripten_console_log"
        | "emscripten_console_warn"
        | "emscripten_console_error" => Constant(0),
        "fd_write" => FdWrite,
        // EBADF: no descriptor is open for reading, seeking or closing.
        "fd_read" | "fd_close" | "fd_seek" | "fd_sync" | "fd_fdstat_get" | "fd_pread"
        | "fd_pwrite" => Constant(8),
        "environ_sizes_get" | "args_sizes_get" => EnvironSizesGet,
        "environ_get" | "args_get" => Constant(0),
        "random_get" => {
            Abort("the process asked for OS randomness, which AO processes do not have")
        }
        "system" | "_emscripten_system" => System,
        "_tzset_js" => Tzset,
        "_gmtime_js" | "_localtime_js" => Gmtime,
        "_mktime_js" | "_timegm_js" => Timegm,
        "strftime" | "strftime_l" => Constant(0),
        "metering_gasUsed" => GasUsed,
        _ => return None,
    })
}

/// A linker with every import `module` names, or the first one this runtime cannot provide.
pub(crate) fn linker(
    engine: &wasmtime::Engine,
    module: &wasmtime::Module,
) -> Result<Linker<HostState>, VmError> {
    let mut linker = Linker::new(engine);
    for import in module.imports() {
        let unknown = || VmError::UnknownImport(format!("{}::{}", import.module(), import.name()));
        let Some(kind) = classify(import.module(), import.name()) else {
            return Err(unknown());
        };
        let Some(ty) = import.ty().func().cloned() else {
            return Err(unknown());
        };
        let results: Vec<ValType> = ty.results().collect();
        define(
            &mut linker,
            import.module(),
            import.name(),
            ty,
            kind,
            results,
        )?;
    }
    Ok(linker)
}

fn define(
    linker: &mut Linker<HostState>,
    module: &str,
    name: &str,
    ty: FuncType,
    kind: Import,
    results: Vec<ValType>,
) -> Result<(), VmError> {
    linker.func_new(module, name, ty, move |mut caller, params, out| {
        let answer = call(&mut caller, kind, params, out, results.first())?;
        if let (Some(answer), Some(slot), Some(ty)) = (answer, out.first_mut(), results.first()) {
            *slot = typed(ty, answer);
        }
        Ok(())
    })?;
    Ok(())
}

/// An integer answer in the import's result type.
fn typed(ty: &ValType, value: i64) -> Val {
    match ty {
        ValType::I64 => Val::I64(value),
        ValType::F64 => Val::F64((value as f64).to_bits()),
        ValType::F32 => Val::F32((value as f32).to_bits()),
        _ => Val::I32(value as i32),
    }
}

fn zero(ty: &ValType) -> Val {
    typed(ty, 0)
}

/// An argument as an unsigned integer, whatever its width (pointers, sizes, descriptors).
fn arg(params: &[Val], i: usize) -> u64 {
    match params.get(i) {
        Some(Val::I32(x)) => *x as u32 as u64,
        Some(Val::I64(x)) => *x as u64,
        Some(Val::F64(bits)) => f64::from_bits(*bits) as i64 as u64,
        Some(Val::F32(bits)) => f32::from_bits(*bits) as i64 as u64,
        _ => 0,
    }
}

/// A signed argument (an i32 is sign-extended).
fn signed(params: &[Val], i: usize) -> i64 {
    match params.get(i) {
        Some(Val::I32(x)) => *x as i64,
        _ => arg(params, i) as i64,
    }
}

fn is_wide(params: &[Val], i: usize) -> bool {
    matches!(params.get(i), Some(Val::I64(_)))
}

fn memory(caller: &mut Caller<'_, HostState>) -> wasmtime::Result<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => Err(wasmtime::Error::msg("the module exports no memory")),
    }
}

fn write(caller: &mut Caller<'_, HostState>, ptr: u64, bytes: &[u8]) -> wasmtime::Result<()> {
    let memory = memory(caller)?;
    memory.write(caller, ptr as usize, bytes)?;
    Ok(())
}

fn read_i32(caller: &mut Caller<'_, HostState>, ptr: u64) -> wasmtime::Result<i32> {
    let memory = memory(caller)?;
    let mut buf = [0u8; 4];
    memory.read(&*caller, ptr as usize, &mut buf)?;
    Ok(i32::from_le_bytes(buf))
}

fn export_func(caller: &mut Caller<'_, HostState>, name: &str) -> Option<wasmtime::Func> {
    caller.get_export(name).and_then(Extern::into_func)
}

fn call(
    caller: &mut Caller<'_, HostState>,
    kind: Import,
    params: &[Val],
    out: &mut [Val],
    result: Option<&ValType>,
) -> wasmtime::Result<Option<i64>> {
    Ok(match kind {
        Import::Invoke => {
            invoke(caller, params, out)?;
            None
        }
        Import::ThrowLongjmp => return Err(wasmtime::Error::new(Unwind)),
        Import::Abort(why) => return Err(wasmtime::Error::new(Abort(why.to_owned()))),
        Import::GetTempRet0 => Some(caller.data().temp_ret0 as i64),
        Import::SetTempRet0 => {
            caller.data_mut().temp_ret0 = signed(params, 0) as i32;
            None
        }
        Import::Constant(c) => Some(c),
        Import::Time => {
            let ptr = arg(params, 0);
            if ptr != 0 {
                let width = if matches!(result, Some(ValType::I64)) {
                    8
                } else {
                    4
                };
                write(caller, ptr, &[0u8; 8][..width])?;
            }
            Some(0)
        }
        Import::ClockTimeGet => {
            write(caller, arg(params, 2), &0u64.to_le_bytes())?;
            Some(0)
        }
        Import::ClockGettime => {
            // tv_sec is 8 bytes on current emscripten and 4 on old ones; writing 4 zero bytes
            // zeroes the low half either way and never writes past a 32-bit field.
            write(caller, arg(params, 1), &0u32.to_le_bytes())?;
            Some(0)
        }
        Import::Difftime => Some(signed(params, 0) - signed(params, 1)),
        Import::MemcpyBig => {
            let (dest, src, len) = (
                arg(params, 0) as usize,
                arg(params, 1) as usize,
                arg(params, 2) as usize,
            );
            let memory = memory(caller)?;
            let data = memory.data_mut(&mut *caller);
            let fits = |at: usize| at.checked_add(len).is_some_and(|end| end <= data.len());
            if !fits(dest) || !fits(src) {
                return Err(wasmtime::Error::msg("memcpy outside memory"));
            }
            data.copy_within(src..src + len, dest);
            Some(dest as i64)
        }
        Import::ResizeHeap => Some(resize_heap(caller, arg(params, 0)) as i64),
        Import::HeapMax => Some(caller.data().memory_limit as i64),
        Import::FdWrite => {
            // stdout and stderr are swallowed (the JS loader mutes console.log too); report all
            // bytes written so writers do not loop.
            let (fd, iovs, count, written) = (
                arg(params, 0),
                arg(params, 1),
                arg(params, 2),
                arg(params, 3),
            );
            if fd != 1 && fd != 2 {
                return Ok(Some(8));
            }
            let wide = is_wide(params, 1);
            let (stride, len_at) = if wide { (16, 8) } else { (8, 4) };
            let mut total: u64 = 0;
            for i in 0..count {
                total += read_i32(caller, iovs + i * stride + len_at)? as u32 as u64;
            }
            let bytes = total.to_le_bytes();
            write(caller, written, &bytes[..if wide { 8 } else { 4 }])?;
            Some(0)
        }
        Import::EnvironSizesGet => {
            let width = if is_wide(params, 0) { 8 } else { 4 };
            write(caller, arg(params, 0), &[0u8; 8][..width])?;
            write(caller, arg(params, 1), &[0u8; 8][..width])?;
            Some(0)
        }
        Import::System => Some(if arg(params, 0) == 0 { 0 } else { -1 }),
        Import::Tzset => {
            // UTC everywhere: no offset, no daylight saving.
            let width = if is_wide(params, 0) { 8 } else { 4 };
            write(caller, arg(params, 0), &[0u8; 8][..width])?;
            write(caller, arg(params, 1), &0u32.to_le_bytes())?;
            if params.len() == 4 {
                write(caller, arg(params, 2), b"UTC\0")?;
                write(caller, arg(params, 3), b"UTC\0")?;
            }
            None
        }
        Import::Gmtime => {
            // Current emscripten passes the time itself (i64); older wasm32 ones a pointer to it.
            let seconds = if is_wide(params, 0) {
                signed(params, 0)
            } else {
                read_i32(caller, arg(params, 0))? as i64
            };
            write(caller, arg(params, 1), &broken_down(seconds))?;
            None
        }
        Import::Timegm => {
            let tm = arg(params, 0);
            let mut f = [0i64; 6];
            for (i, field) in f.iter_mut().enumerate() {
                *field = read_i32(caller, tm + 4 * i as u64)? as i64;
            }
            let [sec, min, hour, mday, mon, year] = f;
            let (year, mon) = (1900 + year + mon.div_euclid(12), mon.rem_euclid(12));
            let days = days_from_civil(year, mon + 1, 1) + mday - 1;
            Some(days * 86_400 + hour * 3600 + min * 60 + sec)
        }
        Import::GasUsed => {
            let left = caller.get_fuel().unwrap_or(0);
            Some(caller.data().fuel_start().saturating_sub(left) as i64)
        }
    })
}

/// `invoke_*`: the JS glue's `try { table[index](args) } catch { stackRestore(sp); setThrew(1, 0) }`.
fn invoke(
    caller: &mut Caller<'_, HostState>,
    params: &[Val],
    out: &mut [Val],
) -> wasmtime::Result<()> {
    let index = arg(params, 0);
    let table = caller
        .get_export("__indirect_function_table")
        .and_then(Extern::into_table)
        .ok_or_else(|| wasmtime::Error::msg("the module exports no function table"))?;
    let func = table
        .get(&mut *caller, index)
        .and_then(|r| r.as_func().flatten().copied())
        .ok_or_else(|| wasmtime::Error::msg(format!("invoke of an empty table slot {index}")))?;
    let save = export_func(caller, "stackSave")
        .or_else(|| export_func(caller, "emscripten_stack_get_current"));
    let restore = export_func(caller, "stackRestore")
        .or_else(|| export_func(caller, "_emscripten_stack_restore"));
    let set_threw = export_func(caller, "setThrew");
    let (Some(save), Some(restore), Some(set_threw)) = (save, restore, set_threw) else {
        return Err(wasmtime::Error::msg(
            "the module lacks stackSave/stackRestore/setThrew",
        ));
    };
    let mut sp = [Val::I32(0)];
    let sp_ty = save.ty(&*caller).results().next().unwrap_or(ValType::I32);
    sp[0] = zero(&sp_ty);
    save.call(&mut *caller, &[], &mut sp)?;
    match func.call(&mut *caller, &params[1..], out) {
        Ok(()) => Ok(()),
        Err(e) if e.downcast_ref::<Unwind>().is_some() => {
            restore.call(&mut *caller, &sp, &mut [])?;
            let threw_ty: Vec<ValType> = set_threw.ty(&*caller).params().collect();
            let args: Vec<Val> = threw_ty
                .iter()
                .enumerate()
                .map(|(i, t)| typed(t, (i == 0) as i64))
                .collect();
            set_threw.call(&mut *caller, &args, &mut [])?;
            let result_types: Vec<ValType> = func.ty(&*caller).results().collect();
            for (slot, ty) in out.iter_mut().zip(&result_types) {
                *slot = zero(ty);
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Grows memory to at least `requested` bytes, within the store's ceiling: 1 on success.
fn resize_heap(caller: &mut Caller<'_, HostState>, requested: u64) -> i32 {
    let Ok(memory) = memory(caller) else { return 0 };
    let current = memory.data_size(&*caller) as u64;
    if requested <= current {
        return 1;
    }
    let pages = (requested - current).div_ceil(65536);
    memory.grow(&mut *caller, pages).is_ok() as i32
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The first nine `int` fields of a `struct tm` for `seconds` since the epoch, in UTC.
fn broken_down(seconds: i64) -> [u8; 36] {
    let days = seconds.div_euclid(86_400);
    let rem = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let mday = doy - (153 * mp + 2) / 5 + 1;
    let mon = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (mon <= 2) as i64;
    let yday = days - days_from_civil(year, 1, 1);
    let wday = (days + 4).rem_euclid(7);
    let fields = [
        rem % 60,
        rem / 60 % 60,
        rem / 3600,
        mday,
        mon - 1,
        year - 1900,
        wday,
        yday,
        0,
    ];
    let mut out = [0u8; 36];
    for (chunk, value) in out.chunks_mut(4).zip(fields) {
        chunk.copy_from_slice(&(value as i32).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        // 2024-02-29 12:34:56 UTC, a Thursday, day 59 of its year.
        let t = 1_709_210_096;
        let tm = broken_down(t);
        let field = |i: usize| i32::from_le_bytes(tm[4 * i..4 * i + 4].try_into().unwrap());
        assert_eq!((field(0), field(1), field(2)), (56, 34, 12));
        assert_eq!((field(3), field(4), field(5)), (29, 1, 124));
        assert_eq!((field(6), field(7)), (4, 59));
        assert_eq!(
            days_from_civil(2024, 2, 29) * 86_400 + 12 * 3600 + 34 * 60 + 56,
            t
        );
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }
}
