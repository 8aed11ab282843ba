//! The scheduler: slots, timestamps, hash chain, duplicates, durability, group commit.

use std::sync::Arc;

use aos_units::message::{DataItem, Ed25519Signer, ItemDraft, Signer, b64};
use aos_units::store::{ProcessId, Store, Writer};
use aos_units::su::{ScheduleError, Scheduler, first_link, next_link};

fn scheduler(dir: &std::path::Path) -> Scheduler {
    let store = Store::open(&dir.join("node.redb")).unwrap();
    let writer = Writer::start(store.clone());
    Scheduler::new(
        store,
        writer,
        "node-address".into(),
        "default-module".into(),
    )
}

fn spawn_item(signer: &Ed25519Signer) -> DataItem {
    signer
        .sign(
            ItemDraft::new("")
                .tag("Data-Protocol", "ao")
                .tag("Type", "Process")
                .tag("Name", "test"),
        )
        .unwrap()
}

fn message(signer: &Ed25519Signer, process: &ProcessId, n: usize) -> DataItem {
    signer
        .sign(
            ItemDraft::new(format!("msg {n}"))
                .tag("Type", "Message")
                .tag("Action", "Eval")
                .target(process.0),
        )
        .unwrap()
}

#[tokio::test]
async fn spawn_is_slot_zero_and_messages_follow_with_a_hash_chain() {
    let dir = tempfile::tempdir().unwrap();
    let su = scheduler(dir.path());
    let me = Ed25519Signer::from_secret([1; 32]);
    let spawn = spawn_item(&me);
    let a0 = su.schedule(&spawn, None).await.unwrap();
    assert_eq!(a0.slot, 0);
    assert_eq!(a0.process, spawn.id());
    let process = ProcessId(spawn.id_bytes());
    assert_eq!(a0.hash_chain, b64::encode(first_link(&process)));
    let record = su.store().process(&process).unwrap().unwrap();
    assert_eq!(record.module, "default-module");
    assert_eq!(record.owner, me.address());

    let mut previous = first_link(&process);
    let mut last_ts = a0.timestamp;
    for n in 1..=5 {
        let item = message(&me, &process, n);
        let a = su.schedule(&item, None).await.unwrap();
        assert_eq!(a.slot, n as u64);
        assert!(a.timestamp >= last_ts);
        last_ts = a.timestamp;
        previous = next_link(&previous, &item.id_bytes());
        assert_eq!(a.hash_chain, b64::encode(previous));
    }
    let log = su.log(&process, 0, u64::MAX, 100).unwrap();
    assert_eq!(
        log.iter().map(|a| a.slot).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4, 5]
    );
    assert_eq!(su.log(&process, 2, 3, 100).unwrap().len(), 2);
    assert_eq!(su.log(&process, 1, 5, 2).unwrap().len(), 2);
}

