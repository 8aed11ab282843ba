//! aos's flags and env vars, same names and meaning (issue 12, part 5), and the safety of
//! identity in batch mode (part 7): each flag run the way an aos user would type it.

use std::process::Command;
use std::time::Duration;

use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

use crate::batch::{start_node, start_node_with};
use crate::support::{aos, repo_root, wallet};

fn aos_in(home: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = aos(home);
    cmd.arg("--data-dir").arg(home.join("data"));
    cmd
}

/// Runs `code` in `name` and returns its stdout, trimmed.
fn run(cmd: &mut assert_cmd::Command, name: &str, code: &str) -> String {
    let out = cmd.args([name, "--run", code]).output().unwrap();
    assert!(out.status.success(), "{name}: {code}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// GET `url` as JSON (the tests' own client of the node's HTTP API).
fn get_json(url: &str) -> serde_json::Value {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        reqwest::get(url)
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    })
}

const TAGS: &str = "local out = {} for _, t in ipairs(ao.env.Process.Tags) do \
    if t.name == 'Authority' or t.name == 'Scheduler' then out[#out + 1] = t.name .. '=' .. t.value end end \
    return table.concat(out, ' ')";

#[test]
fn help_lists_every_aos_flag_by_its_aos_name() {
    let home = tempfile::tempdir().unwrap();
    let help = aos(home.path()).arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    for flag in [
        "--wallet",
        "--list",
        "--watch",
        "--dry-run",
        "--run",
        "--data",
        "--monitor",
        "--get-blueprints",
        "--sqlite",
        "--gateway-url",
        "--cu-url",
        "--mu-url",
        "--authority",
        "--scheduler",
        "--load",
        "--cron",
        "--tag-name",
        "--tag-value",
        "--module",
        "--mainnet",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help:\n{help}");
    }
}

#[test]
fn list_shows_your_processes_by_name_and_id() {
    let home = tempfile::tempdir().unwrap();
    let alpha = run(&mut aos_in(home.path()), "alpha", "ao.id");
    let beta = run(&mut aos_in(home.path()), "beta", "ao.id");
    aos_in(home.path())
        .arg("--list")
        .assert()
        .success()
        .stdout(format!("alpha\t{alpha}\nbeta\t{beta}\n"));
    // Another wallet on the same node has none.
    let other = home.path().join("other.json");
    wallet(&other);
    aos_in(home.path())
        .arg("--wallet")
        .arg(&other)
        .arg("--list")
        .assert()
        .success()
        .stdout("");
}

#[test]
fn dry_run_with_run_changes_nothing_and_needs_run() {
    let home = tempfile::tempdir().unwrap();
    run(&mut aos_in(home.path()), "dry", "X = 1");
    assert_eq!(
        run(
            aos_in(home.path()).arg("--dry-run"),
            "dry",
            "X = 99 return X"
        ),
        "99"
    );
    assert_eq!(run(&mut aos_in(home.path()), "dry", "X"), "1");
    aos_in(home.path())
        .args(["dry", "--dry-run"])
        .assert()
        .code(2)
        .stderr(contains("--dry-run goes with --run"));
    // A dry-run never spawns.
    aos_in(home.path())
        .args(["nothere", "--dry-run", "--run", "1"])
        .assert()
        .code(2)
        .stderr(contains("--dry-run does not spawn"));
}

