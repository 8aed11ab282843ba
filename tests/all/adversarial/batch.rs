//! Crank bounds stop attacks, not batch work: an airdrop through a token completes.

use std::time::{Duration, Instant};

use aos_units::message::Ed25519Signer;

use crate::support::TestNode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_airdrop_of_many_transfers_completes_with_nothing_undeliverable() {
    const TRANSFERS: usize = 600;
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([101; 32]);
    let token = node.spawn(&me, "token").await;
    let treasury = node.spawn(&me, "treasury").await;
    let holder = node.spawn(&me, "holder").await;
    let blueprint = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/lua/blueprints/token.lua"
    ))
    .unwrap();
    node.eval_ok(&me, &token, &blueprint).await;
    node.eval_ok(
        &me,
        &token,
        &format!(r#"Balances["{treasury}"] = "1000000" return "funded""#),
    )
    .await;
    // One eval, 600 transfers: with their debit and credit notices, 1,800 deliveries in its
    // crank (the old per-crank cap of 1,000 reported two thirds of them undeliverable).
    let start = Instant::now();
    let id = node
        .send(
            &me,
            &treasury,
            &[("Action", "Eval")],
            &format!(
                r#"for i = 1, {TRANSFERS} do
                     Send({{ Target = "{token}", Action = "Transfer", Recipient = "{holder}", Quantity = "1" }})
                   end
                   return "sent""#
            ),
        )
        .await;
    let outcome = node
        .node
        .messenger()
        .crank_outcome(&id, Duration::from_secs(300))
        .await
        .unwrap()
        .expect("the airdrop's crank did not finish");
    eprintln!(
        "{TRANSFERS} transfers ({} deliveries) in {:?}",
        TRANSFERS * 3,
        start.elapsed()
    );
    assert!(outcome.is_empty(), "{:?}", &outcome[..outcome.len().min(3)]);
    let balance = node
        .eval_ok(&me, &token, &format!(r#"Balances["{holder}"]"#))
        .await;
    assert_eq!(balance, TRANSFERS.to_string());
    let (_, crank) = node.get(&format!("/mu/crank/{id}")).await;
    assert_eq!(crank["done"], true, "{crank}");
    assert_eq!(crank["undeliverable"], serde_json::json!([]), "{crank}");
}
