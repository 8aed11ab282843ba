//! Dry-runs are unsigned and anyone may send them: they must not hold up a process's real
//! messages, however many loop forever.

use std::time::{Duration, Instant};

use aos_units::message::Ed25519Signer;
use serde_json::json;

use crate::support::TestNode;

async fn eval_round_trip(node: &TestNode, me: &Ed25519Signer, process: &str) -> Duration {
    let mut times = Vec::new();
    for i in 0..5 {
        let start = Instant::now();
        assert_eq!(
            node.eval_ok(me, process, &format!("{i} + 1")).await,
            (i + 1).to_string()
        );
        times.push(start.elapsed());
    }
    times.sort();
    times[2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn looping_dry_runs_do_not_hold_up_the_owners_eval() {
    // A tenth of the default budget keeps the test short; the loops still burn all of it.
    let node = TestNode::start_with(|config| config.vm.fuel_per_message = 1_000_000_000).await;
    let me = Ed25519Signer::from_secret([71; 32]);
    let process = node.spawn(&me, "victim").await;
    let unloaded = eval_round_trip(&node, &me, &process).await;

    // 16 clients looping, posing as the owner (dry-runs are unsigned), over and over.
    let url = format!("{}/cu/dry-run?process-id={process}", node.url);
    let body = json!({
        "Owner": me.address(),
        "Tags": [{"name": "Action", "value": "Eval"}],
        "Data": "while true do end",
    });
    let stop = Instant::now() + Duration::from_secs(6);
    let mut flood = Vec::new();
    for _ in 0..16 {
        let (http, url, body) = (node.http.clone(), url.clone(), body.clone());
        flood.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while Instant::now() < stop {
                let response = http.post(&url).json(&body).send().await.unwrap();
                statuses.push(response.status().as_u16());
                let answer: serde_json::Value = response.json().await.unwrap();
                assert!(answer.is_object(), "{answer}");
                // A bounded flood: a refused client comes back a little later, as clients do.
                if statuses.last() == Some(&429) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            statuses
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let loaded = eval_round_trip(&node, &me, &process).await;
    let mut statuses = Vec::new();
    for task in flood {
        statuses.extend(task.await.unwrap());
    }
    eprintln!(
        "owner's Eval round trip: unloaded {unloaded:?}, under 16 looping dry-runs {loaded:?}"
    );
    // Beyond a few per process, dry-runs are refused rather than queued.
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(
        loaded <= unloaded * 2 + Duration::from_millis(150),
        "unloaded {unloaded:?}, loaded {loaded:?}"
    );
    // And the process kept its state: the loops changed nothing.
    assert_eq!(node.eval_ok(&me, &process, "1 + 1").await, "2");
}
