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

/// Dry-runs reuse a scratch copy of the process between them (issue 16): each must still see the
/// process as it is at that moment, never what an earlier dry-run changed in the copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_dry_run_sees_the_current_state_and_none_sees_another_dry_runs_changes() {
    let node = TestNode::start_with(|config| config.vm.fuel_per_dry_run = 50_000_000).await;
    let me = Ed25519Signer::from_secret([72; 32]);
    let process = node.spawn(&me, "reader").await;
    let dry = |code: &'static str| {
        let (http, url) = (
            node.http.clone(),
            format!("{}/cu/dry-run?process-id={process}", node.url),
        );
        let body = json!({
            "Owner": me.address(),
            "Tags": [{"name": "Action", "value": "Eval"}],
            "Data": code,
        });
        async move {
            let answer: serde_json::Value = http
                .post(&url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            answer
        }
    };
    node.eval_ok(&me, &process, "X = 1").await;
    for _ in 0..3 {
        assert_eq!(
            crate::support::output(&dry("X = X + 100 return X").await),
            "101"
        );
    }
    node.eval_ok(&me, &process, "X = X + 1").await;
    assert_eq!(crate::support::output(&dry("return X").await), "2");
    // A dry-run that runs out of fuel and one that fails leave the next one a good copy.
    let stuck = dry("X = 7 while true do end").await;
    assert!(
        stuck["Error"].as_str().is_some_and(|e| e.contains("fuel")),
        "{stuck}"
    );
    let failed = dry("X = 8 error('no')").await;
    assert!(
        !failed["Error"].is_null() || failed.to_string().contains("no"),
        "{failed}"
    );
    assert_eq!(crate::support::output(&dry("return X").await), "2");
    // Longer than the slice a dry-run first gets on an async worker: it answers all the same
    // (run again with its whole budget), and from the state as it is.
    let long =
        dry("X = X + 1 local s = 0 for i = 1, 200000 do s = s + i end return X .. ':' .. s").await;
    assert_eq!(crate::support::output(&long), "3:20000100000", "{long}");
    let gas = long["GasUsed"].as_u64().unwrap_or(0);
    assert!(gas > aos_units::cu::DRY_RUN_SLICE, "GasUsed {gas}: {long}");
    assert_eq!(crate::support::output(&dry("return X").await), "2");
    assert_eq!(node.eval_ok(&me, &process, "X").await, "2");
}
