//! Deliveries to different targets do not wait for each other, and acknowledged messages are
//! computed (and their sends delivered) after a crash without anyone reading them.

use std::time::{Duration, Instant};

use aos_units::message::{Ed25519Signer, Signer};

use crate::support::{COUNT_HELLOS, TestNode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slow_target_does_not_delay_deliveries_to_others() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([61; 32]);
    let slow = node.spawn(&me, "slow").await;
    let fast = node.spawn(&me, "fast").await;
    let sender = node.spawn(&me, "sender").await;
    // Each Work message burns a good share of a second.
    node.eval_ok(
        &me,
        &slow,
        r#"Done = 0
           Handlers.add("work", Handlers.utils.hasMatchingTag("Action", "Work"), function()
             local x = 0
             for i = 1, 3000000 do x = x + i % 7 end
             Done = Done + 1
           end)
           return "ok""#,
    )
    .await;
    node.eval_ok(&me, &fast, COUNT_HELLOS).await;
    let start = Instant::now();
    node.eval_ok(
        &me,
        &sender,
        &format!(
            r#"for i = 1, 40 do Send({{ Target = "{slow}", Action = "Work" }}) end
               Send({{ Target = "{fast}", Action = "Hello" }})
               return "sent""#
        ),
    )
    .await;
    let got = node
        .eventually(&me, &fast, "Got", "1", Duration::from_secs(60))
        .await;
    let fast_after = start.elapsed();
    assert_eq!(got, "1");
    let done_then: u64 = node.eval_ok(&me, &slow, "Done").await.parse().unwrap();
    let done = node
        .eventually(&me, &slow, "Done", "40", Duration::from_secs(120))
        .await;
    let slow_after = start.elapsed();
    eprintln!("fast target served after {fast_after:?}; slow one done after {slow_after:?}");
    assert_eq!(done, "40");
    assert!(
        done_then < 40,
        "the fast target's message waited for all 40 slow ones ({fast_after:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_crash_acknowledged_messages_are_computed_and_their_sends_delivered() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([62; 32]);
    let sender = node.spawn(&me, "sender").await;
    let receiver = node.spawn(&me, "receiver").await;
    node.eval_ok(&me, &receiver, COUNT_HELLOS).await;
    // Acknowledged (in the log) but never computed: as if the node died right after the append.
    let eval = me
        .sign(TestNode::draft(
            &sender,
            &[("Action", "Eval")],
            &format!(r#"Send({{ Target = "{receiver}", Action = "Hello" }})"#),
        ))
        .unwrap();
    node.node
        .messenger()
        .scheduler()
        .schedule(&eval, None)
        .await
        .unwrap();
    let dir = node.crash().await;

    let node = TestNode::start_in(dir, |_| {}).await;
    // Nobody reads the sender: the restarted node computes it by itself.
    let got = node
        .eventually(&me, &receiver, "Got", "1", Duration::from_secs(20))
        .await;
    assert_eq!(got, "1");
}
