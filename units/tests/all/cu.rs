//! The compute unit: checkpoints and restart, and the hash-chain check on replay.

use aos_units::cu::{CuError, Order};
use aos_units::message::{Ed25519Signer, ItemDraft, Signer};
use aos_units::store::ProcessId;
use redb::{ReadableDatabase, TableDefinition};
use serde_json::Value;

use crate::support::{
    checkpoint_every, eval_item, output, spawn_evaluated, units, wait_store_released,
};

const LOG: TableDefinition<&[u8], &[u8]> = TableDefinition::new("log");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_restores_the_newest_checkpoint_and_replays_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let me = Ed25519Signer::from_secret([31; 32]);
    let process;
    {
        let u = units(dir.path(), checkpoint_every(10));
        let spawn = me.sign(ItemDraft::new("").tag("Type", "Process")).unwrap();
        u.su.schedule(&spawn, None).await.unwrap();
        process = ProcessId(spawn.id_bytes());
        for n in 1..=25 {
            let item = eval_item(&me, &process, &format!("N = (N or 0) + {n} return N"));
            let a = u.su.schedule(&item, None).await.unwrap();
            u.cu.result(&process, a.slot).await.unwrap();
        }
        // Every 10 evaluated messages, counting the spawn at slot 0: slots 9 and 19.
        assert_eq!(u.cu.checkpoint_slot(&process).unwrap(), Some(19));
    }
    wait_store_released(&dir.path().join("node.redb")).await;
    let u = units(dir.path(), checkpoint_every(10));
    let item = eval_item(&me, &process, "N");
    let a = u.su.schedule(&item, None).await.unwrap();
    let result = u.cu.result(&process, a.slot).await.unwrap();
    assert_eq!(output(&result), (1..=25).sum::<u64>().to_string());
    // The old results are still there, not recomputed into new ones.
    let old =
        u.cu.results(&process, 5, 5, 1, Order::Ascending)
            .await
            .unwrap();
    assert_eq!(output(&old[0].1), (1..=5).sum::<u64>().to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_hash_chain_stops_evaluation_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let me = Ed25519Signer::from_secret([32; 32]);
    let process;
    {
        let u = units(dir.path(), checkpoint_every(1000));
        let spawn = me.sign(ItemDraft::new("").tag("Type", "Process")).unwrap();
        u.su.schedule(&spawn, None).await.unwrap();
        process = ProcessId(spawn.id_bytes());
        for n in 1..=3 {
            u.su.schedule(&eval_item(&me, &process, &format!("X = {n}")), None)
                .await
                .unwrap();
        }
    }
    let path = dir.path().join("node.redb");
    wait_store_released(&path).await;
    {
        // Tamper with slot 2's link, as a corrupted or forged log would.
        let db = redb::Database::open(&path).unwrap();
        let mut key = process.0.to_vec();
        key.extend(2u64.to_be_bytes());
        let mut entry: Value = {
            let txn = db.begin_read().unwrap();
            let table = txn.open_table(LOG).unwrap();
            serde_json::from_slice(table.get(&key[..]).unwrap().unwrap().value()).unwrap()
        };
        entry["hash_chain"] = Value::String("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into());
        let txn = db.begin_write().unwrap();
        txn.open_table(LOG)
            .unwrap()
            .insert(&key[..], &serde_json::to_vec(&entry).unwrap()[..])
            .unwrap();
        txn.commit().unwrap();
    }
    let u = units(dir.path(), checkpoint_every(1000));
    match u.cu.result(&process, 3).await {
        Err(CuError::HashChain { slot, .. }) => assert_eq!(slot, 2),
        other => panic!("expected a hash-chain error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_process_is_checkpointed_after_the_interval() {
    let dir = tempfile::tempdir().unwrap();
    let me = Ed25519Signer::from_secret([33; 32]);
    // Far from `checkpoint_every`: only the interval can write this checkpoint.
    let u = units(
        dir.path(),
        aos_units::cu::CuConfig {
            checkpoint_every: 1000,
            checkpoint_interval: Some(std::time::Duration::from_millis(100)),
            ..aos_units::cu::CuConfig::default()
        },
    );
    let spawn = me.sign(ItemDraft::new("").tag("Type", "Process")).unwrap();
    u.su.schedule(&spawn, None).await.unwrap();
    let process = ProcessId(spawn.id_bytes());
    for n in 1..=3 {
        let a =
            u.su.schedule(&eval_item(&me, &process, &format!("X = {n}")), None)
                .await
                .unwrap();
        u.cu.result(&process, a.slot).await.unwrap();
    }
    let mut checkpoint = None;
    for _ in 0..100 {
        checkpoint = u.cu.checkpoint_slot(&process).unwrap();
        if checkpoint == Some(3) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(checkpoint, Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hot_set_keeps_to_max_hot_and_checkpoints_what_it_evicts() {
    let dir = tempfile::tempdir().unwrap();
    let me = Ed25519Signer::from_secret([34; 32]);
    let u = units(
        dir.path(),
        aos_units::cu::CuConfig {
            max_hot: 2,
            checkpoint_interval: None,
            ..checkpoint_every(1000)
        },
    );
    let mut processes = Vec::new();
    for n in 0..4u64 {
        processes
            .push(spawn_evaluated(&u, &me, &n.to_string(), &format!("N = {n} return N")).await);
    }
    // Eviction runs as each use ends, in the background.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while u.cu.hot_memory().processes > 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(u.cu.hot_memory().processes, 2);
    // The two least recently used went, each checkpointed at its eval (slot 1) first.
    for process in &processes[..2] {
        assert_eq!(u.cu.checkpoint_slot(process).unwrap(), Some(1));
    }
    for (n, process) in processes.iter().enumerate() {
        let item = eval_item(&me, process, "N");
        let a = u.su.schedule(&item, None).await.unwrap();
        let result = u.cu.result(process, a.slot).await.unwrap();
        assert_eq!(output(&result), n.to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_periodic_checkpoint_round_ends_at_the_stop_signal() {
    let dir = tempfile::tempdir().unwrap();
    let me = Ed25519Signer::from_secret([35; 32]);
    let u = units(
        dir.path(),
        aos_units::cu::CuConfig {
            checkpoint_interval: None,
            ..checkpoint_every(1000)
        },
    );
    let mut processes = Vec::new();
    for n in 0..3u64 {
        processes.push(spawn_evaluated(&u, &me, &n.to_string(), &format!("N = {n}")).await);
    }
    let tasks = aos_units::tasks::Tasks::new();
    let stop = tasks.stop_signal();
    tasks.stop().await;
    u.cu.checkpoint_all_until(&stop).await.unwrap();
    for process in &processes {
        assert_eq!(
            u.cu.checkpoint_slot(process).unwrap(),
            None,
            "nothing after the signal"
        );
    }
    // What the round left, the shutdown's own round writes.
    u.cu.checkpoint_all().await.unwrap();
    for process in &processes {
        assert_eq!(u.cu.checkpoint_slot(process).unwrap(), Some(1));
    }
}