#[test]
fn node_compute_memory_and_hot_memory_limits_take_effect() {
    let home = tempfile::tempdir().unwrap();
    let (node, url) = crate::batch::start_node_with(
        &home.path().join("node"),
        home.path(),
        &[
            "--compute-limit",
            "300000000",
            "--memory-limit",
            "48-mb",
            "--hot-memory",
            "64-mb",
        ],
    );
    let _node = crate::batch::KillOnDrop(node);
    let info = get_json(&format!("{url}/cu/"));
    assert_eq!(info["Hot"]["budget"], 64 << 20, "{info}");
    let mut cmd = aos(home.path());
    cmd.args(["--url", &url]);
    assert_eq!(run(&mut cmd, "capped", "6 * 7"), "42");
    let loop_out = aos(home.path())
        .args(["capped", "--url", &url, "--run", "while true do end"])
        .output()
        .unwrap();
    assert!(!loop_out.status.success());
    let text = String::from_utf8_lossy(&loop_out.stderr).into_owned()
        + &String::from_utf8_lossy(&loop_out.stdout);
    assert!(text.contains("limit 300000000"), "{text}");
    let bomb = aos(home.path())
        .args(["capped", "--url", &url, "--run"])
        .arg("X = string.rep('x', 60 * 1024 * 1024) return #X")
        .output()
        .unwrap();
    assert!(!bomb.status.success());
    let text =
        String::from_utf8_lossy(&bomb.stderr).into_owned() + &String::from_utf8_lossy(&bomb.stdout);
    assert!(text.contains("memory"), "{text}");
    aos(home.path())
        .args(["node", "--memory-limit", "3-parsecs"])
        .assert()
        .code(2)
        .stderr(contains("is not a size"));
}

#[test]
fn data_file_becomes_the_spawn_messages_data() {
    let home = tempfile::tempdir().unwrap();
    let (node, url) = start_node(&home.path().join("node"), home.path());
    let _node = crate::batch::KillOnDrop(node);
    let data = home.path().join("spawn.txt");
    std::fs::write(&data, "hello spawn").unwrap();
    let mut cmd = aos(home.path());
    cmd.args(["--url", &url, "--data"]).arg(&data);
    let id = run(&mut cmd, "withdata", "ao.id");
    let info = get_json(&format!("{url}/su/processes/{id}"));
    assert_eq!(info["data"], "hello spawn", "{info}");
    aos(home.path())
        .args([
            "nodata",
            "--url",
            &url,
            "--data",
            "/no/such/data",
            "--run",
            "1",
        ])
        .assert()
        .code(2)
        .stderr(contains("/no/such/data"));
}

#[test]
fn monitor_at_start_runs_ticks_as_they_fall_due() {
    let home = tempfile::tempdir().unwrap();
    let (node, url) = start_node(&home.path().join("node"), home.path());
    let _node = crate::batch::KillOnDrop(node);
    let mut ids = Vec::new();
    for (name, monitor) in [("watched", true), ("unwatched", false)] {
        let mut cmd = aos(home.path());
        // The node's shortest interval: one second.
        cmd.args(["--url", &url, "--cron", "1-second"]);
        if monitor {
            cmd.arg("--monitor");
        }
        ids.push(run(&mut cmd, name, "ao.id"));
    }
    // Past the first tick's due time (spawn + 1 s), with room for the monitor to run it.
    std::thread::sleep(Duration::from_millis(2500));
    let ticks = |id: &str| {
        let page = get_json(&format!("{url}/cu/cron/{id}?limit=100"));
        page["edges"].as_array().map_or(0, Vec::len)
    };
    assert!(ticks(&ids[0]) > 0, "--monitor ran no tick");
    assert_eq!(ticks(&ids[1]), 0, "ticks ran without --monitor");
}

#[test]
fn get_blueprints_writes_the_bundled_blueprints() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("bp");
    aos(home.path())
        .arg("--get-blueprints")
        .arg(&dir)
        .assert()
        .success()
        .stdout(contains("token.lua"));
    let bundled = std::fs::read_to_string(repo_root().join("lua/blueprints/token.lua")).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("token.lua")).unwrap(),
        bundled
    );
    // Without DIR: the current directory.
    let here = home.path().join("here");
    std::fs::create_dir_all(&here).unwrap();
    aos(home.path())
        .current_dir(&here)
        .arg("--get-blueprints")
        .assert()
        .success();
    assert!(here.join("chatroom.lua").exists());
}

#[test]
fn sqlite_is_accepted() {
    let home = tempfile::tempdir().unwrap();
    assert_eq!(run(aos_in(home.path()).arg("--sqlite"), "sq", "1 + 1"), "2");
}

