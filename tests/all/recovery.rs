//! What a restart has to redo, and what it never needs to.

use std::time::Duration;

use aos_units::message::Ed25519Signer;

use crate::support::{TestNode, output};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_never_runs_a_failed_message_again() {
    let node = TestNode::start_with(|config| config.vm.fuel_per_message = 500_000_000).await;
    let me = Ed25519Signer::from_secret([81; 32]);
    let process = node.spawn(&me, "looper").await;
    node.eval_ok(&me, &process, "Count = 1").await;
    let failed = node.eval(&me, &process, "while true do end").await;
    assert!(!failed["Error"].is_null(), "{failed}");
    node.eval_ok(&me, &process, "Count = Count + 1").await;
    let dir = node.crash().await;

    // Re-running the loop under this budget would take many minutes: the restart must replay
    // around it (it left no state) rather than through it.
    let node = TestNode::start_in(dir, |config| config.vm.fuel_per_message = u64::MAX / 4).await;
    let count = tokio::time::timeout(Duration::from_secs(60), node.eval(&me, &process, "Count"))
        .await
        .expect("the restart ran the endless loop again");
    assert_eq!(output(&count), "2");
}
