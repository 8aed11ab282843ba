//! `cargo bench -p aos --bench node`: a whole node, end to end (verify → schedule → compute →
//! result), in process. Prints a table; BENCHMARKS.md records the numbers.
//!
//! - throughput into one process and spread over 100 processes, with many clients at once (their
//!   appends share commits) and with one client (every append is its own commit);
//! - p50/p99 latency of submit-to-result;
//! - compute-unit restart of a long process, from a checkpoint and from slot 0.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aos::{Node, NodeConfig};
use aos_units::message::{DataItem, Ed25519Signer, ItemDraft, Signer};
use aos_units::store::ProcessId;

fn spawn_item(me: &Ed25519Signer, info: &aos_units::http::NodeInfo, n: usize) -> DataItem {
    me.sign(
        ItemDraft::new("")
            .tag("Data-Protocol", "ao")
            .tag("Type", "Process")
            .tag("Name", format!("bench-{n}"))
            .tag("Module", info.default_module.clone())
            .tag("Scheduler", info.address.clone()),
    )
    .expect("sign")
}

fn eval_item(me: &Ed25519Signer, process: &[u8; 32], n: usize) -> DataItem {
    me.sign(
        ItemDraft::new(format!("N = (N or 0) + 1 return {n}"))
            .tag("Data-Protocol", "ao")
            .tag("Type", "Message")
            .tag("Action", "Eval")
            .target(*process),
    )
    .expect("sign")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p) as usize]
}

/// `total` signed messages over `processes`, from `clients` concurrent clients.
async fn run(
    node: &Node,
    processes: &[[u8; 32]],
    total: usize,
    clients: usize,
) -> (f64, Duration, Duration) {
    let me = Arc::new(Ed25519Signer::from_secret([7; 32]));
    // Sign up front: signing is the client's cost, not the node's.
    let items: Vec<DataItem> = (0..total)
        .map(|n| eval_item(&me, &processes[n % processes.len()], n))
        .collect();
    let items = Arc::new(items);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let node = node.clone();
        let items = items.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = c;
            while i < items.len() {
                let t = Instant::now();
                let bytes = items[i].to_bytes();
                let submitted = node.messenger().submit(&bytes).await.expect("submit");
                let process = ProcessId::parse(&submitted.process).expect("process id");
                node.messenger()
                    .compute()
                    .result(&process, submitted.slot)
                    .await
                    .expect("result");
                latencies.push(t.elapsed());
                i += clients;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    (
        total as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
    )
}

async fn spawn_processes(node: &Node, n: usize) -> Vec<[u8; 32]> {
    let me = Ed25519Signer::from_secret([7; 32]);
    let mut out = Vec::new();
    for i in 0..n {
        let item = spawn_item(&me, node.info(), i);
        let submitted = node.messenger().submit_item(&item).await.expect("spawn");
        let process = ProcessId::parse(&submitted.process).expect("id");
        node.messenger()
            .compute()
            .result(&process, 0)
            .await
            .expect("spawned");
        out.push(process.0);
    }
    out
}

/// Opens a node, waiting for the previous one on the same dir to let go of the store.
async fn open(config: NodeConfig) -> Node {
    for _ in 0..200 {
        match Node::open(config.clone()) {
            Ok(node) => return node,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    Node::open(config).expect("node")
}

fn config(dir: &std::path::Path) -> NodeConfig {
    let mut config = NodeConfig::new(dir);
    config.vm.cache_dir = Some(std::env::temp_dir().join("aos-bench-cache"));
    config
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: usize = std::env::var("AOS_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let restart_len: usize = std::env::var("AOS_BENCH_RESTART")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    // AOS_BENCH_ONLY=N runs only the N-th throughput scenario (for profiling one of them).
    let only: Option<usize> = std::env::var("AOS_BENCH_ONLY")
        .ok()
        .and_then(|v| v.parse().ok());
    println!("| scenario | messages | msg/s | p50 | p99 |");
    println!("|---|---|---|---|---|");
    for (n, (label, n_processes, clients)) in [
        ("1 process, 64 clients (group commit)", 1, 64),
        ("1 process, 1 client (one commit per message)", 1, 1),
        ("100 processes, 64 clients", 100, 64),
    ]
    .into_iter()
    .enumerate()
    {
        if only.is_some_and(|only| only != n) {
            continue;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let node = Node::open(config(dir.path())).expect("node");
        let processes = spawn_processes(&node, n_processes).await;
        let n = if clients == 1 { total / 10 } else { total };
        let (rate, p50, p99) = run(&node, &processes, n, clients).await;
        println!("| {label} | {n} | {rate:.0} | {p50:.2?} | {p99:.2?} |");
    }

    if only.is_some() {
        return;
    }
    // Restart of a long process: from its newest checkpoint, and from slot 0.
    let dir = tempfile::tempdir().expect("tempdir");
    let process;
    {
        let node = Node::open(config(dir.path())).expect("node");
        process = spawn_processes(&node, 1).await[0];
        let _ = run(&node, &[process], restart_len, 64).await;
        node.shutdown().await.expect("checkpoint");
    }
    let me = Ed25519Signer::from_secret([7; 32]);
    for (label, from_checkpoint) in [("from checkpoint", true), ("replaying all", false)] {
        let mut config = config(dir.path());
        if !from_checkpoint {
            // A compute unit that ignores checkpoints: the same as a node without any.
            config.cu.ignore_checkpoints = true;
        }
        let node = open(config).await;
        let started = Instant::now();
        let item = eval_item(
            &me,
            &process,
            restart_len + 1 + usize::from(from_checkpoint),
        );
        let submitted = node.messenger().submit_item(&item).await.expect("submit");
        let p = ProcessId::parse(&submitted.process).expect("id");
        node.messenger()
            .compute()
            .result(&p, submitted.slot)
            .await
            .expect("result");
        println!(
            "restart of a {restart_len}-message process, {label}: {:.2?}",
            started.elapsed()
        );
        drop(node);
    }
}
