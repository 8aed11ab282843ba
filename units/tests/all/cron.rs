//! Cron: ticks fall on the spawn's schedule, interleave with log messages by timestamp, and a
//! replay (from slot 0 or from a checkpoint) reaches the same state.

use aos_units::cu::{ComputeUnit, CuConfig, Order};
use aos_units::message::{Ed25519Signer, ItemDraft, Signer};
use aos_units::store::ProcessId;
use aos_units::su::{ScheduleError, Scheduler};

use crate::support::{Units, eval_item as eval, output, units, wait_store_released};

const TICK_HANDLER: &str = r#"
Ticks = Ticks or {}
Handlers.add("tick", Handlers.utils.hasMatchingTag("Action", "Cron"), function(msg)
  table.insert(Ticks, msg.Timestamp)
  print("tick " .. #Ticks)
end)
return "ok"
"#;

async fn spawn_cron(su: &Scheduler, me: &Ed25519Signer, interval: &str) -> (ProcessId, u64) {
    let spawn = me
        .sign(
            ItemDraft::new("")
                .tag("Type", "Process")
                .tag("Cron-Interval", interval)
                .tag("Cron-Tag-Action", "Cron"),
        )
        .unwrap();
    let a = su.schedule(&spawn, None).await.unwrap();
    (ProcessId(spawn.id_bytes()), a.timestamp)
}

async fn memory_hash(cu: &ComputeUnit, process: &ProcessId) -> String {
    let bytes = cu.state(process).await.unwrap();
    aos_vm::Snapshot::from_bytes(&bytes).unwrap().memory_hash()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticks_run_on_the_schedule_before_later_messages() {
    let dir = tempfile::tempdir().unwrap();
    let me = Ed25519Signer::from_secret([41; 32]);
    let Units { su, cu } = units(dir.path(), CuConfig::default());
    // The node's minimum interval (one second) sets the pace of these tests.
    let (process, start) = spawn_cron(&su, &me, "1-second").await;
    let a = su
        .schedule(&eval(&me, &process, TICK_HANDLER), None)
        .await
        .unwrap();
    cu.result(&process, a.slot).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2_300)).await;
    let read = eval(
        &me,
        &process,
        "local t = {} for _, ts in ipairs(Ticks) do t[#t + 1] = tostring(ts) end return table.concat(t, ',')",
    );
    let a = su.schedule(&read, None).await.unwrap();
    let result = cu.result(&process, a.slot).await.unwrap();
    let ticks: Vec<u64> = output(&result)
        .split(',')
        .map(|t| t.parse().unwrap())
        .collect();
    // The ticks after the handler was loaded, each on the schedule, all before the reading message.
    assert!(ticks.len() >= 2, "ticks: {ticks:?}");
    for pair in ticks.windows(2) {
        assert_eq!(pair[1] - pair[0], 1_000);
    }
    assert_eq!((ticks[0] - start) % 1_000, 0);
    assert!(*ticks.last().unwrap() <= a.timestamp);
    assert!(a.timestamp - ticks.last().unwrap() < 1_000);

    // Every tick's result is kept, handled or not (ticks before the handler print nothing).
    let stored = cu
        .cron_results(&process, 0, u64::MAX, 1000, Order::Ascending)
        .await
        .unwrap();
    let expected = (a.timestamp - start) / 1_000;
    assert_eq!(stored.len() as u64, expected);
    assert_eq!(stored.last().unwrap().0, *ticks.last().unwrap());
    assert_eq!(
        output(&stored.last().unwrap().1),
        format!("tick {}", ticks.len())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticks_after_the_last_message_wait_for_the_fence_and_replay_alike() {
    let dir = tempfile::tempdir().unwrap();
    let me = Ed25519Signer::from_secret([42; 32]);
    let path = dir.path().join("node.redb");
    let (process, hash) = {
        let Units { su, cu } = units(dir.path(), CuConfig::default());
        let (process, _) = spawn_cron(&su, &me, "1-second").await;
        let a = su
            .schedule(&eval(&me, &process, TICK_HANDLER), None)
            .await
            .unwrap();
        cu.result(&process, a.slot).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(2_300)).await;
        // Without a fence nothing runs: a message could still come before the due ticks.
        assert!(
            cu.cron_results(&process, 0, u64::MAX, 1000, Order::Ascending)
                .await
                .unwrap()
                .is_empty()
        );
        let fence = su.advance(process).await.unwrap();
        let next = cu.run_cron(&process, fence - 1).await.unwrap().unwrap();
        assert!(next >= fence && next - fence <= 1_000);
        let ticks = cu
            .cron_results(&process, 0, u64::MAX, 1000, Order::Ascending)
            .await
            .unwrap();
        assert!(ticks.len() >= 2, "{} ticks", ticks.len());
        assert!(ticks.iter().all(|(at, _)| *at < fence));
        // A message placed after the fence is timestamped at or after it.
        let later = su
            .schedule(&eval(&me, &process, "return #Ticks"), None)
            .await
            .unwrap();
        assert!(later.timestamp >= fence);
        let result = cu.result(&process, later.slot).await.unwrap();
        let count: usize = output(&result).parse().unwrap();
        assert!(count >= ticks.len());
        cu.checkpoint_all().await.unwrap();
        (process, memory_hash(&cu, &process).await)
    };
    wait_store_released(&path).await;
    // From slot 0: the same ticks fall between the same messages.
    {
        let Units { cu, .. } = units(
            dir.path(),
            CuConfig {
                ignore_checkpoints: true,
                ..CuConfig::default()
            },
        );
        assert_eq!(memory_hash(&cu, &process).await, hash);
    }
    wait_store_released(&path).await;
    // From the checkpoint, which remembers how far the ticks had gone.
    let Units { cu, .. } = units(dir.path(), CuConfig::default());
    assert!(cu.checkpoint_slot(&process).unwrap().is_some());
    assert_eq!(memory_hash(&cu, &process).await, hash);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawn_with_a_bad_interval_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let me = Ed25519Signer::from_secret([43; 32]);
    let Units { su, .. } = units(dir.path(), CuConfig::default());
    let spawn = me
        .sign(
            ItemDraft::new("")
                .tag("Type", "Process")
                .tag("Cron-Interval", "5-blocks"),
        )
        .unwrap();
    let err = su.schedule(&spawn, None).await.unwrap_err();
    assert!(matches!(err, ScheduleError::BadCron(_)), "{err}");
    assert!(err.to_string().contains("5-blocks"));
    let fast = me
        .sign(
            ItemDraft::new("")
                .tag("Type", "Process")
                .tag("Cron-Interval", "10-milliseconds"),
        )
        .unwrap();
    let err = su.schedule(&fast, None).await.unwrap_err();
    assert!(matches!(err, ScheduleError::BadCron(_)), "{err}");
    assert!(err.to_string().contains("minimum"), "{err}");
}
