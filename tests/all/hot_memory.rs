//! The compute unit's hot set is budgeted by bytes: least recently used processes are
//! checkpointed and evicted, and come back with the same state.

use aos_units::message::Ed25519Signer;
use aos_units::store::ProcessId;
use serde_json::Value;

use crate::support::TestNode;

const BUDGET: u64 = 64 << 20;

/// The hot set as `GET /cu/` shows it: (processes, bytes, budget).
async fn hot(node: &TestNode) -> (u64, u64, u64) {
    let (status, info) = node.get("/cu/").await;
    assert_eq!(status, 200, "{info}");
    let hot = &info["Hot"];
    let n = |k: &str| hot[k].as_u64().unwrap_or_else(|| panic!("{info}"));
    (n("processes"), n("bytes"), n("budget"))
}

/// The hot set once the evaluations in flight have ended: the budget is restored as each use of
/// a process ends (the MU's own read of a result may still be running when the answer is in).
async fn settled_hot(node: &TestNode) -> (u64, u64, u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let hot = hot(node).await;
        if hot.1 <= hot.2 || std::time::Instant::now() > deadline {
            return hot;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn checkpoint_slot(node: &TestNode, process: &str) -> Option<u64> {
    let id = ProcessId::parse(process).unwrap();
    node.node
        .messenger()
        .compute()
        .checkpoint_slot(&id)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hot_set_stays_within_its_memory_budget_and_evicted_processes_keep_their_state() {
    let node = TestNode::start_with(|config| {
        config.cu.hot_memory = BUDGET;
        // Only eviction writes checkpoints here.
        config.cu.checkpoint_interval = None;
    })
    .await;
    let me = Ed25519Signer::from_secret([95; 32]);
    let mut processes = Vec::new();
    for i in 0..5 {
        let process = node.spawn(&me, &format!("grower-{i}")).await;
        let grown = node
            .eval_ok(
                &me,
                &process,
                &format!("Which = {i} Big = string.rep('x', 8 * 1024 * 1024) return #Big"),
            )
            .await;
        assert_eq!(grown, (8 << 20).to_string());
        let (count, bytes, budget) = settled_hot(&node).await;
        assert_eq!(budget, BUDGET);
        assert!(bytes <= BUDGET, "{count} hot processes hold {bytes} bytes");
        processes.push(process);
    }
    let (count, bytes, _) = settled_hot(&node).await;
    assert!(count < 5, "nothing was evicted: {count} hot, {bytes} bytes");
    // Every evicted process was checkpointed at its last slot (the eval, slot 1) first.
    let checkpointed = processes
        .iter()
        .filter(|p| checkpoint_slot(&node, p) == Some(1))
        .count();
    assert!(
        checkpointed as u64 >= 5 - count,
        "{checkpointed} checkpointed"
    );

    // Each answers with its own state, however often the others push it out.
    for round in 0..2 {
        for (i, process) in processes.iter().enumerate() {
            let answer = node
                .eval_ok(&me, process, "return Which .. ':' .. #Big")
                .await;
            assert_eq!(answer, format!("{i}:{}", 8 << 20), "round {round}");
            let (count, bytes, _) = settled_hot(&node).await;
            assert!(bytes <= BUDGET, "{count} hot processes hold {bytes} bytes");
        }
    }

    // One process bigger than the whole budget still runs; it is the first to go once idle.
    let giant = node.spawn(&me, "giant").await;
    // Its string alone is bigger than the budget.
    let big = 66 << 20;
    let grown = node
        .eval_ok(
            &me,
            &giant,
            &format!("Huge = string.rep('h', {big}) return #Huge"),
        )
        .await;
    assert_eq!(grown, big.to_string());
    let (count, bytes, _) = settled_hot(&node).await;
    assert!(bytes <= BUDGET, "{count} hot processes hold {bytes} bytes");
    assert_eq!(checkpoint_slot(&node, &giant), Some(1));
    let again: Value = node.eval(&me, &giant, "return #Huge").await;
    assert!(again["Error"].is_null(), "{again}");
    assert_eq!(crate::support::output(&again), big.to_string());
}
