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

/// A dry-run of `code` as an Eval from `me`, and its answer.
async fn dry_eval(
    node: &TestNode,
    process: &str,
    me: &Ed25519Signer,
    code: String,
) -> serde_json::Value {
    let body = json!({
        "Owner": me.address(),
        "Tags": [{"name": "Action", "value": "Eval"}],
        "Data": code,
    });
    node.http
        .post(format!("{}/cu/dry-run?process-id={process}", node.url))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Dry-runs reuse a scratch copy of the process between them (issue 16): each must still see the
/// process as it is at that moment, never what an earlier dry-run changed in the copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_dry_run_sees_the_current_state_and_none_sees_another_dry_runs_changes() {
    let node = TestNode::start_with(|config| config.vm.fuel_per_dry_run = 50_000_000).await;
    let me = Ed25519Signer::from_secret([72; 32]);
    let process = node.spawn(&me, "reader").await;
    let dry = |code: &'static str| dry_eval(&node, &process, &me, code.to_owned());
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

/// A process of more than 4 MiB has its dry-run copy refreshed from the pages the kernel says
/// either side wrote (issue 16): with messages and dry-runs interleaved, each dry-run still sees
/// the process exactly as it is, and nothing a dry-run wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_runs_of_a_big_process_between_its_messages_see_each_message_and_no_dry_run() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([73; 32]);
    let process = node.spawn(&me, "big").await;
    node.eval_ok(
        &me,
        &process,
        // Room in the heap first, so that the dry-runs below need no more memory than the
        // process has (a copy that outgrew it is replaced, not refreshed).
        "local r = string.rep('r', 4 * 1024 * 1024) r = nil collectgarbage() \
         Big = string.rep('b', 6 * 1024 * 1024) T = {} X = 0 \
         Wide = {} for k = 1, 200000 do Wide[k] = k end return #Big",
    )
    .await;
    for i in 1..=6 {
        // The message also writes pages of `Wide` that no dry-run and no earlier message wrote:
        // only the process's record of what it wrote can bring those into the copy.
        node.eval_ok(
            &me,
            &process,
            &format!(
                "X = X + 1 T[{i}] = string.rep('t', 5000) \
                 for j = {i} - 1, 199, 6 do Wide[500 + 1000 * j] = 501 + 1000 * j end"
            ),
        )
        .await;
        // Each dry-run changes state all over its copy: none of it may reach the next one.
        // `Wide` is spread over pages no message writes: only the copy's own record of what
        // it wrote can undo these.
        let answer = dry_eval(
            &node,
            &process,
            &me,
            "local s = 0 for k = 1, #Wide, 1000 do s = s + Wide[k] Wide[k] = -1 end \
             local m = 0 for k = 500, #Wide, 1000 do m = m + Wide[k] end \
             local seen = X .. ':' .. #T .. ':' .. tostring(Dry) .. ':' .. s .. ':' .. m \
             X = -1 Dry = true for j = 1, 10 do T[#T + 1] = string.rep('d', 3000) end \
             return seen"
                .to_owned(),
        )
        .await;
        assert_eq!(
            crate::support::output(&answer),
            format!(
                "{i}:{i}:nil:19900200:{}",
                20_000_000 + 34 * i.min(2) + 33 * (i.max(2) - 2)
            ),
            "{answer}"
        );
    }
    assert_eq!(node.eval_ok(&me, &process, "X .. ':' .. #T").await, "6:6");
}
