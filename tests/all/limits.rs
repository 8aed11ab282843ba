//! A process's own `Compute-Limit` and `Memory-Limit`, honoured within the node's caps.

use aos_units::message::Ed25519Signer;

use crate::support::{TestNode, output};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_million_step_loop_completes_under_the_default_budget() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([91; 32]);
    let process = node.spawn(&me, "cruncher").await;
    let sum = node
        .eval_ok(
            &me,
            &process,
            "local t = 0 for i = 1, 1e8 do t = t + i end return math.floor(t)",
        )
        .await;
    assert_eq!(sum, "5000000050000000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_compute_limit_stops_work_the_default_allows() {
    // A low node cap, so that the endless loop below ends fast.
    let node_cap = 2_000_000_000u64;
    let node = TestNode::start_with(|config| config.vm.fuel_per_message = node_cap).await;
    let me = Ed25519Signer::from_secret([92; 32]);
    let work = "local t = 0 for i = 1, 1e6 do t = t + i end return math.floor(t)";
    let plain = node.spawn(&me, "plain").await;
    assert_eq!(node.eval_ok(&me, &plain, work).await, "500000500000");

    let frugal = node
        .spawn_tagged(&me, "frugal", &[("Compute-Limit", "50000000")])
        .await;
    let stopped = node.eval(&me, &frugal, work).await;
    let error = stopped["Error"].as_str().unwrap_or_default();
    assert!(error.contains("fuel (limit 50000000)"), "{stopped}");
    // Small work still fits, and the failed message left no trace.
    assert_eq!(node.eval_ok(&me, &frugal, "6 * 7").await, "42");

    // A limit above the node's cap is the cap: the loop guard still stops an endless loop.
    let greedy = node
        .spawn_tagged(&me, "greedy", &[("Compute-Limit", "18446744073709551615")])
        .await;
    let forever = node.eval(&me, &greedy, "while true do end").await;
    assert_eq!(forever["GasUsed"], node_cap, "{forever}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_limit_is_honoured_below_the_node_cap_and_clamped_above_it() {
    let node = TestNode::start_with(|config| config.vm.memory_limit = 96 << 20).await;
    let me = Ed25519Signer::from_secret([93; 32]);
    let forty = "X = string.rep('x', 40 * 1024 * 1024) return #X";

    let small = node
        .spawn_tagged(&me, "small", &[("Memory-Limit", "32-mb")])
        .await;
    let refused = node.eval(&me, &small, forty).await;
    assert!(
        refused["Error"]
            .as_str()
            .unwrap_or_default()
            .contains("memory"),
        "{refused}"
    );
    assert_eq!(node.eval_ok(&me, &small, "X == nil").await, "true");

    let big = node
        .spawn_tagged(&me, "big", &[("Memory-Limit", "16-gb")])
        .await;
    assert_eq!(node.eval_ok(&me, &big, forty).await, (40 << 20).to_string());
    let bomb = node
        .eval(
            &me,
            &big,
            "Y = string.rep('y', 100 * 1024 * 1024) return #Y",
        )
        .await;
    assert!(
        bomb["Error"]
            .as_str()
            .unwrap_or_default()
            .contains("memory"),
        "{bomb}"
    );
    assert_eq!(
        output(&node.eval(&me, &big, "#X").await),
        (40 << 20).to_string()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawn_with_limits_that_are_not_limits_is_refused_with_the_reason() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([94; 32]);
    for (tag, value, says) in [
        ("Compute-Limit", "lots", "bad Compute-Limit"),
        ("Compute-Limit", "0", "bad Compute-Limit"),
        ("Memory-Limit", "3-parsecs", "bad Memory-Limit"),
        ("Memory-Limit", "1-kb", "below"),
    ] {
        let (status, body) = node.spawn_status(&me, "odd", &[(tag, value)]).await;
        assert_eq!(status, 400, "{tag}={value}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{tag}={value}: {body}");
    }
}