#[test]
fn unit_urls_by_flag_and_by_env_reach_each_unit() {
    let home = tempfile::tempdir().unwrap();
    let (node, url) = start_node(&home.path().join("node"), home.path());
    let _node = crate::batch::KillOnDrop(node);
    let mut flags = aos(home.path());
    flags
        .args(["--gateway-url", &url])
        .args(["--mu-url", &format!("{url}/mu")])
        .args(["--cu-url", &format!("{url}/cu")]);
    assert_eq!(run(&mut flags, "split", "Y = 6 return Y * 7"), "42");
    let mut env = aos(home.path());
    env.env("GATEWAY_URL", &url)
        .env("MU_URL", format!("{url}/mu"))
        .env("CU_URL", format!("{url}/cu"));
    assert_eq!(run(&mut env, "split", "Y"), "6");
    // Each URL is really used: a compute unit that is not there fails the result, not the send.
    aos(home.path())
        .args(["split", "--gateway-url", &url])
        .args(["--cu-url", "http://127.0.0.1:9/cu", "--run", "Y"])
        .assert()
        .code(2)
        .stderr(contains("127.0.0.1:9/cu"));
    aos(home.path())
        .args(["split", "--mu-url", &format!("{url}/mu"), "--run", "Y"])
        .assert()
        .code(2)
        .stderr(contains("need --gateway-url or --url"));
}

#[test]
fn authority_and_scheduler_tag_a_new_process() {
    let home = tempfile::tempdir().unwrap();
    let default = run(&mut aos_in(home.path()), "plain", TAGS);
    let node = default
        .split_whitespace()
        .find_map(|t| t.strip_prefix("Scheduler="))
        .unwrap()
        .to_owned();
    assert!(default.contains(&format!("Authority={node}")), "{default}");
    let (a1, a2) = ("A".repeat(43), "B".repeat(43));
    let tags = run(
        aos_in(home.path())
            .args(["--authority", &format!("{a1},{a2}")])
            .args(["--scheduler", &node]),
        "custom",
        TAGS,
    );
    assert_eq!(
        tags,
        format!("Scheduler={node} Authority={a1} Authority={a2}")
    );
    // A scheduler that is not this node is refused by it: nothing spawns here.
    aos_in(home.path())
        .args(["elsewhere", "--scheduler", &"C".repeat(43), "--run", "1"])
        .assert()
        .failure()
        .stderr(contains("C".repeat(43)));
}

#[test]
fn flags_that_need_arweaves_network_say_so() {
    let home = tempfile::tempdir().unwrap();
    for flag in ["--mainnet", "--hb", "--relay", "--topup"] {
        aos_in(home.path())
            .args(["p", flag, "--run", "1"])
            .assert()
            .code(2)
            .stderr(contains(format!("{flag} needs Arweave's network")));
    }
}

#[test]
fn a_mistyped_wallet_path_is_an_error_and_creates_nothing() {
    let home = tempfile::tempdir().unwrap();
    let typo = home.path().join("walet.json");
    aos_in(home.path())
        .arg("--wallet")
        .arg(&typo)
        .args(["p", "--run", "1"])
        .assert()
        .code(2)
        .stderr(contains("no wallet at").and(contains("walet.json")));
    assert!(!typo.exists());
}

#[test]
fn a_process_you_do_not_own_is_refused_with_watch_offered() {
    let home = tempfile::tempdir().unwrap();
    let theirs = run(&mut aos_in(home.path()), "theirs", "ao.id");
    let mine = home.path().join("mine.json");
    wallet(&mine);
    aos_in(home.path())
        .arg("--wallet")
        .arg(&mine)
        .args([&theirs, "--run", "Stolen = true"])
        .assert()
        .code(2)
        .stderr(contains("is not yours").and(contains(format!("--watch={theirs}"))));
    // Nothing reached it: its owner sees no new state and only the spawn in its Inbox.
    assert_eq!(
        run(
            &mut aos_in(home.path()),
            "theirs",
            "tostring(Stolen) .. ' ' .. #Inbox .. ' ' .. tostring(Inbox[1].Id == ao.id)"
        ),
        "nil 1 true"
    );
}

