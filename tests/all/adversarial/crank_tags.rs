//! Crank bookkeeping tags (`Pushed-For`, `Crank-Depth`, `From-Process`) are the node's: on a
//! user's own item they are ordinary tags.

use std::time::Duration;

use aos_units::message::{Ed25519Signer, ItemDraft, Signer};

use crate::support::{COUNT_HELLOS, TestNode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_cannot_spend_another_users_crank_budget() {
    let node = TestNode::start_with(|config| config.crank.max_fanout = 3).await;
    let victim = Ed25519Signer::from_secret([51; 32]);
    let attacker = Ed25519Signer::from_secret([52; 32]);
    let sink = node.spawn(&victim, "sink").await;
    node.eval_ok(&victim, &sink, COUNT_HELLOS).await;
    let victims = node.spawn(&victim, "victims").await;
    // The victim's message, whose crank the attacker targets.
    let victim_msg = node
        .send(&victim, &victims, &[("Action", "Eval")], "return 1")
        .await;
    node.settle(&victim_msg).await;

    // The attacker's flood claims to belong to the victim's crank, at the deepest depth.
    let flooder = node.spawn(&attacker, "flooder").await;
    node.eval_ok(
        &attacker,
        &flooder,
        &format!(
            r#"Handlers.add("go", Handlers.utils.hasMatchingTag("Action", "Go"), function()
                 Send({{ Target = "{sink}", Action = "Hello" }})
               end)
               return "ok""#
        ),
    )
    .await;
    let mut flood = Vec::new();
    for _ in 0..4 {
        let item = attacker
            .sign(TestNode::draft(
                &flooder,
                &[
                    ("Action", "Go"),
                    ("Pushed-For", &victim_msg),
                    ("Crank-Depth", "32"),
                ],
                "",
            ))
            .unwrap();
        let (status, body) = node.post_item(&item).await;
        assert_eq!(status, 202, "{body}");
        flood.push(body["id"].as_str().unwrap().to_owned());
    }
    for id in &flood {
        node.settle(id).await;
    }
    // Believed, the depth tag would have made every send too deep; the Pushed-For tag would
    // have charged them to the victim's crank.
    let got = node
        .eventually(&victim, &sink, "Got", "4", Duration::from_secs(20))
        .await;
    assert_eq!(got, "4", "the flood's sends were refused as too deep");
    let lost = node.node.messenger().undeliverable().unwrap();
    assert!(lost.is_empty(), "{lost:?}");
    let (_, crank) = node.get(&format!("/mu/crank/{victim_msg}")).await;
    assert_eq!(crank["undeliverable"], serde_json::json!([]), "{crank}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_from_process_on_a_spawn_does_not_make_another_address_the_owner() {
    let node = TestNode::start().await;
    let victim = Ed25519Signer::from_secret([53; 32]);
    let attacker = Ed25519Signer::from_secret([54; 32]);
    let info = node.info().await;
    let spawn = attacker
        .sign(
            ItemDraft::new("")
                .tag("Data-Protocol", "ao")
                .tag("Variant", "ao.TN.1")
                .tag("Type", "Process")
                .tag("Name", "forged")
                .tag("Module", info["default_module"].as_str().unwrap())
                .tag("Scheduler", info["address"].as_str().unwrap())
                .tag("From-Process", victim.address()),
        )
        .unwrap();
    let (status, body) = node.post_item(&spawn).await;
    assert_eq!(status, 202, "{body}");
    let process = body["id"].as_str().unwrap().to_owned();
    // The attacker owns what the attacker spawned; the victim's address is no owner of it.
    assert_eq!(
        node.eval_ok(&attacker, &process, "Owner").await,
        attacker.address()
    );
    let victims = node
        .node
        .messenger()
        .scheduler()
        .processes_of(&victim.address(), None)
        .unwrap();
    assert!(victims.is_empty(), "{victims:?}");
}
