//! A node's shutdown stops all of its background work before it closes the store: the data dir
//! opens again at once, nothing is delivered after it, and what was still to be delivered waits
//! in the outbox. A node dropped without one stops its work too.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aos::{Node, NodeConfig};
use aos_units::location::SchedulerLocation;
use aos_units::message::Ed25519Signer;
use aos_units::store::ProcessId;
use reqwest::Method;

use crate::network::{Answer, Handler, fake_server};
use crate::support::{TestNode, monitor_request, shared_cache_dir};

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_was_shut_down_opens_again_at_once_with_nothing_left_running() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([91; 32]);
    let clock = node
        .spawn_tagged(&me, "clock", &[("Cron-Interval", "1-second")])
        .await;
    node.eval(&me, &clock, "X = 1").await;
    let (status, body) = node
        .request(
            Method::POST,
            &format!("/mu/monitor/{clock}"),
            monitor_request(&me, &clock),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, page) = node.get(&format!("/cu/cron/{clock}")).await;
        if !page["edges"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no tick: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let tasks = node.node.messenger().tasks().clone();
    assert!(tasks.running() > 0);

    let dir = node.shut_down().await;
    assert_eq!(tasks.running(), 0, "every background task has ended");
    let mut config = NodeConfig::new(dir.path());
    config.vm.cache_dir = Some(shared_cache_dir());
    let again = Node::open(config).expect("the store is released at once");
    let process = ProcessId::parse(&clock).unwrap();
    let store = again.messenger().scheduler().store();
    assert!(store.process(&process).unwrap().is_some());
    again.shutdown().await.unwrap();
}

/// A node that knows a scheduler whose SU (a fake) answers every item 503 and counts them, and a
/// process on it that has sent a spawn there.
async fn node_with_a_delivery_that_waits() -> (TestNode, Arc<AtomicUsize>, String) {
    let posts = Arc::new(AtomicUsize::new(0));
    let handler: Handler = {
        let posts = posts.clone();
        Arc::new(move |method: String, _path: String, _body: Vec<u8>| {
            if method == "POST" {
                posts.fetch_add(1, Ordering::SeqCst);
            }
            Box::pin(async { (503u16, br#"{"error":"down"}"#.to_vec()) }) as Answer
        })
    };
    let far = fake_server(handler).await;
    let node = TestNode::start().await;
    let scheduler = Ed25519Signer::from_secret([92; 32]);
    let record =
        SchedulerLocation::sign(&scheduler, &format!("{far}/su"), 3_600_000, now_ms()).unwrap();
    assert!(
        node.node
            .info()
            .locations
            .offer(record, Some(&scheduler.address()), now_ms())
            .unwrap()
    );
    let me = Ed25519Signer::from_secret([93; 32]);
    let parent = node.spawn(&me, "parent").await;
    let spawn = node
        .send(
            &me,
            &parent,
            &[("Action", "Eval")],
            &format!(
                r#"Spawn(ao.env.Module.Id, {{ Scheduler = "{}", Name = "far" }})"#,
                scheduler.address()
            ),
        )
        .await;
    wait_for("a first attempt", || posts.load(Ordering::SeqCst) >= 1).await;
    (node, posts, spawn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shut_down_node_delivers_nothing_more_and_keeps_what_waits_for_the_next_start() {
    let (node, posts, spawn) = node_with_a_delivery_that_waits().await;
    // Retried every 0.5 s, then 1 s, … while the node runs.
    node.node.shutdown().await.unwrap();
    assert_eq!(node.node.messenger().tasks().running(), 0);
    let tried = posts.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        posts.load(Ordering::SeqCst),
        tried,
        "no attempt after the shutdown"
    );
    let waiting = node.node.messenger().pending_of(&spawn).unwrap();
    assert_eq!(waiting.len(), 1, "the spawn still waits in the outbox");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_dropped_without_a_shutdown_stops_its_background_work() {
    let (node, posts, _) = node_with_a_delivery_that_waits().await;
    let tasks = node.node.messenger().tasks().clone();
    // Held elsewhere (as the HTTP server holds it), the messenger would keep the work going.
    let messenger = node.node.messenger().clone();
    drop(node);
    assert!(tasks.is_stopped());
    wait_for("the tasks end", || tasks.running() == 0).await;
    let tried = posts.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        posts.load(Ordering::SeqCst),
        tried,
        "no attempt after the drop"
    );
    drop(messenger);
}

/// Spawns `count` processes on `node` from `clients` clients at once, each posting a spawn and
/// then reading its result (the load bench's pattern); returns their ids.
async fn spawn_many(node: Arc<TestNode>, count: usize, clients: usize) -> Vec<String> {
    let mut spawning = tokio::task::JoinSet::new();
    for client in 0..clients {
        let node = node.clone();
        spawning.spawn(async move {
            let me = Ed25519Signer::from_secret([94; 32]);
            let mut ids = Vec::new();
            for n in (client..count).step_by(clients) {
                let id = node.spawn(&me, &format!("many-{n}")).await;
                node.result(&id, &id).await;
                ids.push(id);
            }
            ids
        });
    }
    let mut ids = Vec::new();
    while let Some(done) = spawning.join_next().await {
        ids.extend(done.unwrap());
    }
    ids
}

/// The hot set stays within its bound while hundreds of processes are spawned at once, so the
/// shutdown has only that many checkpoints to write (it had nearly one per process spawned), and
/// the restarted node answers for every process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_served_hundreds_of_spawns_stops_within_a_moment() {
    const MAX_HOT: usize = 32;
    const CLIENTS: usize = 16;
    let node = Arc::new(TestNode::start_with(|config| config.cu.max_hot = MAX_HOT).await);
    let ids = spawn_many(node.clone(), 300, CLIENTS).await;
    // Eviction keeps up with the spawns: only those still being answered may be over the bound.
    // Only the processes still being answered may be over the bound.
    let hot = node.node.messenger().compute().hot_memory().processes;
    assert!(hot <= MAX_HOT + CLIENTS, "{hot} processes hot");
    let node = Arc::try_unwrap(node).ok().unwrap();
    let stopping = std::time::Instant::now();
    let dir = node.shut_down().await;
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(1), "stopping took {took:?}");

    let again = TestNode::start_in(dir, |_| {}).await;
    for id in [&ids[0], &ids[150], &ids[299]] {
        assert_eq!(again.result(id, id).await["Error"], serde_json::Value::Null);
    }
    again.shut_down().await;
}
