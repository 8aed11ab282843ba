//! Transparent huge pages for big linear memories (Linux). A restore writes every non-zero page
//! of a process's memory at once, and a big Lua heap touches pages all over; with 4 KiB pages a
//! 100 MB memory costs 25,600 page faults on restore and many TLB misses while it runs. Marked
//! `MADV_HUGEPAGE`, the kernel backs it with 2 MiB pages where it can (THP in `madvise` mode,
//! the common default). Only how memory is mapped changes, never what a process sees.

/// Advises huge pages for the reserved range of a wasm32 linear memory at `base` of up to
/// `limit` bytes. Best effort: an error (no THP, an unmapped range) changes nothing.
#[cfg(target_os = "linux")]
pub(crate) fn advise_huge(base: *mut u8, limit: u64) {
    const HUGE: usize = 2 << 20;
    // Only whole 2 MiB pages inside the reservation can be huge; smaller memories gain nothing.
    let start = (base as usize).next_multiple_of(HUGE);
    // A wasm32 memory never exceeds 4 GiB, and wasmtime reserves that much for it: the range
    // stays inside this memory's own reservation.
    let limit = limit.min(4 << 30) as usize;
    let end = (base as usize).saturating_add(limit) & !(HUGE - 1);
    if end <= start {
        return;
    }
    // SAFETY: madvise(MADV_HUGEPAGE) only sets a flag on the mapping of this range (wasmtime's
    // reservation for this memory, at least `limit` bytes long); it never changes contents or
    // protection, and a failure is harmless.
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn advise_huge(_base: *mut u8, _limit: u64) {}
