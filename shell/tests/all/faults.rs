//! Faults: `kill -9` in the middle of a stream of messages loses nothing that was acknowledged,
//! and the state recomputed after restart equals a clean replay of the log; SIGTERM stops the
//! node gracefully, with a checkpoint.

use std::time::Duration;

use aos_units::message::{Ed25519Signer, ItemDraft, Signer, b64};
use serde_json::Value;

use crate::batch::start_node;

async fn post(http: &reqwest::Client, url: &str, bytes: Vec<u8>) -> Option<Value> {
    let response = http
        .post(format!("{url}/mu"))
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    (response.status().as_u16() == 202).then_some(())?;
    response.json().await.ok()
}

/// Spawns a process for `me` on the node at `url` (its default module); returns the process id.
async fn spawn(http: &reqwest::Client, url: &str, me: &Ed25519Signer) -> String {
    let info: Value = http
        .get(format!("{url}/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let spawn = me
        .sign(
            ItemDraft::new("")
                .tag("Data-Protocol", "ao")
                .tag("Variant", "ao.TN.1")
                .tag("Type", "Process")
                .tag("Module", info["default_module"].as_str().unwrap())
                .tag("Scheduler", info["address"].as_str().unwrap()),
        )
        .unwrap();
    post(http, url, spawn.to_bytes()).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_stream_loses_no_acknowledged_message() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let (mut node, url) = start_node(&data, home.path());
    let http = reqwest::Client::new();
    let me = Ed25519Signer::from_secret([21; 32]);
    let process = spawn(&http, &url, &me).await;
    let target = b64::decode_32(&process).unwrap();

    // Post a stream from a task; kill the node while requests are in flight.
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let poster = {
        let (http, url, acked, me) = (http.clone(), url.clone(), acked.clone(), me.clone());
        tokio::spawn(async move {
            for n in 0..100_000 {
                let item = me
                    .sign(
                        ItemDraft::new(format!(
                            "Count = (Count or 0) + 1 Seen = (Seen or '') .. ',{n}'"
                        ))
                        .tag("Data-Protocol", "ao")
                        .tag("Type", "Message")
                        .tag("Action", "Eval")
                        .target(target),
                    )
                    .unwrap();
                match post(&http, &url, item.to_bytes()).await {
                    Some(body) => acked
                        .lock()
                        .unwrap()
                        .push(body["id"].as_str().unwrap().to_owned()),
                    None => break,
                }
            }
        })
    };
    while acked.lock().unwrap().len() < 150 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    node.kill().unwrap(); // SIGKILL: no shutdown, no checkpoint
    node.wait().unwrap();
    poster.await.unwrap();
    let acknowledged = acked.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 100,
        "only {} acknowledged",
        acknowledged.len()
    );

    let (mut node, url) = start_node(&data, home.path());
    let page: Value = http
        .get(format!("{url}/su/{process}?limit=1000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let logged: Vec<String> = page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1) // the spawn
        .map(|e| e["node"]["message"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        logged.len() >= acknowledged.len(),
        "{} logged < {} acknowledged",
        logged.len(),
        acknowledged.len()
    );
    assert_eq!(
        &logged[..acknowledged.len()],
        &acknowledged[..],
        "acknowledged messages in order"
    );

    // Recomputed state: every logged message counted once, in log order.
    let probe = me
        .sign(
            ItemDraft::new("return Count .. ' ' .. Seen")
                .tag("Data-Protocol", "ao")
                .tag("Type", "Message")
                .tag("Action", "Eval")
                .target(target),
        )
        .unwrap();
    let id = post(&http, &url, probe.to_bytes()).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let result: Value = http
        .get(format!("{url}/cu/result/{id}?process-id={process}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = result["Output"]["data"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let expected_seen: String = (0..logged.len()).map(|n| format!(",{n}")).collect();
    assert_eq!(
        text,
        format!("{} {expected_seen}", logged.len()),
        "{result}"
    );
    node.kill().unwrap();
    node.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_checkpoints_and_releases_the_store() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let (mut node, url) = start_node(&data, home.path());
    let http = reqwest::Client::new();
    let me = Ed25519Signer::from_secret([22; 32]);
    let ao = |draft: ItemDraft| me.sign(draft.tag("Data-Protocol", "ao")).unwrap();
    let process = spawn(&http, &url, &me).await;
    let mut last = String::new();
    for n in 1..=5 {
        let item = ao(ItemDraft::new(format!("N = {n}"))
            .tag("Type", "Message")
            .tag("Action", "Eval")
            .target(b64::decode_32(&process).unwrap()));
        last = post(&http, &url, item.to_bytes()).await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    let computed = http
        .get(format!("{url}/cu/result/{last}?process-id={process}"))
        .send()
        .await
        .unwrap();
    assert_eq!(computed.status(), 200);

    let status = std::process::Command::new("kill")
        .args(["-TERM", &node.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut exit = None;
    for _ in 0..200 {
        exit = node.try_wait().unwrap();
        if exit.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let exit = exit.expect("the node did not stop within 10 s of SIGTERM");
    assert!(exit.success(), "{exit:?}");
    assert!(
        !data.join("node.url").exists(),
        "the node's URL file is left"
    );

    // The store is free, and holds a checkpoint at the last slot: the first 1,000-message
    // checkpoint is far off, so only the shutdown wrote it.
    let reopened = aos::Node::open(aos::NodeConfig::new(&data)).unwrap();
    let id = aos_units::store::ProcessId::parse(&process).unwrap();
    assert_eq!(
        reopened.messenger().compute().checkpoint_slot(&id).unwrap(),
        Some(5)
    );
}
