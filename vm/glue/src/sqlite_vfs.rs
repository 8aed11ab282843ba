//! SQLite's window on the world, made deterministic: a VFS that opens no files (databases live
//! in memory, in the process's linear memory, so snapshots, rollback and replay cover them),
//! tells the time of the current message, sleeps not at all, and draws "random" bytes from the
//! message's seed. Local time is switched off (`localtime` modifiers fail alike everywhere).
//!
//! In the wasm module SQLite is built with `SQLITE_OS_OTHER`, so it calls our
//! `sqlite3_os_init` to get its only VFS; natively the same VFS is registered as the default
//! next to SQLite's own, which nothing here uses.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};
use std::sync::Once;

use libsqlite3_sys as ffi;

/// Julian day number of the Unix epoch, in milliseconds.
const UNIX_EPOCH_JULIAN_MS: i64 = 210_866_760_000_000;

pub(crate) const VFS_NAME: &std::ffi::CStr = c"aos-memory";

thread_local! {
    /// The seed of the current message, for SQLite's PRNG.
    static SEED: Cell<u64> = const { Cell::new(0) };
    /// Whether SQLite was set up in this state: only then is there a PRNG to reseed.
    static STARTED: Cell<bool> = const { Cell::new(false) };
}

/// Called before each message: SQLite's PRNG restarts from this message's seed when next used.
pub(crate) fn begin_message(seed: u64) {
    SEED.with(|s| s.set(seed));
    if STARTED.with(Cell::get) {
        // SAFETY: (0, null) only resets the PRNG; SQLite is initialised (STARTED).
        unsafe { ffi::sqlite3_randomness(0, std::ptr::null_mut()) };
    }
}

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    _name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    _flags: c_int,
    _out_flags: *mut c_int,
) -> c_int {
    // SAFETY: SQLite passes a buffer of szOsFile bytes; a null pMethods marks "not opened".
    unsafe { (*file).pMethods = std::ptr::null() };
    ffi::SQLITE_CANTOPEN
}

unsafe extern "C" fn x_delete(_: *mut ffi::sqlite3_vfs, _: *const c_char, _: c_int) -> c_int {
    ffi::SQLITE_IOERR_DELETE
}

