//! Which pages of a linear memory were written since the last look, told by the kernel
//! (Linux ≥ 6.7: userfaultfd write-protection in async mode, read with the `PAGEMAP_SCAN`
//! ioctl). A dry-run scratch is refreshed from its process by copying the pages either side
//! wrote instead of comparing both memories whole, which cost ~75 µs at 1.5 MB and grows with
//! the heap.
//!
//! How it works: the memory's range is registered for write-protection with an async
//! userfaultfd, so the kernel resolves a write to a protected page itself (no handler thread,
//! no signal) and the page stays unprotected. A scan lists the unprotected pages ("written")
//! and protects them again in the same walk. A page never protected (memory grown since the
//! last scan) also counts as written: the answer can be too large, never too small.
//!
//! Where the kernel lacks it (older kernels, other systems, a sandbox that refuses
//! `userfaultfd`), [`WriteTracker::new`] gives `None` and callers compare memories as before.
//! Only which pages are copied depends on it, never what a process sees.

#[cfg(target_os = "linux")]
mod linux {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    const PAGE: usize = 4096;
    const UFFD_USER_MODE_ONLY: libc::c_int = 1;
    const UFFD_API: u64 = 0xAA;
    const UFFD_FEATURE_WP_UNPOPULATED: u64 = 1 << 13;
    const UFFD_FEATURE_WP_ASYNC: u64 = 1 << 15;
    const UFFDIO_API: libc::c_ulong = 0xC018_AA3F;
    const UFFDIO_REGISTER: libc::c_ulong = 0xC020_AA00;
    const UFFDIO_REGISTER_MODE_WP: u64 = 1 << 1;
    const PAGEMAP_SCAN: libc::c_ulong = 0xC060_6610;
    const PM_SCAN_WP_MATCHING: u64 = 1 << 0;
    const PM_SCAN_CHECK_WPASYNC: u64 = 1 << 1;
    const PAGE_IS_WRITTEN: u64 = 1 << 1;

    #[repr(C)]
    struct UffdioApi {
        api: u64,
        features: u64,
        ioctls: u64,
    }

    #[repr(C)]
    struct UffdioRegister {
        start: u64,
        len: u64,
        mode: u64,
        ioctls: u64,
    }

    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct PageRegion {
        start: u64,
        end: u64,
        categories: u64,
    }

    #[repr(C)]
    struct PmScanArg {
        size: u64,
        flags: u64,
        start: u64,
        end: u64,
        walk_end: u64,
        vec: u64,
        vec_len: u64,
        max_pages: u64,
        category_inverted: u64,
        category_mask: u64,
        category_anyof_mask: u64,
        return_mask: u64,
    }

    static NEXT_ID: AtomicU64 = AtomicU64::new(1);

