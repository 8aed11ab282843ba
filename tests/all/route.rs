//! Routing and cranking across nodes (issue 14, items 3, 4 and 7): real nodes on loopback, each
//! with its own data dir and key, peering each other. A node's MU takes any item and hands it to
//! the SU that schedules its process; what a process sends to another node's process goes to that
//! node's SU, durably, exactly once, and waits (never lost, never blocking other targets) while
//! that node is down.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aos_units::location::SchedulerLocation;
use aos_units::message::{Ed25519Signer, ItemDraft, Signer};
use aos_units::store::ProcessId;
use aos_units::wallet::Wallet;
use serde_json::Value;

use crate::network::{Answer, Handler, fake_server};
use crate::support::{COUNT_HELLOS, TestNode};

/// Peering every other node, pulling their records often.
pub(crate) fn peering(others: Vec<String>) -> impl FnOnce(&mut aos::NodeConfig) {
    move |config| {
        config.network.peers = others;
        config.network.refresh = Duration::from_millis(200);
    }
}

pub(crate) struct Net {
    pub(crate) nodes: Vec<Option<TestNode>>,
    addrs: Vec<SocketAddr>,
}

impl Net {
    /// `n` nodes, each peering all others, once each knows every other's URL.
    pub(crate) async fn start(n: usize) -> Self {
        let mut listeners = Vec::new();
        for _ in 0..n {
            listeners.push(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
        }
        let addrs: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
        let mut nodes = Vec::new();
        for (i, listener) in listeners.into_iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let node = TestNode::start_on(listener, dir, peering(Self::others(&addrs, i))).await;
            nodes.push(Some(node));
        }
        let net = Self { nodes, addrs };
        for i in 0..n {
            for j in 0..n {
                net.wait_knows(i, j).await;
            }
        }
        net
    }

    fn others(addrs: &[SocketAddr], i: usize) -> Vec<String> {
        addrs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, a)| format!("http://{a}"))
            .collect()
    }

    pub(crate) fn node(&self, i: usize) -> &TestNode {
        self.nodes[i].as_ref().expect("node is up")
    }

    pub(crate) fn address(&self, i: usize) -> String {
        self.node(i).node.info().address.clone()
    }

    async fn wait_knows(&self, i: usize, j: usize) {
        let address = self.address(j);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self
            .node(i)
            .node
            .info()
            .locations
            .url_of(&address)
            .is_none()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "node {i} never learnt node {j}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Node `i` dies without a shutdown; its data dir is kept for [`Self::restart`].
    pub(crate) async fn crash(&mut self, i: usize) -> tempfile::TempDir {
        self.nodes[i].take().expect("node is up").crash().await
    }

    /// Node `i` again, on its port and data dir.
    pub(crate) async fn restart(&mut self, i: usize, dir: tempfile::TempDir) {
        let listener = tokio::net::TcpListener::bind(self.addrs[i]).await.unwrap();
        let tune = peering(Self::others(&self.addrs, i));
        self.nodes[i] = Some(TestNode::start_on(listener, dir, tune).await);
    }
}

/// A spawn on the default module naming `scheduler`, with `Authority` tags.
fn spawn_item(
    signer: &Ed25519Signer,
    module: &str,
    scheduler: &str,
    authorities: &[String],
) -> aos_units::message::DataItem {
    let mut draft = ItemDraft::new("")
        .tag("Data-Protocol", "ao")
        .tag("Variant", "ao.TN.1")
        .tag("Type", "Process")
        .tag("Module", module)
        .tag("Scheduler", scheduler);
    for authority in authorities {
        draft = draft.tag("Authority", authority.clone());
    }
    // Signatures are deterministic: a name of its own keeps two spawns two processes.
    static SPAWNED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SPAWNED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    signer.sign(draft.tag("Name", format!("p{n}"))).unwrap()
}

