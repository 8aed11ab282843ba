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

/// The ids of the messages in `process`'s log on the node at `url`, after its spawn.
async fn logged_messages(http: &reqwest::Client, url: &str, process: &str) -> Vec<String> {
    let page: Value = http
        .get(format!("{url}/su/{process}?limit=1000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1) // the spawn
        .map(|e| e["node"]["message"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Posts `code` as `me`'s Eval to `process` on the node at `url` and returns its result.
async fn eval_result(
    http: &reqwest::Client,
    url: &str,
    me: &Ed25519Signer,
    process: &str,
    code: &str,
) -> Value {
    let probe = me
        .sign(
            ItemDraft::new(code)
                .tag("Data-Protocol", "ao")
                .tag("Type", "Message")
                .tag("Action", "Eval")
                .target(b64::decode_32(process).unwrap()),
        )
        .unwrap();
    let id = post(http, url, probe.to_bytes()).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    http.get(format!("{url}/cu/result/{id}?process-id={process}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
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
    let logged = logged_messages(&http, &url, &process).await;
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
    let result = eval_result(&http, &url, &me, &process, "return Count .. ' ' .. Seen").await;
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

/// The shell script behind [`a_full_disk_makes_the_node_exit_3_and_a_restart_loses_nothing`]: a
/// small tmpfs as the data dir (in a user and mount namespace of its own, so no privileges are
/// needed), the node on it, the rest of the space filled on cue, the exit code printed, the
/// space given back and the node started again on the same data, as a supervisor would.
const FULL_DISK_SCRIPT: &str = r#"
set -u
data="$1"; cue="$2"; aos="$3"
mount -t tmpfs -o size=48m tmpfs "$data" || exit 97
"$aos" node --listen 127.0.0.1:0 --data-dir "$data" &
node=$!
read go < "$cue"
dd if=/dev/zero of="$data/filler" bs=64k 2>/dev/null
echo filled
wait $node
echo "exit=$?"
rm -f "$data/filler"
exec "$aos" node --listen 127.0.0.1:0 --data-dir "$data"
"#;

/// Issue 17, item 7: once the disk is full the node says so (`GET /` 503), exits with code 3
/// instead of serving on with a store that takes no writes, and a restart once space is back
/// has every acknowledged message, in order, computed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_makes_the_node_exit_3_and_a_restart_loses_nothing() {
    let namespaces = std::process::Command::new("unshare")
        .args(["-rm", "true"])
        .status();
    if !namespaces.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: this machine gives no user namespaces (unshare -rm), so no small disk");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let cue = home.path().join("cue");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&cue)
            .status()
            .unwrap()
            .success()
    );
    let mut script = std::process::Command::new("unshare")
        .args(["-rm", "sh", "-c", FULL_DISK_SCRIPT, "sh"])
        .arg(&data)
        .arg(&cue)
        .arg(env!("CARGO_BIN_EXE_aos"))
        .env("HOME", home.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let lines = crate::batch::lines_of(script.stdout.take().unwrap());
    let _reaper = crate::batch::KillOnDrop(script);
    // The next line that starts with `prefix` (the node's other lines are skipped).
    let next_line = |prefix: &str| loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no line starting {prefix:?} within 60 s"));
        if line.starts_with(prefix) {
            break line;
        }
    };
    let listening = |line: String| {
        let url = line.rsplit(' ').next().unwrap().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{line}");
        url
    };
    let url = listening(next_line("aos node "));

    let http = reqwest::Client::new();
    let me = Ed25519Signer::from_secret([23; 32]);
    let process = spawn(&http, &url, &me).await;
    let target = b64::decode_32(&process).unwrap();
    let eval = |n: usize| {
        // A comment pads each message to 64 KiB, so the disk fills in a few hundred of them.
        let code = format!("N = (N or 0) + 1 --{}", "x".repeat(64 * 1024));
        me.sign(
            ItemDraft::new(code)
                .tag("Data-Protocol", "ao")
                .tag("Type", "Message")
                .tag("Action", "Eval")
                .tag("N", n.to_string())
                .target(target),
        )
        .unwrap()
    };
    let mut acknowledged = Vec::new();
    for n in 0..10 {
        let body = post(&http, &url, eval(n).to_bytes()).await.unwrap();
        acknowledged.push(body["id"].as_str().unwrap().to_owned());
    }
    let cue_path = cue.clone();
    tokio::task::spawn_blocking(move || std::fs::write(cue_path, "go\n"))
        .await
        .unwrap()
        .unwrap();
    next_line("filled");

    // Keep sending until the store refuses; the node must then report it and exit.
    let mut refused = 0;
    let mut saw_503 = false;
    let mut exit = None;
    for n in 10..100_000 {
        if let Ok(line) = lines.try_recv()
            && line.starts_with("exit=")
        {
            exit = Some(line);
            break;
        }
        match post(&http, &url, eval(n).to_bytes()).await {
            Some(body) => acknowledged.push(body["id"].as_str().unwrap().to_owned()),
            None => {
                refused += 1;
                let health = http.get(format!("{url}/")).send().await;
                saw_503 |= health.is_ok_and(|r| r.status() == 503);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    let exit = exit.unwrap_or_else(|| next_line("exit="));
    assert!(refused > 0, "the full disk refused nothing");
    assert!(saw_503, "GET / never said the store is failing");
    assert_eq!(
        exit, "exit=3",
        "the node must exit with code 3 on a store that takes no writes"
    );

    // The supervisor's restart, with the space back.
    let url = listening(next_line("aos node "));
    let logged = logged_messages(&http, &url, &process).await;
    assert!(logged.len() >= acknowledged.len(), "{logged:?}");
    assert_eq!(&logged[..acknowledged.len()], &acknowledged[..]);
    let result = eval_result(&http, &url, &me, &process, "return tostring(N)").await;
    assert_eq!(
        result["Output"]["data"],
        Value::from(logged.len().to_string()),
        "{result}"
    );
}