    /// One userfaultfd and one pagemap descriptor for all trackers (a userfaultfd registers
    /// any number of ranges): a node with hundreds of hot processes must not spend a
    /// descriptor limit of 1,024 on them. `None` where the kernel cannot track.
    fn descriptors() -> Option<&'static (OwnedFd, OwnedFd)> {
        static SHARED: OnceLock<Option<(OwnedFd, OwnedFd)>> = OnceLock::new();
        SHARED.get_or_init(open_descriptors).as_ref()
    }

    fn open_descriptors() -> Option<(OwnedFd, OwnedFd)> {
        // SAFETY: the userfaultfd syscall takes flags only; a negative result is an error.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_userfaultfd,
                libc::O_CLOEXEC | libc::O_NONBLOCK | UFFD_USER_MODE_ONLY,
            )
        };
        if fd < 0 {
            return None;
        }
        // SAFETY: a fresh descriptor this function owns from here on.
        let uffd = unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) };
        let wanted = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
        let mut api = UffdioApi {
            api: UFFD_API,
            features: wanted,
            ioctls: 0,
        };
        // SAFETY: UFFDIO_API reads and writes a `struct uffdio_api`, which `api` is.
        if unsafe { libc::ioctl(uffd.as_raw_fd(), UFFDIO_API, &mut api) } != 0
            || api.features & wanted != wanted
        {
            return None;
        }
        // SAFETY: a path and flags; a negative result is an error.
        let pm = unsafe {
            libc::open(
                c"/proc/self/pagemap".as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            )
        };
        if pm < 0 {
            return None;
        }
        // SAFETY: a fresh descriptor this function owns from here on.
        Some((uffd, unsafe { OwnedFd::from_raw_fd(pm) }))
    }

    /// Write tracking of one linear memory, from its base up to `limit` bytes. The range
    /// stays registered until it is unmapped (with its memory).
    pub(crate) struct WriteTracker {
        base: usize,
        limit: usize,
        id: u64,
        scans: u64,
        regions: Vec<PageRegion>,
    }

    impl std::fmt::Debug for WriteTracker {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("WriteTracker")
                .field("id", &self.id)
                .field("scans", &self.scans)
                .finish()
        }
    }

    impl WriteTracker {
        /// Tracks writes to `[base, base + limit)`, a range the caller owns for as long as the
        /// tracker lives (a linear memory's reservation). `None` where the kernel cannot.
        pub(crate) fn new(base: *mut u8, limit: usize) -> Option<Self> {
            if !(base as usize).is_multiple_of(PAGE) || limit == 0 || !limit.is_multiple_of(PAGE) {
                return None;
            }
            let (uffd, _) = descriptors()?;
            let mut register = UffdioRegister {
                start: base as u64,
                len: limit as u64,
                mode: UFFDIO_REGISTER_MODE_WP,
                ioctls: 0,
            };
            // SAFETY: UFFDIO_REGISTER reads and writes a `struct uffdio_register`; the range is
            // the caller's mapping. Registering changes no contents or access rights.
            if unsafe { libc::ioctl(uffd.as_raw_fd(), UFFDIO_REGISTER, &mut register) } != 0 {
                return None;
            }
            Some(Self {
                base: base as usize,
                limit,
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                scans: 0,
                regions: vec![PageRegion::default(); 256],
            })
        }

        /// Which tracker (unique in this process's run) and how many scans it has made: a
        /// consumer that saw the last scan knows every write since.
        pub(crate) fn mark(&self) -> (u64, u64) {
            (self.id, self.scans)
        }

        pub(crate) fn base(&self) -> usize {
            self.base
        }

        /// Calls `written(first_page, end_page)` (page indices from the base, 4 KiB pages) for
        /// each run of unprotected pages in the first `len` bytes: those written since the
        /// last protecting scan, and any never protected. With `protect` they are protected
        /// again, so the next scan lists only later writes; that costs a TLB flush on every
        /// CPU running this process (an IPI each, a VM exit on a virtual machine) and a fault
        /// at the next write of each page, so memory rewritten every time is cheaper left
        /// unprotected and listed again. `Err`: the kernel refused; the caller must treat
        /// everything as written.
        pub(crate) fn scan(
            &mut self,
            len: usize,
            protect: bool,
            mut written: impl FnMut(usize, usize),
        ) -> Result<(), ()> {
            if protect {
                self.scans += 1;
            }
            let len = len.min(self.limit);
            let end = (self.base + len) as u64;
            let mut start = self.base as u64;
            while start < end {
                let mut arg = PmScanArg {
                    size: std::mem::size_of::<PmScanArg>() as u64,
                    flags: if protect {
                        PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC
                    } else {
                        PM_SCAN_CHECK_WPASYNC
                    },
                    start,
                    end,
                    walk_end: 0,
                    vec: self.regions.as_mut_ptr() as u64,
                    vec_len: self.regions.len() as u64,
                    max_pages: 0,
                    category_inverted: 0,
                    category_mask: PAGE_IS_WRITTEN,
                    category_anyof_mask: 0,
                    return_mask: PAGE_IS_WRITTEN,
                };
                let Some((_, pagemap)) = descriptors() else {
                    return Err(());
                };
                // SAFETY: PAGEMAP_SCAN reads `arg` and writes at most `vec_len` regions into
                // `self.regions`, which has that many; it walks this process's own mappings
                // in the range given, the caller's memory, and only changes their
                // write-protection, which this tracker owns.
                let found = unsafe { libc::ioctl(pagemap.as_raw_fd(), PAGEMAP_SCAN, &mut arg) };
                if found < 0 {
                    return Err(());
                }
                for region in &self.regions[..found as usize] {
                    written(
                        (region.start as usize - self.base) / PAGE,
                        (region.end as usize - self.base) / PAGE,
                    );
                }
                if arg.walk_end <= start {
                    return Err(());
                }
                start = arg.walk_end;
            }
            Ok(())
        }
    }
}

#[cfg(target_os = "linux")]
pub(crate) use linux::WriteTracker;

#[cfg(not(target_os = "linux"))]
#[derive(Debug)]
pub(crate) struct WriteTracker;

