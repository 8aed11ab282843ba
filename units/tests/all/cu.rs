//! The compute unit: checkpoints and restart, and the hash-chain check on replay.

use aos_units::cu::{ComputeUnit, CuConfig, CuError};
use aos_units::message::{DataItem, Ed25519Signer, ItemDraft, Signer};
use aos_units::store::{ProcessId, Store, Writer};
use aos_units::su::Scheduler;
use redb::{ReadableDatabase, TableDefinition};
use serde_json::Value;

const LOG: TableDefinition<&[u8], &[u8]> = TableDefinition::new("log");

struct Units {
    su: Scheduler,
    cu: ComputeUnit,
}

fn units(dir: &std::path::Path, checkpoint_every: u64) -> Units {
    let store = Store::open(&dir.join("node.redb")).unwrap();
    let writer = Writer::start(store.clone());
    let vm = aos_vm::Vm::new(aos_vm::VmConfig {
        cache_dir: Some(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("aos-module-cache")),
        ..aos_vm::VmConfig::default()
    })
    .unwrap();
    let cu = ComputeUnit::new(
        store.clone(),
        writer.clone(),
        vm,
        CuConfig {
            checkpoint_every,
            ..CuConfig::default()
        },
    );
    let module = cu.add_module(aos_vm::DEFAULT_MODULE).unwrap();
    let su = Scheduler::new(store, writer, "NODE".into(), module);
    Units { su, cu }
}

fn eval_item(me: &Ed25519Signer, process: &ProcessId, code: &str) -> DataItem {
    me.sign(
        ItemDraft::new(code)
            .tag("Type", "Message")
            .tag("Action", "Eval")
            .target(process.0),
    )
    .unwrap()
}

fn output(result: &Value) -> String {
    result["Output"]["data"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn wait_store_released(path: &std::path::Path) {
    for _ in 0..100 {
        if Store::open(path).is_ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("store still locked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_restores_the_newest_checkpoint_and_replays_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let me = Ed25519Signer::from_secret([31; 32]);
    let process;
    {
        let u = units(dir.path(), 10);
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
    let u = units(dir.path(), 10);
    let item = eval_item(&me, &process, "N");
    let a = u.su.schedule(&item, None).await.unwrap();
    let result = u.cu.result(&process, a.slot).await.unwrap();
    assert_eq!(output(&result), (1..=25).sum::<u64>().to_string());
    // The old results are still there, not recomputed into new ones.
    let old = u.cu.results(&process, 5, 5, 1).await.unwrap();
    assert_eq!(output(&old[0].1), (1..=5).sum::<u64>().to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_hash_chain_stops_evaluation_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let me = Ed25519Signer::from_secret([32; 32]);
    let process;
    {
        let u = units(dir.path(), 1000);
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
    let u = units(dir.path(), 1000);
    match u.cu.result(&process, 3).await {
        Err(CuError::HashChain { slot, .. }) => assert_eq!(slot, 2),
        other => panic!("expected a hash-chain error, got {other:?}"),
    }
}