unsafe extern "C" fn x_access(
    _: *mut ffi::sqlite3_vfs,
    _: *const c_char,
    _: c_int,
    out: *mut c_int,
) -> c_int {
    // SAFETY: SQLite passes a valid out pointer.
    unsafe { *out = 0 };
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_full_pathname(
    _: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    n_out: c_int,
    out: *mut c_char,
) -> c_int {
    // SAFETY: `name` is a NUL-terminated string and `out` holds `n_out` bytes.
    unsafe {
        let len = std::ffi::CStr::from_ptr(name).to_bytes().len();
        if len as c_int >= n_out {
            return ffi::SQLITE_CANTOPEN;
        }
        std::ptr::copy_nonoverlapping(name, out, len + 1);
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_dl_open(_: *mut ffi::sqlite3_vfs, _: *const c_char) -> *mut c_void {
    std::ptr::null_mut()
}

unsafe extern "C" fn x_dl_error(_: *mut ffi::sqlite3_vfs, n: c_int, out: *mut c_char) {
    let text = b"extensions cannot be loaded\0";
    if n > 0 {
        let len = text.len().min(n as usize);
        // SAFETY: `out` holds `n` bytes; the copy ends with a NUL.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr().cast(), out, len);
            *out.add(len - 1) = 0;
        }
    }
}

unsafe extern "C" fn x_dl_close(_: *mut ffi::sqlite3_vfs, _: *mut c_void) {}

/// splitmix64 over the message seed: the bytes SQLite seeds its own PRNG with.
unsafe extern "C" fn x_randomness(_: *mut ffi::sqlite3_vfs, n: c_int, out: *mut c_char) -> c_int {
    let mut state = SEED.with(Cell::get);
    for i in 0..n.max(0) as usize {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // SAFETY: `out` holds `n` bytes.
        unsafe { *out.add(i) = z as u8 as c_char };
    }
    n
}

unsafe extern "C" fn x_sleep(_: *mut ffi::sqlite3_vfs, _: c_int) -> c_int {
    0
}

fn now_julian_ms() -> i64 {
    UNIX_EPOCH_JULIAN_MS + crate::now_ms()
}

unsafe extern "C" fn x_current_time(_: *mut ffi::sqlite3_vfs, out: *mut f64) -> c_int {
    // SAFETY: SQLite passes a valid out pointer.
    unsafe { *out = now_julian_ms() as f64 / 86_400_000.0 };
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_current_time_int64(_: *mut ffi::sqlite3_vfs, out: *mut i64) -> c_int {
    // SAFETY: SQLite passes a valid out pointer.
    unsafe { *out = now_julian_ms() };
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_get_last_error(_: *mut ffi::sqlite3_vfs, _: c_int, _: *mut c_char) -> c_int {
    0
}

fn register_vfs() -> c_int {
    let vfs = Box::leak(Box::new(ffi::sqlite3_vfs {
        iVersion: 2,
        szOsFile: std::mem::size_of::<ffi::sqlite3_file>() as c_int,
        mxPathname: 512,
        pNext: std::ptr::null_mut(),
        zName: VFS_NAME.as_ptr(),
        pAppData: std::ptr::null_mut(),
        xOpen: Some(x_open),
        xDelete: Some(x_delete),
        xAccess: Some(x_access),
        xFullPathname: Some(x_full_pathname),
        xDlOpen: Some(x_dl_open),
        xDlError: Some(x_dl_error),
        xDlSym: None,
        xDlClose: Some(x_dl_close),
        xRandomness: Some(x_randomness),
        xSleep: Some(x_sleep),
        xCurrentTime: Some(x_current_time),
        xGetLastError: Some(x_get_last_error),
        xCurrentTimeInt64: Some(x_current_time_int64),
        xSetSystemCall: None,
        xGetSystemCall: None,
        xNextSystemCall: None,
    }));
    // SAFETY: the VFS is leaked, so it outlives SQLite; 1 makes it the default.
    unsafe { ffi::sqlite3_vfs_register(vfs, 1) }
}

/// SQLite's OS layer in the module (`SQLITE_OS_OTHER`): our VFS is the only one.
#[cfg(target_os = "wasi")]
#[unsafe(no_mangle)]
pub extern "C" fn sqlite3_os_init() -> c_int {
    register_vfs()
}

#[cfg(target_os = "wasi")]
#[unsafe(no_mangle)]
pub extern "C" fn sqlite3_os_end() -> c_int {
    ffi::SQLITE_OK
}

/// Sets SQLite up once: statement journals never spill to files, local time is off, our VFS is
/// the default, and its heap is capped at `heap_limit` bytes.
pub(crate) fn start(heap_limit: i64) -> Result<(), String> {
    static ONCE: Once = Once::new();
    let mut rc = ffi::SQLITE_OK;
    ONCE.call_once(|| {
        // SAFETY: configuration before sqlite3_initialize, as SQLite requires; the variadic
        // arguments have the types each option documents.
        unsafe {
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_STMTJRNL_SPILL, -1 as c_int);
            rc = ffi::sqlite3_initialize();
            if rc == ffi::SQLITE_OK && cfg!(not(target_os = "wasi")) {
                rc = register_vfs();
            }
            ffi::sqlite3_test_control(ffi::SQLITE_TESTCTRL_LOCALTIME_FAULT, 1 as c_int);
        }
    });
    if rc != ffi::SQLITE_OK {
        return Err(format!("SQLite failed to start (code {rc})"));
    }
    // SAFETY: plain setter; SQLite is initialised.
    unsafe { ffi::sqlite3_hard_heap_limit64(heap_limit) };
    STARTED.with(|s| s.set(true));
    Ok(())
}