/// Spawns on node `on` a process that trusts every node of the network (the shell's default).
pub(crate) async fn spawn_trusting_all(net: &Net, on: usize, signer: &Ed25519Signer) -> String {
    let module = net.node(on).node.info().default_module.clone();
    let all: Vec<String> = (0..net.nodes.len()).map(|i| net.address(i)).collect();
    let item = spawn_item(signer, &module, &net.address(on), &all);
    let (status, body) = net.node(on).post_item(&item).await;
    assert_eq!(status, 202, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

pub(crate) fn holds(node: &TestNode, process: &str) -> bool {
    let id = ProcessId::parse(process).unwrap();
    node.node
        .messenger()
        .scheduler()
        .store()
        .process(&id)
        .unwrap()
        .is_some()
}

fn log_ids(node: &TestNode, process: &str) -> Vec<String> {
    let id = ProcessId::parse(process).unwrap();
    node.node
        .messenger()
        .scheduler()
        .store()
        .log(&id, 0, u64::MAX, 10_000)
        .unwrap()
        .into_iter()
        .map(|a| a.message)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_for_another_nodes_process_posted_to_this_mu_is_in_the_owners_log() {
    let net = Net::start(2).await;
    let (a, b) = (net.node(0), net.node(1));
    let me = Ed25519Signer::from_secret([61; 32]);
    let on_b = b.spawn(&me, "on-b").await;
    b.eval_ok(&me, &on_b, COUNT_HELLOS).await;

    let hello = me
        .sign(TestNode::draft(&on_b, &[("Action", "Hello")], ""))
        .unwrap();
    let (status, body) = a.post_item(&hello).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["id"], hello.id());
    // Acknowledged by A only once B had it: it is in B's log already, and in no log of A's.
    assert!(log_ids(b, &on_b).contains(&hello.id()));
    assert!(!holds(a, &on_b));
    let got = b
        .eventually(&me, &on_b, "Got", "1", Duration::from_secs(20))
        .await;
    assert_eq!(got, "1");
    // The same item again, through A: B refuses the duplicate, and A says so.
    let (status, body) = a.post_item(&hello).await;
    assert_eq!(status, 409, "{body}");

    // A's SU, asked for B's process, sends the client to B.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let asked = no_redirects
        .get(format!("{}/su/{on_b}?from=0&limit=5", a.url))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status().as_u16(), 307);
    assert_eq!(
        asked.headers()["location"].to_str().unwrap(),
        format!("{}/su/{on_b}?from=0&limit=5", b.url)
    );
    // Followed, it is B's log.
    let (status, page) = a.get(&format!("/su/{on_b}")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["edges"][0]["node"]["message"]["id"], on_b);
    // A's CU computes B's process itself, from B's log (no redirect).
    let path = format!("/cu/result/{}?process-id={on_b}", hello.id());
    let asked = no_redirects
        .get(format!("{}{path}", a.url))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status().as_u16(), 200);
    let (status, result) = a.get(&path).await;
    assert_eq!(status, 200, "{result}");
    assert!(result["Error"].is_null(), "{result}");
    // Found by owner through A, though B holds it.
    let (_, mine) = a
        .get(&format!("/su/processes?owner={}", me.address()))
        .await;
    assert_eq!(mine[0]["process_id"], on_b, "{mine}");
    assert_eq!(mine[0]["scheduler"], net.address(1), "{mine}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawn_naming_another_nodes_scheduler_lands_on_that_node() {
    let net = Net::start(3).await;
    let (a, b, c) = (net.node(0), net.node(1), net.node(2));
    let me = Ed25519Signer::from_secret([62; 32]);
    let module = a.node.info().default_module.clone();
    let spawn = spawn_item(&me, &module, &net.address(1), &[]);
    let (status, body) = a.post_item(&spawn).await;
    assert_eq!(status, 202, "{body}");
    let process = spawn.id();
    assert!(holds(b, &process), "B schedules it");
    assert!(!holds(a, &process) && !holds(c, &process), "A and C do not");
    // A message for it posted to C finds it on B too (C asks its peers where it lives).
    let through_c = me
        .sign(TestNode::draft(
            &process,
            &[("Action", "Eval")],
            "return 'via C'",
        ))
        .unwrap();
    let (status, body) = c.post_item(&through_c).await;
    assert_eq!(status, 202, "{body}");
    assert!(log_ids(b, &process).contains(&through_c.id()));
    assert_eq!(b.eval_ok(&me, &process, "return 6 * 7").await, "42");
    // A message to it through A follows it to B.
    let through_a = me
        .sign(TestNode::draft(
            &process,
            &[("Action", "Eval")],
            "return ao.id",
        ))
        .unwrap();
    let (status, body) = a.post_item(&through_a).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        crate::support::output(&b.result(&through_a.id(), &process).await),
        process
    );

    // A scheduler no record locates: a clear refusal, nothing scheduled anywhere.
    let nobody = Ed25519Signer::from_secret([63; 32]).address();
    let lost = spawn_item(&me, &module, &nobody, &[]);
    let (status, body) = a.post_item(&lost).await;
    assert_eq!(status, 422, "{body}");
    let why = body["error"].as_str().unwrap();
    assert!(
        why.contains(&nobody) && why.contains("Scheduler-Location"),
        "{why}"
    );
    assert!(!holds(a, &lost.id()) && !holds(b, &lost.id()) && !holds(c, &lost.id()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_on_one_node_pays_a_process_on_another_and_both_notices_arrive() {
    let net = Net::start(2).await;
    let (a, b) = (net.node(0), net.node(1));
    let me = Ed25519Signer::from_secret([64; 32]);
    let token = spawn_trusting_all(&net, 0, &me).await;
    let alice = spawn_trusting_all(&net, 0, &me).await;
    let bob = spawn_trusting_all(&net, 1, &me).await;
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/lua/blueprints/token.lua"
    ))
    .unwrap();
    a.eval_ok(&me, &token, &source).await;
    a.eval_ok(&me, &token, &format!(r#"Balances["{alice}"] = "500""#))
        .await;
    b.eval_ok(
        &me,
        &bob,
        r#"Credits = {}
           Handlers.add("credit", Handlers.utils.hasMatchingTag("Action", "Credit-Notice"),
             function(m) Credits[#Credits + 1] = m.From .. " " .. m.Sender .. " " .. m.Quantity end)
           return "ok""#,
    )
    .await;
    let pay = a
        .send(
            &me,
            &alice,
            &[("Action", "Eval")],
            &format!(
                r#"Send({{ Target = "{token}", Action = "Transfer", Recipient = "{bob}", Quantity = "123" }})"#
            ),
        )
        .await;
    a.settle(&pay).await;
    // The debit notice stays on A; the credit notice crossed to B, and bob sees the token as its
    // sender because bob trusts A's node.
    let debit = a
        .eventually(
            &me,
            &alice,
            "local m = Inbox[#Inbox] return m and (m.Action .. ' ' .. m.Quantity .. ' ' .. m.From) or ''",
            &format!("Debit-Notice 123 {token}"),
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(debit, format!("Debit-Notice 123 {token}"));
    let credit = b
        .eventually(
            &me,
            &bob,
            "return table.concat(Credits, ';')",
            &format!("{token} {alice} 123"),
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(credit, format!("{token} {alice} 123"));
    assert_eq!(
        a.eval_ok(&me, &token, &format!(r#"return Balances["{bob}"]"#))
            .await,
        "123"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_does_not_list_a_node_sees_that_node_not_a_process_as_the_sender() {
    let net = Net::start(2).await;
    let (a, b) = (net.node(0), net.node(1));
    let me = Ed25519Signer::from_secret([65; 32]);
    let sender = spawn_trusting_all(&net, 0, &me).await;
    // Spawned by the test helper: only its own scheduler (B) is an authority.
    let wary = b.spawn(&me, "wary").await;
    b.eval_ok(
        &me,
        &wary,
        r#"Seen = ""
           Handlers.add("hello", Handlers.utils.hasMatchingTag("Action", "Hello"),
             function(m) Seen = m.From end)
           return "ok""#,
    )
    .await;
    a.eval_ok(
        &me,
        &sender,
        &format!(r#"Send({{ Target = "{wary}", Action = "Hello" }}) return "sent""#),
    )
    .await;
    let seen = b
        .eventually(
            &me,
            &wary,
            "return Seen",
            &net.address(0),
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(seen, net.address(0), "From-Process is not believed");
}

/// Counts `Hello`s, and the distinct ids of them, in `Got`/`Ids`.
const COUNT_HELLO_IDS: &str = r#"
    Got = 0
    Ids = {}
    Distinct = 0
    Handlers.add("hello", Handlers.utils.hasMatchingTag("Action", "Hello"), function(m)
      Got = Got + 1
      if not Ids[m.N] then Ids[m.N] = true Distinct = Distinct + 1 end
    end)
    return "ready"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_crank_gets_every_delivery_once_after_it_restarts() {
    let mut net = Net::start(2).await;
    let me = Ed25519Signer::from_secret([66; 32]);
    let sender = spawn_trusting_all(&net, 0, &me).await;
    let sink = spawn_trusting_all(&net, 1, &me).await;
    net.node(1).eval_ok(&me, &sink, COUNT_HELLO_IDS).await;
    let before = log_ids(net.node(1), &sink).len();
    const SENDS: usize = 60;
    let burst = net
        .node(0)
        .send(
            &me,
            &sender,
            &[("Action", "Eval")],
            &format!(
                r#"for i = 1, {SENDS} do Send({{ Target = "{sink}", Action = "Hello", N = tostring(i) }}) end"#
            ),
        )
        .await;
    // Kill B once some of the burst has landed, before all of it has.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while log_ids(net.node(1), &sink).len() < before + 3 {
        assert!(std::time::Instant::now() < deadline, "nothing arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let dir = net.crash(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    net.restart(1, dir).await;
    let b = net.node(1);
    let want = format!("{SENDS} {SENDS}");
    let got = b
        .eventually(
            &me,
            &sink,
            "return Got .. ' ' .. Distinct",
            &want,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(got, want, "every delivery arrived, none twice");
    net.node(0).settle(&burst).await;
    assert!(
        net.node(0)
            .node
            .messenger()
            .undeliverable()
            .unwrap()
            .is_empty()
    );
    // Still once each a moment later (no late duplicate).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        b.eval_ok(&me, &sink, "return Got .. ' ' .. Distinct").await,
        want
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_to_a_node_that_is_down_wait_and_others_go_at_once() {
    let mut net = Net::start(2).await;
    let me = Ed25519Signer::from_secret([67; 32]);
    let sender = spawn_trusting_all(&net, 0, &me).await;
    let local = spawn_trusting_all(&net, 0, &me).await;
    let remote = spawn_trusting_all(&net, 1, &me).await;
    net.node(0).eval_ok(&me, &local, COUNT_HELLOS).await;
    net.node(1).eval_ok(&me, &remote, COUNT_HELLOS).await;
    let dir = net.crash(1).await;

    let a = net.node(0);
    let both = a
        .send(
            &me,
            &sender,
            &[("Action", "Eval")],
            &format!(
                r#"Send({{ Target = "{remote}", Action = "Hello" }}) Send({{ Target = "{local}", Action = "Hello" }})"#
            ),
        )
        .await;
    let got = a
        .eventually(&me, &local, "Got", "1", Duration::from_secs(10))
        .await;
    assert_eq!(
        got, "1",
        "the local target is not held up by the one that is down"
    );
    // The crank waits for B, and says why.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let crank = loop {
        let (status, crank) = a.get(&format!("/mu/crank/{both}")).await;
        assert_eq!(status, 200, "{crank}");
        if crank["pending"][0]["reason"].is_string() {
            break crank;
        }
        assert!(std::time::Instant::now() < deadline, "{crank}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(crank["done"], false, "{crank}");
    assert_eq!(crank["undeliverable"], serde_json::json!([]), "{crank}");
    let pending = &crank["pending"][0];
    assert_eq!(pending["target"], remote, "{crank}");
    assert!(pending["attempts"].as_u64().unwrap() >= 1, "{crank}");
    let reason = pending["reason"].as_str().unwrap();
    assert!(
        reason.contains("cannot be reached") || reason.contains("cannot tell where"),
        "{reason}"
    );

    net.restart(1, dir).await;
    let b = net.node(1);
    let got = b
        .eventually(&me, &remote, "Got", "1", Duration::from_secs(30))
        .await;
    assert_eq!(got, "1", "delivered once the node is back");
    net.node(0).settle(&both).await;
    let (_, crank): (u16, Value) = net.node(0).get(&format!("/mu/crank/{both}")).await;
    assert_eq!(crank["done"], true, "{crank}");
    assert_eq!(crank["pending"], serde_json::json!([]), "{crank}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_whose_acknowledgement_was_lost_is_not_made_twice() {
    let net = Net::start(2).await;
    let (a, b) = (net.node(0), net.node(1));
    let me = Ed25519Signer::from_secret([68; 32]);
    let sender = spawn_trusting_all(&net, 0, &me).await;
    let sink = spawn_trusting_all(&net, 1, &me).await;
    b.eval_ok(&me, &sink, COUNT_HELLO_IDS).await;

    // A proxy in front of B that passes everything on but loses B's answer to the first item
    // posted: B has it, A does not know.
    let posts = Arc::new(AtomicUsize::new(0));
    let handler: Handler = {
        let (posts, b_url) = (posts.clone(), b.url.clone());
        Arc::new(move |method: String, path: String, body: Vec<u8>| {
            let (posts, url) = (posts.clone(), format!("{b_url}{path}"));
            Box::pin(async move {
                let http = reqwest::Client::new();
                let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
                let post = method == reqwest::Method::POST;
                let answer = http.request(method, url).body(body).send().await.unwrap();
                let status = answer.status().as_u16();
                let body = answer.bytes().await.unwrap().to_vec();
                if post && posts.fetch_add(1, Ordering::SeqCst) == 0 {
                    return (502, br#"{"error":"lost on the way"}"#.to_vec());
                }
                (status, body)
            }) as Answer
        })
    };
    let proxy = fake_server(handler).await;
    // B's own key signs a newer record sending A through the proxy.
    let b_key = Wallet::load(&b._dir.path().join("node-wallet.json")).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let record = SchedulerLocation::sign(
        b_key.ed25519_signer().unwrap(),
        &format!("{proxy}/su"),
        3_600_000,
        now + 1000,
    )
    .unwrap();
    assert!(
        a.node
            .info()
            .locations
            .offer(record, Some(&net.address(1)), now)
            .unwrap()
    );

    let hello = a
        .send(
            &me,
            &sender,
            &[("Action", "Eval")],
            &format!(r#"Send({{ Target = "{sink}", Action = "Hello", N = "1" }})"#),
        )
        .await;
    a.settle(&hello).await;
    assert!(posts.load(Ordering::SeqCst) >= 2, "A tried again");
    assert!(a.node.messenger().undeliverable().unwrap().is_empty());
    let got = b
        .eventually(
            &me,
            &sink,
            "return Got .. ' ' .. Distinct",
            "1 1",
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(got, "1 1", "delivered once");
    let hellos = log_ids(b, &sink).len();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(log_ids(b, &sink).len(), hellos, "and not again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_spawning_on_another_nodes_scheduler_gets_its_child_there() {
    let net = Net::start(2).await;
    let (a, b) = (net.node(0), net.node(1));
    let me = Ed25519Signer::from_secret([69; 32]);
    let parent = spawn_trusting_all(&net, 0, &me).await;
    let nobody = Ed25519Signer::from_secret([70; 32]).address();
    let spawns = a
        .send(
            &me,
            &parent,
            &[("Action", "Eval")],
            &format!(
                r#"Spawn(ao.env.Module.Id, {{ Scheduler = "{}", Name = "child" }})
                   Spawn(ao.env.Module.Id, {{ Scheduler = "{nobody}", Name = "lost" }})"#,
                net.address(1)
            ),
        )
        .await;
    a.settle(&spawns).await;
    let child = a
        .eventually(
            &me,
            &parent,
            r#"for _, m in ipairs(Inbox) do if m.Action == "Spawned" then return m.Process end end return """#,
            "",
            Duration::ZERO,
        )
        .await;
    assert!(!child.is_empty(), "the parent was told its child's id");
    assert!(holds(b, &child), "the child lives on B");
    assert!(!holds(a, &child));
    // Ownership is believed from the scheduler alone: B records the node that carried the
    // spawn (A) as the owner, not A's process (see docs/runtime-semantics.md).
    let record = b
        .node
        .messenger()
        .scheduler()
        .store()
        .process(&ProcessId::parse(&child).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(record.owner, net.address(0));
    assert!(
        record
            .tags
            .iter()
            .any(|t| t.name == "From-Process" && t.value == parent)
    );
    // The other names a scheduler nobody knows: given up, with the reason.
    let (_, crank) = a.get(&format!("/mu/crank/{spawns}")).await;
    let lost = crank["undeliverable"].as_array().unwrap();
    assert_eq!(lost.len(), 1, "{crank}");
    let reason = lost[0]["reason"].as_str().unwrap();
    assert!(reason.contains(&nobody), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_another_nodes_process_runs_its_ticks_on_that_node() {
    let net = Net::start(2).await;
    let (a, b) = (net.node(0), net.node(1));
    let me = Ed25519Signer::from_secret([72; 32]);
    let clock = b
        .spawn_tagged(&me, "clock", &[("Cron-Interval", "1-second")])
        .await;
    let monitor = |signer: &Ed25519Signer, method: reqwest::Method| {
        let body = crate::support::monitor_request(signer, &clock);
        let path = format!("/mu/monitor/{clock}");
        async move { a.request(method, &path, body).await }
    };
    let id = ProcessId::parse(&clock).unwrap();

    // Someone else's request is refused by B, and A says what B said.
    let stranger = Ed25519Signer::from_secret([73; 32]);
    let (status, body) = monitor(&stranger, reqwest::Method::POST).await;
    assert_eq!(status, 403, "{body}");
    assert!(b.node.messenger().monitored().is_empty());

    let (status, body) = monitor(&me, reqwest::Method::POST).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Cron initiated", "{body}");
    assert_eq!(b.node.messenger().monitored(), vec![id]);
    assert!(a.node.messenger().monitored().is_empty(), "A runs no ticks");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, page) = b.get(&format!("/cu/cron/{clock}")).await;
        assert_eq!(status, 200, "{page}");
        if page["edges"].as_array().unwrap().len() >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "B never ticked: {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (status, body) = monitor(&me, reqwest::Method::DELETE).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Cron stopped", "{body}");
    assert!(b.node.messenger().monitored().is_empty());
}
