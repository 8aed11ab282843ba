//! `cargo bench -p aos-shell --bench load`: the real `aos node` binary under load over HTTP, from
//! a cheap client of the project's own (items signed before the clock starts). Prints one table;
//! BENCHMARKS.md records the figures.
//!
//! What it measures, scenario by scenario (`AOS_BENCH_ONLY=name` runs one):
//! - `one-process`: `AOS_BENCH_MESSAGES` (20,000) signed Evals into one process from 64 clients,
//!   each posting to `/mu` and then reading its `/cu/result` (aoconnect's pattern);
//! - `hundred-processes`: the same spread over 100 processes;
//! - `pipelined`: the same messages posted by 64 clients without waiting for results, then the
//!   last result of each process read: what the node can take in;
//! - `dry-run`: p50/p99 of 2,000 dry-runs (a read) of a warm process, one at a time;
//! - `restart`: a node with `AOS_BENCH_RESTART_PROCESSES` (10,000) processes stopped and started
//!   again: time to its first answer, and to a result of one of the processes;
//! - `nodes-1/2/3`: messages/s over 1, 2 and 3 nodes that `--peer` each other, each with its own
//!   processes and clients (issue 14: the ratio matters, the machine has 2 cores).
//!
//! "Node CPU per message" is the node process's utime + stime over the run (from
//! `/proc/{pid}/stat`) divided by messages; the client's own CPU is shown beside it.
//! `AOS_BENCH_BIN=path/to/aos` measures another build of the node with the same client.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aos_units::message::{DataItem, Ed25519Signer, ItemDraft, Signer, b64};
use serde_json::Value;

const CLIENTS: usize = 64;

struct NodeProc {
    child: Child,
    url: String,
    address: String,
    default_module: String,
}

impl NodeProc {
    fn start(dir: &std::path::Path, peers: &[String]) -> Self {
        Self::start_on("127.0.0.1:0", dir, peers)
    }

    fn start_on(listen: &str, dir: &std::path::Path, peers: &[String]) -> Self {
        // `AOS_BENCH_BIN` runs another build of `aos` (e.g. an older commit's, for a before/after
        // from the same client).
        let bin =
            std::env::var("AOS_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_aos").into());
        let mut cmd = Command::new(bin);
        cmd.args(["node", "--listen", listen, "--data-dir"])
            .arg(dir)
            .args(["--max-connections", "4096"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for peer in peers {
            cmd.args(["--peer", peer]);
        }
        let mut child = cmd.spawn().expect("start aos node");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().expect("a line").expect("stdout");
        let second = lines.next().expect("a line").expect("stdout");
        // "aos node ADDRESS listening on URL" / "default module ID"
        let words: Vec<&str> = first.split_whitespace().collect();
        let address = words[2].to_owned();
        let url = words.last().expect("url").to_string();
        let default_module = second.split_whitespace().last().expect("id").to_owned();
        // Keep draining stdout so the node never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            url,
            address,
            default_module,
        }
    }

    /// CPU seconds the node has used (user + system).
    fn cpu(&self) -> f64 {
        cpu_of(&format!("/proc/{}/stat", self.child.id()))
    }

    /// SIGTERM, then waits for the node to exit; returns how long that took.
    fn stop(mut self) -> Duration {
        let asked = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        asked.elapsed()
    }
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn cpu_of(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).expect("stat");
    // Fields after the command name (which may hold spaces) start at state, field 3.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields[11].parse().expect("utime");
    let stime: f64 = fields[12].parse().expect("stime");
    (utime + stime) / clock_ticks()
}

fn spawn_item(me: &Ed25519Signer, node: &NodeProc, n: usize) -> DataItem {
    me.sign(
        ItemDraft::new("")
            .tag("Data-Protocol", "ao")
            .tag("Type", "Process")
            .tag("Name", format!("load-{n}"))
            .tag("Module", node.default_module.clone())
            .tag("Scheduler", node.address.clone()),
    )
    .expect("sign")
}

/// Items of different runs must differ (the same signed item twice is a duplicate).
static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn eval_item(me: &Ed25519Signer, process: &str, n: usize) -> DataItem {
    let run = RUN.load(std::sync::atomic::Ordering::Relaxed);
    me.sign(
        ItemDraft::new(format!("N = (N or 0) + 1 return {n} -- run {run}"))
            .tag("Data-Protocol", "ao")
            .tag("Type", "Message")
            .tag("Action", "Eval")
            .target(b64::decode_32(process).expect("process id")),
    )
    .expect("sign")
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
}