#[tokio::test]
async fn duplicates_and_unknown_targets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let su = scheduler(dir.path());
    let me = Ed25519Signer::from_secret([2; 32]);
    let spawn = spawn_item(&me);
    su.schedule(&spawn, None).await.unwrap();
    assert!(matches!(
        su.schedule(&spawn, None).await,
        Err(ScheduleError::Duplicate(_))
    ));
    let process = ProcessId(spawn.id_bytes());
    let item = message(&me, &process, 1);
    su.schedule(&item, None).await.unwrap();
    assert!(matches!(
        su.schedule(&item, None).await,
        Err(ScheduleError::Duplicate(_))
    ));
    let stray = message(&me, &ProcessId([3; 32]), 1);
    assert!(matches!(
        su.schedule(&stray, None).await,
        Err(ScheduleError::UnknownProcess(_))
    ));
    let no_target = me.sign(ItemDraft::new("x").tag("Type", "Message")).unwrap();
    assert!(matches!(
        su.schedule(&no_target, None).await,
        Err(ScheduleError::NoTarget)
    ));
    let elsewhere = me
        .sign(
            ItemDraft::new("")
                .tag("Type", "Process")
                .tag("Scheduler", "someone-else"),
        )
        .unwrap();
    assert!(matches!(
        su.schedule(&elsewhere, None).await,
        Err(ScheduleError::WrongScheduler(..))
    ));
    // Refusals leave nothing behind: the log holds the spawn and the one message.
    assert_eq!(su.log(&process, 0, u64::MAX, 10).unwrap().len(), 2);
    assert!(su.store().message(&stray.id_bytes()).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_get_distinct_consecutive_slots_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let me = Ed25519Signer::from_secret([4; 32]);
    let spawn = spawn_item(&me);
    let process = ProcessId(spawn.id_bytes());
    let ids: Vec<String>;
    {
        let su = Arc::new(scheduler(dir.path()));
        su.schedule(&spawn, None).await.unwrap();
        let mut tasks = Vec::new();
        for n in 0..200 {
            let su = su.clone();
            let item = message(&me, &process, n);
            tasks.push(tokio::spawn(async move {
                su.schedule(&item, None).await.unwrap()
            }));
        }
        let mut slots = Vec::new();
        for task in tasks {
            slots.push(task.await.unwrap().slot);
        }
        slots.sort_unstable();
        assert_eq!(slots, (1..=200).collect::<Vec<u64>>());
        ids = su
            .log(&process, 0, u64::MAX, 1000)
            .unwrap()
            .into_iter()
            .map(|a| a.message)
            .collect();
    }
    // Give the writer thread of the dropped scheduler a moment to release the file.
    let mut reopened = None;
    for _ in 0..50 {
        match Store::open(&dir.path().join("node.redb")) {
            Ok(store) => {
                reopened = Some(store);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    let store = reopened.expect("store reopens after the scheduler is gone");
    let again: Vec<String> = store
        .log(&process, 0, u64::MAX, 1000)
        .unwrap()
        .into_iter()
        .map(|a| a.message)
        .collect();
    assert_eq!(again, ids);
    // The chain verifies from the stored log alone.
    let mut link = first_link(&process);
    for a in store.log(&process, 1, u64::MAX, 1000).unwrap() {
        link = next_link(&link, &b64::decode_32(&a.message).unwrap());
        assert_eq!(a.hash_chain, b64::encode(link));
    }
}

/// One step of a random workload against the scheduler.
#[derive(Debug, Clone)]
enum Op {
    Spawn,
    /// A message to the n-th spawned process (modulo), or to an unknown one when none exists.
    Send(usize),
    /// Re-send the n-th item already sent (modulo): must be refused as a duplicate.
    Replay(usize),
    /// Move the process's clock fence (cron).
    Advance(usize),
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        1 => Just(Op::Spawn),
        6 => any::<usize>().prop_map(Op::Send),
        2 => any::<usize>().prop_map(Op::Replay),
        1 => any::<usize>().prop_map(Op::Advance),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Against a model: every accepted message gets the next slot of its process, timestamps
    /// never decrease, the hash chain links each slot to the one before, duplicates and unknown
    /// targets are refused, and the stored log after reopening is exactly the model's.
    #[test]
    fn the_scheduler_matches_a_model(ops in proptest::collection::vec(op(), 1..60)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let me = Ed25519Signer::from_secret([61; 32]);
            // process → (message ids in slot order, last timestamp)
            let mut model: Vec<(ProcessId, Vec<[u8; 32]>, u64)> = Vec::new();
            let mut sent: Vec<DataItem> = Vec::new();
            {
                let su = scheduler(dir.path());
                for (n, op) in ops.iter().enumerate() {
                    match op {
                        Op::Spawn => {
                            let item = me
                                .sign(ItemDraft::new(format!("spawn {n}")).tag("Type", "Process"))
                                .unwrap();
                            let a = su.schedule(&item, None).await.unwrap();
                            assert_eq!(a.slot, 0);
                            assert_eq!(a.hash_chain, b64::encode(first_link(&ProcessId(item.id_bytes()))));
                            model.push((ProcessId(item.id_bytes()), vec![item.id_bytes()], a.timestamp));
                            sent.push(item);
                        }
                        Op::Send(k) if model.is_empty() => {
                            let nowhere = ProcessId([*k as u8; 32]);
                            let err = su.schedule(&message(&me, &nowhere, n), None).await.unwrap_err();
                            assert!(matches!(err, ScheduleError::UnknownProcess(_)), "{err}");
                        }
                        Op::Send(k) => {
                            let i = k % model.len();
                            let item = message(&me, &model[i].0, n);
                            let a = su.schedule(&item, None).await.unwrap();
                            let (process, log, last) = &mut model[i];
                            assert_eq!(a.slot as usize, log.len());
                            assert!(a.timestamp >= *last);
                            let previous = b64::decode_32(&su.log(process, a.slot - 1, a.slot - 1, 1).unwrap()[0].hash_chain).unwrap();
                            assert_eq!(a.hash_chain, b64::encode(next_link(&previous, &item.id_bytes())));
                            log.push(item.id_bytes());
                            *last = a.timestamp;
                            sent.push(item);
                        }
                        Op::Replay(k) if !sent.is_empty() => {
                            let item = &sent[k % sent.len()];
                            let err = su.schedule(item, None).await.unwrap_err();
                            assert!(matches!(err, ScheduleError::Duplicate(_)), "{err}");
                        }
                        Op::Replay(_) => {}
                        Op::Advance(k) if !model.is_empty() => {
                            let i = k % model.len();
                            let fence = su.advance(model[i].0).await.unwrap();
                            assert!(fence >= model[i].2);
                            model[i].2 = fence;
                        }
                        Op::Advance(_) => {}
                    }
                }
            }
            // Durable: a fresh scheduler on the same file sees exactly the model's logs.
            for _ in 0..100 {
                if Store::open(&dir.path().join("node.redb")).is_ok() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            let su = scheduler(dir.path());
            for (process, log, _) in &model {
                let stored = su.log(process, 0, u64::MAX, usize::MAX).unwrap();
                let ids: Vec<String> = stored.iter().map(|a| a.message.clone()).collect();
                let expected: Vec<String> = log.iter().map(b64::encode).collect();
                assert_eq!(ids, expected);
                assert!(stored.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
            }
        });
    }
}

#[tokio::test]
async fn block_height_grows_with_time_and_is_kept_in_the_assignment() {
    // One block per two minutes since Arweave's genesis.
    assert_eq!(aos_units::su::block_height(1_528_675_200_000), 0);
    assert_eq!(
        aos_units::su::block_height(1_528_675_200_000 + 120_000 * 7 + 5),
        7
    );
    let dir = tempfile::tempdir().unwrap();
    let su = scheduler(dir.path());
    let me = Ed25519Signer::from_secret([3; 32]);
    let spawn = su.schedule(&spawn_item(&me), None).await.unwrap();
    let process = ProcessId::parse(&spawn.process).unwrap();
    let first = su.schedule(&message(&me, &process, 1), None).await.unwrap();
    assert!(first.block_height > 1_000_000, "{first:?}");
    assert_eq!(
        first.block_height,
        aos_units::su::block_height(first.timestamp)
    );
    let stored = su.log(&process, 1, 1, 1).unwrap();
    assert_eq!(stored[0].block_height, first.block_height);
    assert!(first.block_height >= spawn.block_height);
}
