//! Cranking: what processes send each other is delivered recursively, and bounded.

use aos_units::message::{Ed25519Signer, Signer};

use crate::support::TestNode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_pong_stops_at_the_depth_bound() {
    let node = TestNode::start_with(|config| config.crank.max_depth = 6).await;
    let me = Ed25519Signer::from_secret([13; 32]);
    let a = node.spawn(&me, "ping").await;
    let b = node.spawn(&me, "pong").await;
    // Each answers every Ping with a Ping back and counts what it got.
    let handler = r#"
        Count = Count or 0
        Handlers.add("ping", Handlers.utils.hasMatchingTag("Action", "Ping"), function(msg)
          Count = Count + 1
          Send({ Target = msg.From, Action = "Ping" })
        end)
        return "ok"
    "#;
    node.eval(&me, &a, handler).await;
    node.eval(&me, &b, handler).await;
    let kick = node
        .eval(
            &me,
            &a,
            &format!(r#"Send({{ Target = "{b}", Action = "Ping" }}) return "sent""#),
        )
        .await;
    assert!(kick["Error"].is_null(), "{kick}");
    // The crank ends by itself because of the bound; wait for its one undeliverable message.
    for _ in 0..200 {
        if !node.node.messenger().undeliverable().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let undeliverable = node.node.messenger().undeliverable().unwrap();
    assert_eq!(undeliverable.len(), 1, "{undeliverable:?}");
    assert!(
        undeliverable[0].reason.contains("crank depth"),
        "{undeliverable:?}"
    );
    let count_a: u64 = crate::support::output(&node.eval(&me, &a, "Count").await)
        .parse()
        .unwrap();
    let count_b: u64 = crate::support::output(&node.eval(&me, &b, "Count").await)
        .parse()
        .unwrap();
    // depth 1 reaches b, depth 2 reaches a, … up to depth 6.
    assert_eq!(count_a + count_b, 6, "a={count_a} b={count_b}");
    // The ended crank's fan-out count is forgotten: a long-running node does not pile them up.
    let mu = node.node.messenger();
    for _ in 0..100 {
        if mu.cranks_in_progress() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(mu.cranks_in_progress(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_transfer_between_processes_notifies_both_sides() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([14; 32]);
    let token = node.spawn(&me, "token").await;
    let wallet = node.spawn(&me, "wallet").await;
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/lua/blueprints/token.lua"
    ))
    .unwrap();
    let loaded = node.eval(&me, &token, &source).await;
    assert!(loaded["Error"].is_null(), "{loaded}");
    // The wallet process keeps what it is told.
    node.eval(&me, &wallet, r#"Notices = {} Handlers.add("notice", function(m) return m.Action == "Credit-Notice" end, function(m) table.insert(Notices, m.Quantity .. " from " .. m.Sender) end) return "ok""#).await;
    // The token process sends the transfer on its owner's behalf... by Eval, as its own message.
    let transfer = node
        .eval(
            &me,
            &token,
            &format!(r#"Balances["{me}"] = "500" return "ok""#, me = me.address()),
        )
        .await;
    assert!(transfer["Error"].is_null(), "{transfer}");
    let id = node
        .send(
            &me,
            &token,
            &[
                ("Action", "Transfer"),
                ("Recipient", &wallet),
                ("Quantity", "123"),
            ],
            "",
        )
        .await;
    let result = node.result(&id, &token).await;
    assert!(result["Error"].is_null(), "{result}");
    let actions: Vec<(String, String)> = result["Messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let action = m["Tags"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["name"] == "Action")
                .unwrap()["value"]
                .as_str()
                .unwrap()
                .to_owned();
            (action, m["Target"].as_str().unwrap().to_owned())
        })
        .collect();
    assert!(
        actions.contains(&("Debit-Notice".to_owned(), me.address())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("Credit-Notice".to_owned(), wallet.clone())),
        "{actions:?}"
    );
    node.settle(&id).await;
    let notices =
        crate::support::output(&node.eval(&me, &wallet, "table.concat(Notices, ';')").await);
    assert_eq!(notices, format!("123 from {}", me.address()));
    let balance = crate::support::output(
        &node
            .eval(&me, &token, &format!(r#"Balances["{wallet}"]"#))
            .await,
    );
    assert_eq!(balance, "123");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_node_lets_go_of_its_store() {
    // The messenger's background tasks must not keep each other (and the store) alive.
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut config = aos::NodeConfig::new(dir.path());
        config.vm.cache_dir = Some(crate::support::shared_cache_dir());
        config
    };
    let node = aos::Node::open(config()).unwrap();
    let me = Ed25519Signer::from_secret([15; 32]);
    let spawn = me
        .sign(aos_units::message::ItemDraft::new("").tag("Type", "Process"))
        .unwrap();
    let submitted = node.messenger().submit_item(&spawn).await.unwrap();
    assert_eq!(submitted.slot, 0);
    drop(node);
    let started = std::time::Instant::now();
    loop {
        match aos::Node::open(config()) {
            Ok(_) => break,
            Err(e) if started.elapsed() < std::time::Duration::from_secs(5) => {
                let _ = e;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the store is still held 5 s after the node was dropped: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_crank_covers_the_message_still_being_computed() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([16; 32]);
    let sender = node.spawn(&me, "slow-sender").await;
    let receiver = node.spawn(&me, "receiver").await;
    node.eval(
        &me,
        &receiver,
        "Got = 0 Handlers.add('n', 'Note', function() Got = Got + 1 end)",
    )
    .await;
    // Posted and waited on at once: the Eval is still running when the wait starts, so nothing
    // it sends is in the outbox yet — the wait must not take that for "delivered".
    let slow = format!(
        r#"local x = 0 for i = 1, 5000000 do x = x + i end
           Send({{ Target = "{receiver}", Action = "Note" }})"#
    );
    let id = node.send(&me, &sender, &[("Action", "Eval")], &slow).await;
    node.settle(&id).await;
    let got = crate::support::output(&node.eval(&me, &receiver, "Got").await);
    assert_eq!(got, "1");
}
