//! `cargo bench -p aos --bench module_kinds`: per-message time of a whole node on AO's emscripten
//! module items (the test modules of `scripts/build-emscripten-module`) next to our module, on the
//! same work: signed Evals into one process (verify → schedule → compute → result, durable), from
//! one client (latency) and from 16 at once (throughput). Prints a table for BENCHMARKS.md.
//! `AOS_BENCH_MESSAGES` sets the size.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aos::{Node, NodeConfig};
use aos_units::message::{DataItem, Ed25519Signer, ItemDraft, Signer};
use aos_units::store::ProcessId;

fn module_item(me: &Ed25519Signer, wasm: &[u8], format: &str) -> DataItem {
    me.sign(
        ItemDraft::new(wasm.to_vec())
            .tag("Data-Protocol", "ao")
            .tag("Type", "Module")
            .tag("Module-Format", format)
            .tag("Input-Encoding", "JSON-1")
            .tag("Output-Encoding", "JSON-1"),
    )
    .expect("sign")
}

async fn spawn(node: &Node, me: &Ed25519Signer, module: &str) -> ProcessId {
    let item = me
        .sign(
            ItemDraft::new("")
                .tag("Data-Protocol", "ao")
                .tag("Type", "Process")
                .tag("Module", module)
                .tag("Scheduler", node.info().address.clone()),
        )
        .expect("sign");
    let submitted = node.messenger().submit_item(&item).await.expect("spawn");
    let process = ProcessId::parse(&submitted.process).expect("id");
    node.messenger()
        .compute()
        .result(&process, 0)
        .await
        .expect("spawned");
    process
}

/// `total` Evals into `process` from `clients` clients; (msg/s, p50).
async fn run(
    node: &Node,
    me: &Ed25519Signer,
    process: ProcessId,
    total: usize,
    clients: usize,
) -> (f64, Duration) {
    // Signatures are deterministic: each run's Evals differ from the other run's.
    let items: Arc<Vec<DataItem>> = Arc::new(
        (0..total)
            .map(|n| {
                me.sign(
                    ItemDraft::new(format!("N = (N or 0) + 1 return '{clients}-{n}'"))
                        .tag("Data-Protocol", "ao")
                        .tag("Type", "Message")
                        .tag("Action", "Eval")
                        .target(process.0),
                )
                .expect("sign")
            })
            .collect(),
    );
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (node, items) = (node.clone(), items.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for item in items.iter().skip(c).step_by(clients) {
                let t = Instant::now();
                let submitted = node.messenger().submit_item(item).await.expect("submit");
                let result = node
                    .messenger()
                    .compute()
                    .result(&process, submitted.slot)
                    .await
                    .expect("result");
                assert!(!result.failed(), "{:?}", result.error_text());
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client"));
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    (rate, latencies[latencies.len() / 2])
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: usize = std::env::var("AOS_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let me = Ed25519Signer::from_secret([8; 32]);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = NodeConfig::new(dir.path());
    config.vm.cache_dir = Some(std::env::temp_dir().join("aos-bench-cache"));
    let node = Node::open(config).expect("node");
    let mut modules = vec![(
        "ours (`process.wasm`, hash id)",
        node.info().default_module.clone(),
    )];
    for (label, wasm, format) in [
        (
            "emscripten32 item",
            &include_bytes!("../vm/module/emscripten32.wasm")[..],
            "wasm32-unknown-emscripten4",
        ),
        (
            "emscripten64 item (memory64)",
            &include_bytes!("../vm/module/emscripten64.wasm")[..],
            "wasm64-unknown-emscripten-draft_2024_02_15",
        ),
    ] {
        let item = module_item(&me, wasm, format);
        let id = node.messenger().add_module(&item).await.expect("module");
        modules.push((label, id));
    }
    println!("| module | 1 client: p50 per message | 16 clients: msg/s | 16 clients: p50 |");
    println!("|---|---|---|---|");
    for (label, module) in modules {
        let process = spawn(&node, &me, &module).await;
        let (_, alone) = run(&node, &me, process, total / 4, 1).await;
        let (rate, p50) = run(&node, &me, process, total, 16).await;
        println!("| {label} | {alone:.2?} | {rate:.0} | {p50:.2?} |");
    }
    node.shutdown().await.expect("shutdown");
}