#[test]
fn watch_follows_any_process_read_only_until_ctrl_c() {
    let home = tempfile::tempdir().unwrap();
    let (node, url) = start_node(&home.path().join("node"), home.path());
    let _node = crate::batch::KillOnDrop(node);
    let mut owner = aos(home.path());
    owner.args(["--url", &url]);
    let id = run(
        &mut owner,
        "watched",
        "Handlers.add('hi', 'Hi', function(m) print('hi from ' .. m.Data) end) return ao.id",
    );
    let other = home.path().join("other.json");
    wallet(&other);
    let mut watcher = Command::new(env!("CARGO_BIN_EXE_aos"))
        .env("HOME", home.path())
        .args(["--url", &url, &format!("--watch={id}"), "--wallet"])
        .arg(&other)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = crate::batch::lines_of(watcher.stdout.take().unwrap());
    assert!(
        lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap()
            .starts_with(&format!("watching {id}"))
    );
    // Give the feed its first look before the message is sent.
    std::thread::sleep(Duration::from_millis(800));
    let mut sender = aos(home.path());
    sender.args(["--url", &url]);
    run(
        &mut sender,
        "sender",
        &format!("Send({{ Target = '{id}', Action = 'Hi', Data = 'sender' }})"),
    );
    let line = lines.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(line.contains("hi from sender"), "{line}");
    let status = Command::new("kill")
        .args(["-INT", &watcher.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(watcher.wait().unwrap().success());
}

#[test]
fn a_clean_exit_checkpoints_the_embedded_node() {
    let home = tempfile::tempdir().unwrap();
    let id = run(&mut aos_in(home.path()), "saved", "X = 1 return ao.id");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _guard = runtime.enter();
    let node = aos::Node::open(aos::NodeConfig::new(home.path().join("data"))).unwrap();
    let process = aos_units::store::ProcessId::parse(&id).unwrap();
    // The first periodic checkpoint is 1,000 messages away: only the exit wrote this one.
    assert_eq!(
        node.messenger()
            .compute()
            .checkpoint_slot(&process)
            .unwrap(),
        Some(1)
    );
}

#[test]
fn batch_prints_what_the_eval_prints_after_receive() {
    let home = tempfile::tempdir().unwrap();
    let ponger = run(
        &mut aos_in(home.path()),
        "ponger",
        "Handlers.add('ping', 'Ping', function(m) m.reply({ Action = 'Pong', Data = 'pong!' }) end) return ao.id",
    );
    aos_in(home.path())
        .args(["asker", "--run"])
        .arg(format!(
            "local r = Send({{ Target = '{ponger}', Action = 'Ping' }}).receive() print('got ' .. r.Data)"
        ))
        .assert()
        .success()
        .stdout(contains("got pong!"));
}

#[test]
fn node_peer_learns_where_the_peers_scheduler_is() {
    let home = tempfile::tempdir().unwrap();
    let (b, b_url) = start_node(&home.path().join("b"), home.path());
    let _b = crate::batch::KillOnDrop(b);
    let (a, a_url) = start_node_with(&home.path().join("a"), home.path(), &["--peer", &b_url]);
    let _a = crate::batch::KillOnDrop(a);
    let b_address = get_json(&format!("{b_url}/"))["address"].clone();
    // What AO's scheduler-utils asks a gateway for B's location, asked of A.
    let query = serde_json::json!({
        "query": "query GetSchedulerLocation ($owner: String!) { transactions (owners: [$owner] tags: [{ name: \"Data-Protocol\", values: [\"ao\"] }, { name: \"Type\", values: [\"Scheduler-Location\"] }] sort: HEIGHT_DESC first: 1) { edges { node { tags { name value } } } } }",
        "variables": {"owner": b_address},
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url_tag = runtime.block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let answer: serde_json::Value = client
                .post(format!("{a_url}/graphql"))
                .json(&query)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let tags = &answer["data"]["transactions"]["edges"][0]["node"]["tags"];
            if let Some(tags) = tags.as_array() {
                return tags
                    .iter()
                    .find(|t| t["name"] == "Url")
                    .map(|t| t["value"].clone());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    });
    assert_eq!(url_tag, Some(serde_json::json!(format!("{b_url}/su"))));
}