#[cfg(not(target_os = "linux"))]
impl WriteTracker {
    pub(crate) fn new(_base: *mut u8, _limit: usize) -> Option<Self> {
        None
    }
    pub(crate) fn mark(&self) -> (u64, u64) {
        (0, 0)
    }
    pub(crate) fn base(&self) -> usize {
        0
    }
    pub(crate) fn scan(
        &mut self,
        _len: usize,
        _protect: bool,
        _written: impl FnMut(usize, usize),
    ) -> Result<(), ()> {
        Err(())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::WriteTracker;

    const PAGE: usize = 4096;

    pub(super) struct Mapping(pub(super) *mut u8, usize);

    impl Mapping {
        pub(super) fn new(reserve: usize, accessible: usize) -> Self {
            // SAFETY: a fresh private anonymous mapping, unmapped on drop.
            unsafe {
                let p = libc::mmap(
                    std::ptr::null_mut(),
                    reserve,
                    libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                );
                assert_ne!(p, libc::MAP_FAILED);
                assert_eq!(
                    libc::mprotect(p, accessible, libc::PROT_READ | libc::PROT_WRITE),
                    0
                );
                Self(p.cast(), reserve)
            }
        }
        fn grow(&self, to: usize) {
            // SAFETY: inside this mapping.
            unsafe {
                assert_eq!(
                    libc::mprotect(self.0.cast(), to, libc::PROT_READ | libc::PROT_WRITE),
                    0
                );
            }
        }
        pub(super) fn write(&self, page: usize) {
            // SAFETY: callers write accessible pages only.
            unsafe { *self.0.add(page * PAGE + 17) = 1 + *self.0.add(page * PAGE + 17) };
        }
    }

    impl Drop for Mapping {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `new`.
            unsafe { libc::munmap(self.0.cast(), self.1) };
        }
    }

    fn written(t: &mut WriteTracker, len: usize) -> Vec<usize> {
        let mut pages = Vec::new();
        t.scan(len, true, |a, b| pages.extend(a..b)).unwrap();
        pages
    }

    #[test]
    fn a_scan_lists_the_pages_written_since_the_last_one_and_grown_pages_count_as_written() {
        let m = Mapping::new(64 << 20, 1 << 20);
        // Some pages present before tracking starts, some never touched.
        for page in 0..64 {
            m.write(page);
        }
        let Some(mut t) = WriteTracker::new(m.0, 16 << 20) else {
            eprintln!("no async userfaultfd write-protection here: callers compare memories");
            return;
        };
        // Nothing was protected yet: everything counts as written, once.
        assert_eq!(written(&mut t, 1 << 20).len(), 256);
        assert!(written(&mut t, 1 << 20).is_empty());
        for page in [3, 4, 5, 100, 255] {
            m.write(page);
        }
        m.write(100);
        assert_eq!(written(&mut t, 1 << 20), vec![3, 4, 5, 100, 255]);
        assert!(written(&mut t, 1 << 20).is_empty());
        // Grown memory was never protected: all of it is listed, written or not.
        m.grow(2 << 20);
        m.write(300);
        let grown = written(&mut t, 2 << 20);
        assert_eq!(grown, (256..512).collect::<Vec<_>>());
        m.write(7);
        m.write(400);
        assert_eq!(written(&mut t, 2 << 20), vec![7, 400]);
        let (id, scans) = t.mark();
        assert!(id > 0 && scans == 6, "{id} {scans}");
    }

    #[test]
    fn a_scan_with_more_runs_than_its_buffer_lists_them_all() {
        let m = Mapping::new(16 << 20, 8 << 20);
        let Some(mut t) = WriteTracker::new(m.0, 8 << 20) else {
            return;
        };
        written(&mut t, 8 << 20);
        // Every other page: 1,024 separate runs, more than one ioctl's buffer holds.
        let pages: Vec<usize> = (0..2048).step_by(2).collect();
        for &page in &pages {
            m.write(page);
        }
        assert_eq!(written(&mut t, 8 << 20), pages);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod report_only {
    use super::WriteTracker;
    use super::tests::Mapping;

    fn listed(t: &mut WriteTracker, protect: bool) -> Vec<usize> {
        let mut pages = Vec::new();
        t.scan(1 << 20, protect, |a, b| pages.extend(a..b)).unwrap();
        pages
    }

    #[test]
    fn a_scan_that_does_not_protect_lists_the_same_pages_until_one_does() {
        let m = Mapping::new(4 << 20, 1 << 20);
        let Some(mut t) = WriteTracker::new(m.0, 1 << 20) else {
            return;
        };
        listed(&mut t, true);
        let before = t.mark();
        m.write(9);
        m.write(10);
        assert_eq!(listed(&mut t, false), vec![9, 10]);
        m.write(40);
        assert_eq!(listed(&mut t, false), vec![9, 10, 40]);
        // Only protecting scans count: a consumer that saw `before` has missed nothing.
        assert_eq!(t.mark(), before);
        assert_eq!(listed(&mut t, true), vec![9, 10, 40]);
        assert!(listed(&mut t, false).is_empty());
    }
}
