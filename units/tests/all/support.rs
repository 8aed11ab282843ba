//! What the integration tests share: a scheduler and compute unit on a fresh store, signed Evals,
//! and reading a result's Output.

use aos_units::cu::{ComputeUnit, CuConfig};
use aos_units::message::{DataItem, Ed25519Signer, ItemDraft, Signer};
use aos_units::result::ProcessResult;
use aos_units::store::{ProcessId, Store, Writer};
use aos_units::su::Scheduler;
use serde_json::Value;

pub struct Units {
    pub su: Scheduler,
    pub cu: ComputeUnit,
}

/// An SU and a CU (scheduling as "NODE") on the store in `dir`.
pub fn units(dir: &std::path::Path, config: CuConfig) -> Units {
    units_on(Store::open(&dir.join("node.redb")).unwrap(), config)
}

/// An SU and a CU on an open store.
pub fn units_on(store: Store, config: CuConfig) -> Units {
    let writer = Writer::start(store.clone());
    let vm = aos_vm::Vm::new(aos_vm::VmConfig {
        cache_dir: Some(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("aos-module-cache")),
        ..aos_vm::VmConfig::default()
    })
    .unwrap();
    let cu = ComputeUnit::new(store.clone(), writer.clone(), vm, config);
    let module = cu.add_module(aos_vm::DEFAULT_MODULE).unwrap();
    let su = Scheduler::new(store, writer, "NODE".into(), module);
    Units { su, cu }
}

/// A CU configuration that checkpoints every `n` messages.
pub fn checkpoint_every(n: u64) -> CuConfig {
    CuConfig {
        checkpoint_every: n,
        ..CuConfig::default()
    }
}

pub fn eval_item(me: &Ed25519Signer, process: &ProcessId, code: &str) -> DataItem {
    me.sign(
        ItemDraft::new(code)
            .tag("Type", "Message")
            .tag("Action", "Eval")
            .target(process.0),
    )
    .unwrap()
}

/// Spawns a process named `name` and evaluates `code` in it, waiting for the result.
pub async fn spawn_evaluated(u: &Units, me: &Ed25519Signer, name: &str, code: &str) -> ProcessId {
    let spawn = me
        .sign(ItemDraft::new("").tag("Type", "Process").tag("Name", name))
        .unwrap();
    u.su.schedule(&spawn, None).await.unwrap();
    let process = ProcessId(spawn.id_bytes());
    let item = eval_item(me, &process, code);
    let a = u.su.schedule(&item, None).await.unwrap();
    u.cu.result(&process, a.slot).await.unwrap();
    process
}

pub fn output(result: &ProcessResult) -> String {
    match result.output.get("data") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Waits until the units that used the store in `dir` are gone and have let go of it.
pub async fn wait_store_released(path: &std::path::Path) {
    for _ in 0..100 {
        if Store::open(path).is_ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("store still locked");
}
