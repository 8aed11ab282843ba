//! A disk that stops writing in the middle of a stream: the units answer with errors (no panic,
//! no hang), and once the store is opened again nothing acknowledged is lost and the state equals
//! a clean replay.

use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aos_units::message::{Ed25519Signer, ItemDraft, Signer};
use aos_units::store::{ProcessId, Store};
use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};
use tokio::time::timeout;

use crate::support::{checkpoint_every, eval_item, output, units, units_on, wait_store_released};

/// Plenty for any of the calls below; reaching it means a hang.
const NO_HANG: Duration = Duration::from_secs(30);

/// A file whose writes and syncs fail once `broken` is set, as a full or failing disk does.
#[derive(Debug)]
struct FailingDisk {
    file: FileBackend,
    broken: Arc<AtomicBool>,
}

impl FailingDisk {
    fn open(file: File, broken: Arc<AtomicBool>) -> Self {
        Self {
            file: FileBackend::new(file).unwrap(),
            broken,
        }
    }

    fn writable(&self) -> io::Result<()> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected fault: the disk stopped writing"));
        }
        Ok(())
    }
}

impl StorageBackend for FailingDisk {
    fn len(&self) -> io::Result<u64> {
        self.file.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.file.read(offset, out)
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.writable()?;
        self.file.set_len(len)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.writable()?;
        self.file.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.writable()?;
        self.file.write(offset, data)
    }
    fn close(&self) -> io::Result<()> {
        self.file.close()
    }
    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_range(start, end)
    }
    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }
    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_range(start, end)
    }
    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(start, end)
    }
    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.unlock_range(start, end)
    }
    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.query_lock_range(start, end)
    }
}

fn add(n: u64) -> String {
    format!("N = (N or 0) + {n} return N")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_stops_writing_gives_errors_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.redb");
    let me = Ed25519Signer::from_secret([41; 32]);
    let broken = Arc::new(AtomicBool::new(false));
    let process;
    {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .unwrap();
        let store = Store::open_with_backend(FailingDisk::open(file, broken.clone())).unwrap();
        let u = units_on(store, checkpoint_every(4));
        let spawn = me.sign(ItemDraft::new("").tag("Type", "Process")).unwrap();
        u.su.schedule(&spawn, None).await.unwrap();
        process = ProcessId(spawn.id_bytes());
        // Slots 1–3 computed and stored; 4–6 acknowledged by the scheduler, not computed yet.
        for n in 1..=6 {
            let a =
                u.su.schedule(&eval_item(&me, &process, &add(n)), None)
                    .await
                    .unwrap();
            if n <= 3 {
                let result = u.cu.result(&process, a.slot).await.unwrap();
                assert_eq!(output(&result), (1..=n).sum::<u64>().to_string());
            }
        }

        broken.store(true, Ordering::SeqCst);
        // The rest can be computed but not stored: an error, not a result nobody can read again.
        let computed = timeout(NO_HANG, u.cu.result(&process, 6))
            .await
            .expect("hung");
        let error = computed
            .expect_err("a result that could not be stored")
            .to_string();
        assert!(error.contains("store"), "{error}");
        // A new message cannot be made durable, so it is not acknowledged.
        let refused = timeout(
            NO_HANG,
            u.su.schedule(&eval_item(&me, &process, &add(1000)), None),
        )
        .await
        .expect("hung");
        assert!(refused.is_err(), "{refused:?}");
        // The health check says so.
        let why =
            u.su.writer()
                .failure()
                .expect("a failing store reports its failure");
        assert!(!why.is_empty());
        // Space comes back. Within a few probes the health check tells the truth again: healthy
        // if and only if a write goes through (redb may need a reopen after an I/O error; then
        // the node must say so until it is restarted, not answer 200).
        broken.store(false, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let healthy = u.su.writer().failure().is_none();
        let write = timeout(
            NO_HANG,
            u.su.schedule(&eval_item(&me, &process, &add(2000)), None),
        )
        .await
        .expect("hung");
        assert_eq!(healthy, write.is_ok(), "healthy={healthy}, write={write:?}");
        broken.store(true, Ordering::SeqCst);
        // Shutdown's checkpoint neither hangs nor saves a state over lost results.
        let _ = timeout(NO_HANG, u.cu.checkpoint_all()).await.expect("hung");
    }

    // The disk is back: a node on the same file.
    wait_store_released(&path).await;
    let u = units(dir.path(), checkpoint_every(4));
    let log = u.su.store().log(&process, 0, u64::MAX, usize::MAX).unwrap();
    assert_eq!(
        log.len(),
        7,
        "the spawn and six acknowledged messages, nothing else"
    );
    assert!(log.iter().enumerate().all(|(i, a)| a.slot == i as u64));
    for n in 1..=6 {
        let result = u.cu.result(&process, n).await.unwrap();
        assert_eq!(
            output(&result),
            (1..=n).sum::<u64>().to_string(),
            "slot {n}"
        );
    }
    let next =
        u.su.schedule(&eval_item(&me, &process, "return N"), None)
            .await
            .unwrap();
    assert_eq!(next.slot, 7);
    assert_eq!(output(&u.cu.result(&process, 7).await.unwrap()), "21");
}