impl Client {
    fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(CLIENTS * 2)
                .build()
                .expect("client"),
        }
    }

    async fn post(&self, url: &str, bytes: Vec<u8>) -> Value {
        loop {
            let answer = self
                .http
                .post(format!("{url}/mu"))
                .header("content-type", "application/octet-stream")
                .body(bytes.clone())
                .send()
                .await;
            match answer {
                Ok(r) if r.status().is_success() => return r.json().await.expect("json"),
                Ok(r) if r.status() == 503 => tokio::time::sleep(Duration::from_millis(5)).await,
                Ok(r) => panic!(
                    "POST /mu: {} {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                ),
                Err(e) => panic!("POST /mu: {e}"),
            }
        }
    }

    async fn result(&self, url: &str, message: &str, process: &str) -> Value {
        let r = self
            .http
            .get(format!("{url}/cu/result/{message}?process-id={process}"))
            .send()
            .await
            .expect("GET result");
        assert!(r.status().is_success(), "result: {}", r.status());
        r.json().await.expect("json")
    }
}

async fn spawn_processes(client: &Client, node: &NodeProc, count: usize) -> Vec<String> {
    let me = Ed25519Signer::from_secret([7; 32]);
    let items: Vec<DataItem> = (0..count).map(|n| spawn_item(&me, node, n)).collect();
    let mut ids = Vec::new();
    let url = Arc::new(node.url.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in items.chunks(count.div_ceil(16).max(1)) {
        let chunk: Vec<DataItem> = chunk.to_vec();
        let client = client.clone();
        let url = url.clone();
        tasks.spawn(async move {
            let mut out = Vec::new();
            for item in chunk {
                let id = item.id();
                client.post(&url, item.to_bytes()).await;
                client.result(&url, &id, &id).await;
                out.push(id);
            }
            out
        });
    }
    while let Some(done) = tasks.join_next().await {
        ids.extend(done.expect("spawn task"));
    }
    ids
}

struct Run {
    messages: usize,
    seconds: f64,
    node_cpu: f64,
    client_cpu: f64,
    latencies: Vec<Duration>,
}

impl Run {
    fn row(&self, name: &str) {
        let mut l = self.latencies.clone();
        l.sort();
        let p = |q: f64| {
            l.get(((l.len() as f64 - 1.0) * q) as usize)
                .map_or("-".to_owned(), |d| {
                    format!("{:.2} ms", d.as_secs_f64() * 1e3)
                })
        };
        println!(
            "| {name} | {} | {:.0} | {:.0} µs | {:.0} µs | {} | {} |",
            self.messages,
            self.messages as f64 / self.seconds,
            self.node_cpu / self.messages as f64 * 1e6,
            self.client_cpu / self.messages as f64 * 1e6,
            p(0.5),
            p(0.99),
        );
    }
}

/// `items[i]` goes to `urls[i % urls.len()]`-style targets chosen by `target_of`; with `wait`,
/// each client reads the result of what it posted before posting the next.
async fn drive(
    client: &Client,
    items: Vec<(String, String, DataItem)>,
    wait: bool,
    nodes: &[&NodeProc],
) -> Run {
    let items = Arc::new(items);
    let cpu0: f64 = nodes.iter().map(|n| n.cpu()).sum();
    let me0 = cpu_of("/proc/self/stat");
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        let items = items.clone();
        let client = client.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut i = c;
            while i < items.len() {
                let (url, process, item) = &items[i];
                let t = Instant::now();
                let answer = client.post(url, item.to_bytes()).await;
                if wait {
                    let id = answer["id"].as_str().expect("id");
                    client.result(url, id, process).await;
                    latencies.push(t.elapsed());
                }
                i += CLIENTS;
            }
            latencies
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done.expect("client"));
    }
    if !wait {
        // The last message of each process: its result means the process computed them all.
        let mut last = std::collections::BTreeMap::new();
        for (url, process, item) in items.iter() {
            last.insert(process.clone(), (url.clone(), item.id()));
        }
        for (process, (url, id)) in last {
            client.result(&url, &id, &process).await;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Run {
        messages: items.len(),
        seconds,
        node_cpu: nodes.iter().map(|n| n.cpu()).sum::<f64>() - cpu0,
        client_cpu: cpu_of("/proc/self/stat") - me0,
        latencies,
    }
}

fn sign_evals(processes: &[(String, String)], total: usize) -> Vec<(String, String, DataItem)> {
    RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let me = Ed25519Signer::from_secret([7; 32]);
    (0..total)
        .map(|n| {
            let (url, process) = &processes[n % processes.len()];
            (url.clone(), process.clone(), eval_item(&me, process, n))
        })
        .collect()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn wanted(name: &str) -> bool {
    std::env::var("AOS_BENCH_ONLY").map_or(true, |only| only.split(',').any(|o| o == name))
}

async fn throughput(client: &Client, total: usize) {
    println!("| scenario | messages | msg/s | node CPU/msg | client CPU/msg | p50 | p99 |");
    println!("|---|---|---|---|---|---|---|");
    for (name, processes, wait) in [
        ("one-process", 1, true),
        ("hundred-processes", 100, true),
        ("pipelined", 1, false),
    ] {
        if !wanted(name) {
            continue;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let node = NodeProc::start(dir.path(), &[]);
        let ids = spawn_processes(client, &node, processes).await;
        let targets: Vec<(String, String)> =
            ids.into_iter().map(|p| (node.url.clone(), p)).collect();
        let items = sign_evals(&targets, total);
        let run = drive(client, items, wait, &[&node]).await;
        run.row(name);
        node.stop();
    }
}

/// The same one-process load from `scripts/load_client.py` (8 threads, one keep-alive
/// connection each): the node's CPU per message with a client that is not ours.
async fn python_client(client: &Client, total: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = NodeProc::start(dir.path(), &[]);
    let process = spawn_processes(client, &node, 1).await.remove(0);
    let items = sign_evals(&[(node.url.clone(), process.clone())], total);
    let file = dir.path().join("items.txt");
    let lines: String = items
        .iter()
        .map(|(_, p, item)| format!("{p} {}\n", b64::encode(item.to_bytes())))
        .collect();
    std::fs::write(&file, lines).expect("items file");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/load_client.py");
    let cpu0 = node.cpu();
    let started = Instant::now();
    let out = Command::new("python3")
        .arg(script)
        .arg(&node.url)
        .arg(&file)
        .arg("8")
        .output()
        .expect("python3");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let node_cpu = node.cpu() - cpu0;
    println!(
        "| python client, 8 threads, 1 process | {total} | {:.0} | {:.0} µs | (python) | - | - |",
        total as f64 / seconds,
        node_cpu / total as f64 * 1e6
    );
    node.stop();
}

async fn dry_runs(client: &Client) {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = NodeProc::start(dir.path(), &[]);
    let process = spawn_processes(client, &node, 1).await.remove(0);
    let me = Ed25519Signer::from_secret([7; 32]);
    let setup = eval_item(&me, &process, 0);
    let answer = client.post(&node.url, setup.to_bytes()).await;
    client
        .result(&node.url, answer["id"].as_str().expect("id"), &process)
        .await;
    let body = serde_json::json!({
        "Target": process,
        "Owner": me.address(),
        "Tags": [{"name": "Action", "value": "Eval"}],
        "Data": "return N",
    })
    .to_string();
    let url = format!("{}/cu/dry-run?process-id={process}", node.url);
    let mut times = Vec::new();
    let cpu0 = node.cpu();
    for i in 0..2_200 {
        let t = Instant::now();
        let r = client
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("dry-run");
        assert!(r.status().is_success());
        let answer: Value = r.json().await.expect("json");
        assert_eq!(answer["Output"]["data"], "1", "{answer}");
        if i >= 200 {
            times.push(t.elapsed());
        }
    }
    let cpu = node.cpu() - cpu0;
    times.sort();
    let q = |p: f64| times[((times.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1e6;
    println!(
        "\ndry-run of a warm process over HTTP: p50 {:.0} µs, p99 {:.0} µs, node CPU {:.0} µs each",
        q(0.5),
        q(0.99),
        cpu / 2_200.0 * 1e6
    );
    node.stop();
}

async fn restart(client: &Client) {
    let count = env_usize("AOS_BENCH_RESTART_PROCESSES", 10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let node = NodeProc::start(dir.path(), &[]);
    let made = Instant::now();
    let ids = spawn_processes(client, &node, count).await;
    let made = made.elapsed();
    let stopped = node.stop();
    let started = Instant::now();
    let node = NodeProc::start(dir.path(), &[]);
    let listening = started.elapsed();
    let first = loop {
        if let Ok(r) = client.http.get(format!("{}/", node.url)).send().await
            && r.status().is_success()
        {
            break started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let probe = &ids[ids.len() / 2];
    client.result(&node.url, probe, probe).await;
    let result = started.elapsed();
    println!(
        "\nrestart with {count} processes (made in {:.1} s, stopped in {:.0} ms): listening after \
         {:.0} ms, first answer after {:.0} ms, a process's result after {:.0} ms",
        made.as_secs_f64(),
        stopped.as_secs_f64() * 1e3,
        listening.as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3,
        result.as_secs_f64() * 1e3
    );
    let stopped = node.stop();
    println!("stopped again in {:.0} ms", stopped.as_secs_f64() * 1e3);
}

async fn wait_for_peers(client: &Client, nodes: &[NodeProc]) {
    let deadline = Instant::now() + Duration::from_secs(90);
    for node in nodes {
        for other in nodes {
            let query = serde_json::json!({
                "query": "query ($owner: String!) { transactions(owners: [$owner], tags: [{name: \"Type\", values: [\"Scheduler-Location\"]}]) { edges { node { id } } } }",
                "variables": {"owner": other.address},
            });
            loop {
                let answer: Value = client
                    .http
                    .post(format!("{}/graphql", node.url))
                    .json(&query)
                    .send()
                    .await
                    .expect("graphql")
                    .json()
                    .await
                    .expect("json");
                let known = answer["data"]["transactions"]["edges"]
                    .as_array()
                    .is_some_and(|e| !e.is_empty());
                if known {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "peers never learned each other: {answer}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

async fn network(client: &Client, total: usize) {
    println!(
        "\n| nodes | posted to | processes | messages | msg/s | node CPU/msg (all nodes) | p50 | p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for count in 1..=3usize {
        if !wanted(&format!("nodes-{count}")) {
            continue;
        }
        let dirs: Vec<_> = (0..count)
            .map(|_| tempfile::tempdir().expect("tempdir"))
            .collect();
        // Every node peers every other, so ports are chosen before any starts.
        let ports: Vec<u16> = (0..count)
            .map(|_| {
                let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
                probe.local_addr().expect("addr").port()
            })
            .collect();
        let mut nodes: Vec<NodeProc> = Vec::new();
        for (i, dir) in dirs.iter().enumerate() {
            let peers: Vec<String> = (0..count)
                .filter(|&j| j != i)
                .map(|j| format!("http://127.0.0.1:{}", ports[j]))
                .collect();
            let listen = format!("127.0.0.1:{}", ports[i]);
            nodes.push(NodeProc::start_on(&listen, dir.path(), &peers));
        }
        // Peers pull each other's records at start; a node that started before its peer
        // learns it on its next pull, so wait until every node knows every other.
        wait_for_peers(client, &nodes).await;
        // Ten processes per node, each node's own clients' messages posted to it.
        let mut targets = Vec::new();
        for node in &nodes {
            for p in spawn_processes(client, node, 10).await {
                targets.push((node.url.clone(), p));
            }
        }
        let refs: Vec<&NodeProc> = nodes.iter().collect();
        // Each message posted to its process's own node, then to the next node over (which
        // forwards it to the owner's SU, and computes the result from the owner's log when the
        // node can, or sends the client there).
        for (how, shift) in [("own node", 0), ("another node", 1)] {
            if count == 1 && shift == 1 {
                continue;
            }
            let posted: Vec<(String, String)> = targets
                .iter()
                .map(|(url, p)| {
                    let at = nodes.iter().position(|n| &n.url == url).expect("node");
                    (nodes[(at + shift) % count].url.clone(), p.clone())
                })
                .collect();
            let items = sign_evals(&posted, total);
            let run = drive(client, items, true, &refs).await;
            let mut l = run.latencies.clone();
            l.sort();
            let p = |q: f64| l[((l.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e3;
            println!(
                "| {count} | {how} | {} | {} | {:.0} | {:.0} µs | {:.2} ms | {:.2} ms |",
                targets.len(),
                run.messages,
                run.messages as f64 / run.seconds,
                run.node_cpu / run.messages as f64 * 1e6,
                p(0.5),
                p(0.99)
            );
        }
        for node in nodes {
            node.stop();
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not used here.
    let total = env_usize("AOS_BENCH_MESSAGES", 20_000);
    // The client gets one thread: on two cores it must leave the node the other.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = Client::new();
        throughput(&client, total).await;
        if wanted("python") {
            python_client(&client, total).await;
        }
        if wanted("dry-run") {
            dry_runs(&client).await;
        }
        network(&client, total / 2).await;
        if wanted("restart") {
            restart(&client).await;
        }
    });
}
