//! A send the node cannot make must not stop the node's other deliveries.

use std::time::Duration;

use aos_units::message::Ed25519Signer;

use crate::support::{COUNT_HELLOS, TestNode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_the_node_cannot_make_are_reported_and_every_other_delivery_goes_on() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([41; 32]);
    let wedger = node.spawn(&me, "wedger").await;
    let bystander = node.spawn(&me, "bystander").await;
    node.eval_ok(&me, &bystander, COUNT_HELLOS).await;

    // Each of these once stopped every delivery on the node, for good: a tag value over the
    // item limit, more tags than an item may carry, and a spawn the scheduler refuses.
    let code = format!(
        r#"
        Send({{ Target = ao.id, Big = string.rep("x", 4000) }})
        local many = {{ Target = ao.id }}
        for i = 1, 130 do many["Tag-" .. i] = "v" end
        Send(many)
        Spawn(ao.env.Module.Id, {{ ["Cron-Interval"] = "banana" }})
        Send({{ Target = "{bystander}", Action = "Hello" }})
        return "sent"
        "#
    );
    let id = node.send(&me, &wedger, &[("Action", "Eval")], &code).await;
    let got = node
        .eventually(&me, &bystander, "Got", "1", Duration::from_secs(20))
        .await;
    assert_eq!(
        got, "1",
        "the good send behind the bad ones was not delivered"
    );

    let (status, crank) = node.get(&format!("/mu/crank/{id}")).await;
    assert_eq!(status, 200, "{crank}");
    assert_eq!(crank["done"], true, "{crank}");
    let lost = crank["undeliverable"].as_array().unwrap();
    assert_eq!(lost.len(), 3, "{crank}");
    let reasons: Vec<&str> = lost.iter().map(|u| u["reason"].as_str().unwrap()).collect();
    assert!(reasons.iter().any(|r| r.contains("3072")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("128")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("banana")), "{reasons:?}");

    // And later messages, from anyone, still flow.
    let other = Ed25519Signer::from_secret([42; 32]);
    let sender = node.spawn(&other, "later").await;
    node.eval_ok(
        &other,
        &sender,
        &format!(r#"Send({{ Target = "{bystander}", Action = "Hello" }}) return "ok""#),
    )
    .await;
    let got = node
        .eventually(&me, &bystander, "Got", "2", Duration::from_secs(20))
        .await;
    assert_eq!(got, "2");
}
