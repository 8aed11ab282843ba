//! Compute anywhere (issue 14, item 5): a node's CU answers results, pages of results and
//! dry-runs for a process another node schedules, computed here from the owner's log (each item's
//! signature and the hash chain checked), byte for byte what the owner answers. It sends nothing
//! (the owner's node delivers what the process sends), refuses a log altered on the way, says
//! which scheduler failed when the owner is down, and after a restart takes the log up again from
//! its own checkpoint.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aos_units::message::Ed25519Signer;
use aos_units::store::ProcessId;
use serde_json::{Value, json};

use crate::network::fake_server;
use crate::route::{Net, holds, peering, spawn_trusting_all};
use crate::support::{COUNT_HELLOS, TestNode};

async fn dry_run_raw(node: &TestNode, process: &str, body: &Value) -> (u16, Vec<u8>) {
    let response = node
        .http
        .post(format!("{}/cu/dry-run?process-id={process}", node.url))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn outbox_len(node: &TestNode) -> u64 {
    node.node
        .messenger()
        .scheduler()
        .store()
        .outbox_len()
        .unwrap()
}

/// Every page of `/cu/results/{process}` in `sort` order, `limit` at a time, following cursors.
async fn all_pages(node: &TestNode, process: &str, sort: &str, limit: usize) -> Vec<Vec<u8>> {
    let mut pages = Vec::new();
    let mut cursor = String::new();
    loop {
        let bound = match (sort, cursor.is_empty()) {
            (_, true) => String::new(),
            ("DESC", false) => format!("&to={}", cursor.parse::<u64>().unwrap() - 1),
            (_, false) => format!("&from={cursor}"),
        };
        let path = format!("/cu/results/{process}?sort={sort}&limit={limit}{bound}");
        let (status, body) = node.get_bytes(&path).await;
        assert_eq!(status, 200, "{}", text(&body));
        let page: Value = serde_json::from_slice(&body).unwrap();
        pages.push(body);
        let edges = page["edges"].as_array().unwrap();
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() || edges.is_empty() {
            return pages;
        }
        cursor = edges.last().unwrap()["cursor"].as_str().unwrap().to_owned();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_does_not_schedule_a_process_computes_the_owners_results_exactly() {
    let net = Net::start(3).await;
    let (a, b, c) = (net.node(0), net.node(1), net.node(2));
    let me = Ed25519Signer::from_secret([71; 32]);
    let process = spawn_trusting_all(&net, 0, &me).await;
    let friend = spawn_trusting_all(&net, 1, &me).await;
    b.eval_ok(&me, &friend, COUNT_HELLOS).await;
    let mut messages = vec![
        a.send(&me, &process, &[("Action", "Eval")], "X = 0 return 'start'")
            .await,
    ];
    for i in 1..=24 {
        let code = match i {
            7 => "error('boom')".to_owned(),
            11 => format!(r#"Send({{ Target = "{friend}", Action = "Hello" }}) return "sent""#),
            17 => r#"Spawn(ao.env.Module.Id, { Data = "child" }) return "spawned""#.to_owned(),
            _ => format!("X = X + {i} return X"),
        };
        messages.push(a.send(&me, &process, &[("Action", "Eval")], &code).await);
    }
    for message in &messages {
        a.settle(message).await;
    }
    let hellos = b
        .eventually(&me, &friend, "return Got", "1", Duration::from_secs(20))
        .await;
    assert_eq!(hellos, "1");
    // C computes first (nothing of the process is on C), then A answers the same bytes.
    for message in &messages {
        let path = format!("/cu/result/{message}?process-id={process}");
        let (status, on_c) = c.get_bytes(&path).await;
        assert_eq!(status, 200, "{}", text(&on_c));
        let (_, on_a) = a.get_bytes(&path).await;
        assert_eq!(text(&on_c), text(&on_a), "result of {message}");
    }
    let failed: Value = c.result(&messages[7], &process).await;
    assert!(
        failed["Error"].as_str().unwrap().contains("boom"),
        "{failed}"
    );
    let sent: Value = c.result(&messages[11], &process).await;
    assert_eq!(sent["Messages"][0]["Target"], friend.as_str(), "{sent}");
    let spawned: Value = c.result(&messages[17], &process).await;
    assert_eq!(spawned["Spawns"].as_array().unwrap().len(), 1, "{spawned}");
    for sort in ["ASC", "DESC"] {
        let on_c = all_pages(c, &process, sort, 7).await;
        let on_a = all_pages(a, &process, sort, 7).await;
        assert_eq!(on_c.len(), 4, "{sort}: 25 results in pages of 7");
        assert_eq!(
            on_c.iter().map(|p| text(p)).collect::<Vec<_>>(),
            on_a.iter().map(|p| text(p)).collect::<Vec<_>>(),
            "{sort}"
        );
    }
    let question = json!({
        "Owner": me.address(),
        "Tags": [{"name": "Action", "value": "Eval"}],
        "Data": "return X",
    });
    let (status, on_c) = dry_run_raw(c, &process, &question).await;
    assert_eq!(status, 200, "{}", text(&on_c));
    assert_eq!(
        text(&on_c),
        text(&dry_run_raw(a, &process, &question).await.1)
    );
    let answer: Value = serde_json::from_slice(&on_c).unwrap();
    let sum: u64 = (1..=24).filter(|i| ![7, 11, 17].contains(i)).sum();
    assert_eq!(crate::support::output(&answer), sum.to_string());
    // C sent nothing (A's node delivered the Hello and the spawn, once), and its scheduler
    // holds no row for a process it does not schedule.
    assert_eq!(outbox_len(c), 0);
    assert!(!holds(c, &process) && !holds(b, &process));
    // C computed them itself (its own cache holds them), nobody sent it elsewhere.
    let id = ProcessId::parse(&process).unwrap();
    assert!(c.node.messenger().compute().has_result(&id, 25).unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        b.eval_ok(&me, &friend, "return Got").await,
        "1",
        "one Hello only"
    );
}

/// A proxy in front of `target` (a node's root URL) that relays every request, passes each SU log
/// page to `alter`, and notes the path of every page it relays in `pages`.
async fn proxy(target: String, alter: fn(&mut Value), pages: Arc<Mutex<Vec<String>>>) -> String {
    fake_server(Arc::new(move |method, path, body| {
        let (target, pages) = (target.clone(), pages.clone());
        Box::pin(async move {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let response = reqwest::Client::new()
                .request(method, format!("{target}{path}"))
                .header("content-type", "application/octet-stream")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let bytes = response.bytes().await.unwrap().to_vec();
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(mut page) if page.get("page_info").is_some() => {
                    pages.lock().unwrap().push(path);
                    alter(&mut page);
                    (status, serde_json::to_vec(&page).unwrap())
                }
                _ => (status, bytes),
            }
        })
    }))
    .await
}

/// Node A behind a proxy (its location record names the proxy) and node C peering it; C uses
/// `tune` as well.
struct Pair {
    a: TestNode,
    c: Option<TestNode>,
    c_addr: std::net::SocketAddr,
    a_url: String,
    /// The proxy's URL, which A's record names.
    front: String,
    pages: Arc<Mutex<Vec<String>>>,
}

const C_TUNE: fn(&mut aos::NodeConfig) = |config| config.cu.checkpoint_every = 5;

impl Pair {
    async fn start(alter: fn(&mut Value)) -> Self {
        let a_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (a_addr, c_addr) = (
            a_listener.local_addr().unwrap(),
            c_listener.local_addr().unwrap(),
        );
        let a_url = format!("http://{a_addr}");
        let pages = Arc::new(Mutex::new(Vec::new()));
        let front = proxy(a_url.clone(), alter, pages.clone()).await;
        let a = TestNode::start_advertising(
            a_listener,
            tempfile::tempdir().unwrap(),
            peering(vec![format!("http://{c_addr}")]),
            Some(&front),
        )
        .await;
        let mut pair = Self {
            a,
            c: None,
            c_addr,
            a_url,
            front,
            pages,
        };
        pair.start_c(c_listener, tempfile::tempdir().unwrap()).await;
        pair
    }

    async fn start_c(&mut self, listener: tokio::net::TcpListener, dir: tempfile::TempDir) {
        let peers = peering(vec![self.a_url.clone()]);
        let tune = move |config: &mut aos::NodeConfig| {
            peers(config);
            C_TUNE(config);
        };
        let c = TestNode::start_on(listener, dir, tune).await;
        let address = self.a.node.info().address.clone();
        let deadline = Instant::now() + Duration::from_secs(20);
        while c.node.info().locations.url_of(&address).is_none() {
            assert!(Instant::now() < deadline, "C never learnt A");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.c = Some(c);
    }

    fn c(&self) -> &TestNode {
        self.c.as_ref().unwrap()
    }

    async fn restart_c(&mut self) {
        let dir = self.c.take().unwrap().crash().await;
        let listener = tokio::net::TcpListener::bind(self.c_addr).await.unwrap();
        self.start_c(listener, dir).await;
    }
}

/// Sends `n` evals to `process` on `node`; returns their ids once all are computed there.
async fn evals(node: &TestNode, me: &Ed25519Signer, process: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let code = format!("N = (N or 0) + 1 return N .. ' of {i}'");
        ids.push(node.send(me, process, &[("Action", "Eval")], &code).await);
    }
    for id in &ids {
        node.result(id, process).await;
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_altered_on_the_way_is_refused_and_nothing_of_it_is_stored() {
    // The third item of every page says something its signer did not sign.
    let pair = Pair::start(|page| {
        if let Some(edge) = page["edges"].get_mut(2) {
            edge["node"]["message"]["data"] = json!("N = 1000000 return N");
        }
    })
    .await;
    let me = Ed25519Signer::from_secret([72; 32]);
    let process = pair.a.spawn(&me, "tampered").await;
    let ids = evals(&pair.a, &me, &process, 4).await;
    let c = pair.c();
    let (status, body) = c
        .get_bytes(&format!("/cu/result/{}?process-id={process}", ids[3]))
        .await;
    let error = text(&body);
    assert_eq!(status, 502, "{error}");
    assert!(
        error.contains("not what its signer signed") && error.contains(&pair.front),
        "{error}"
    );
    assert!(
        !pair.pages.lock().unwrap().is_empty(),
        "C read through the proxy"
    );
    let id = ProcessId::parse(&process).unwrap();
    let cu = c.node.messenger().compute();
    for slot in 0..5 {
        assert!(!cu.has_result(&id, slot).unwrap(), "slot {slot} stored");
    }
    assert_eq!(cu.checkpoint_slot(&id).unwrap(), None);
    assert_eq!(outbox_len(c), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_that_is_down_is_named_in_the_error_and_other_processes_go_on() {
    let mut net = Net::start(2).await;
    let me = Ed25519Signer::from_secret([73; 32]);
    let far = spawn_trusting_all(&net, 0, &me).await;
    let near = spawn_trusting_all(&net, 1, &me).await;
    let ids = evals(net.node(0), &me, &far, 2).await;
    let c = net.node(1);
    assert_eq!(output_of(c, &ids[1], &far).await, "2 of 1");
    let a_su = format!("{}/su", net.node(0).url);
    net.crash(0).await;
    let c = net.node(1);
    let started = Instant::now();
    let (status, body) = c.get_bytes(&format!("/cu/results/{far}")).await;
    let error = text(&body);
    assert_eq!(status, 502, "{error}");
    assert!(error.contains(&a_su), "{error} names {a_su}");
    let (status, body) = dry_run_raw(c, &far, &json!({"Data": "return 1"})).await;
    assert_eq!(status, 502, "{}", text(&body));
    assert!(started.elapsed() < Duration::from_secs(10), "no hang");
    // What C computed already is still answered, and its own process runs as ever.
    let (status, body) = c.get(&format!("/cu/results/{far}?to=2")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(crate::support::output(&body["edges"][2]["node"]), "2 of 1");
    assert_eq!(c.eval_ok(&me, &near, "return 1 + 1").await, "2");
}

async fn output_of(node: &TestNode, message: &str, process: &str) -> String {
    crate::support::output(&node.result(message, process).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_takes_another_nodes_log_up_again_from_its_own_checkpoint() {
    let mut pair = Pair::start(|_| {}).await;
    let me = Ed25519Signer::from_secret([74; 32]);
    let process = pair.a.spawn(&me, "far").await;
    let first = evals(&pair.a, &me, &process, 12).await;
    let c = pair.c();
    assert_eq!(output_of(c, &first[11], &process).await, "12 of 11");
    let id = ProcessId::parse(&process).unwrap();
    let checkpoint = c.node.messenger().compute().checkpoint_slot(&id).unwrap();
    assert_eq!(
        checkpoint,
        Some(12),
        "C checkpointed the spawn and 12 messages"
    );
    pair.restart_c().await;
    let later = evals(&pair.a, &me, &process, 3).await;
    pair.pages.lock().unwrap().clear();
    let c = pair.c();
    for message in &later {
        let path = format!("/cu/result/{message}?process-id={process}");
        let (status, on_c) = c.get_bytes(&path).await;
        assert_eq!(status, 200, "{}", text(&on_c));
        assert_eq!(text(&on_c), text(&pair.a.get_bytes(&path).await.1));
    }
    assert_eq!(output_of(c, &later[2], &process).await, "15 of 2");
    // After the restart C read the spawn (its record) and the log after its checkpoint only.
    let pages = pair.pages.lock().unwrap().clone();
    assert!(!pages.is_empty());
    for page in &pages {
        let from: u64 = page
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("from="))
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            page.contains("from=0&to=0&") || from > 12,
            "C read {page} again"
        );
    }
    assert!(pages.iter().any(|p| p.contains("from=13&")), "{pages:?}");
}

/// Following a process message by message (the shell and aoconnect read each result by id), a
/// node that does not schedule it asks the owner for each slot's page once: the page read to find
/// the message is the one then evaluated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_another_nodes_process_reads_each_slot_from_its_owner_once() {
    let pair = Pair::start(|_| {}).await;
    let me = Ed25519Signer::from_secret([75; 32]);
    let process = pair.a.spawn(&me, "followed").await;
    let c = pair.c();
    let first = evals(&pair.a, &me, &process, 1).await;
    assert_eq!(output_of(c, &first[0], &process).await, "1 of 0");
    for i in 1..4 {
        let code = format!("N = (N or 0) + 1 return N .. ' of {i}'");
        let message = pair
            .a
            .send(&me, &process, &[("Action", "Eval")], &code)
            .await;
        pair.pages.lock().unwrap().clear();
        assert_eq!(
            output_of(c, &message, &process).await,
            format!("{} of {i}", i + 1)
        );
        let pages = pair.pages.lock().unwrap().clone();
        let slot = i + 1;
        let of_slot: Vec<_> = pages
            .iter()
            .filter(|p| p.contains(&format!("from={slot}&")))
            .collect();
        assert_eq!(of_slot.len(), 1, "slot {slot} was read {pages:?}");
    }
}
