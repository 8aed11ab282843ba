//! The shell against a network of nodes (issue 14, item 6): `aos NAME --url A` works for a process
//! that node B schedules — its messages route through A to B, and A sends the shell to B's CU
//! for results (A cannot compute other nodes' processes yet).

use crate::batch::{KillOnDrop, start_node, start_node_with};
use crate::support::aos;

/// Waits until the node at `url` holds a Scheduler-Location record for `address`.
fn wait_until_known(url: &str, address: &str) {
    let query = serde_json::json!({
        "query": "query ($owner: String!) { transactions(owners: [$owner], tags: [{name: \"Type\", values: [\"Scheduler-Location\"]}]) { edges { node { id } } } }",
        "variables": {"owner": address},
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        for _ in 0..200 {
            let answer: serde_json::Value = http
                .post(format!("{url}/graphql"))
                .json(&query)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if answer["data"]["transactions"]["edges"][0]["node"]["id"].is_string() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{url} never learnt {address}");
    });
}

#[test]
fn a_shell_on_one_node_uses_a_process_another_node_schedules() {
    let home = tempfile::tempdir().unwrap();
    let (b_dir, a_dir) = (home.path().join("b"), home.path().join("a"));
    let (b, b_url) = start_node(&b_dir, home.path());
    let _b = KillOnDrop(b);
    let (a, a_url) = start_node_with(&a_dir, home.path(), &["--peer", &b_url]);
    let _a = KillOnDrop(a);
    let b_address = aos_units::wallet::Wallet::load(&b_dir.join("node-wallet.json"))
        .unwrap()
        .address();
    wait_until_known(&a_url, &b_address);
    let wallet = home.path().join("me.json");
    crate::support::wallet(&wallet);
    // Spawned through A on B's scheduler; its evals run on B.
    aos(home.path())
        .args([
            "far",
            "--url",
            &a_url,
            "--scheduler",
            &b_address,
            "--wallet",
        ])
        .arg(&wallet)
        .args(["--run", "X = 6 * 7 return X"])
        .assert()
        .success()
        .stdout("42\n");
    // Found again by name through A, though A holds no such process.
    aos(home.path())
        .args(["far", "--url", &a_url, "--wallet"])
        .arg(&wallet)
        .args([
            "--run",
            "local s for k, v in pairs(ao.env.Process.Tags) do \
               if type(v) == 'table' and v.name == 'Scheduler' then s = v.value \
               elseif k == 'Scheduler' then s = v end end return X .. ' ' .. s",
        ])
        .assert()
        .success()
        .stdout(format!("42 {b_address}\n"));
    // It trusts both nodes by default: the one the shell spoke to, and the rest of its network.
    let a_address = aos_units::wallet::Wallet::load(&a_dir.join("node-wallet.json"))
        .unwrap()
        .address();
    let mut both = [a_address, b_address.clone()];
    both.sort();
    aos(home.path())
        .args(["far", "--url", &a_url, "--wallet"])
        .arg(&wallet)
        .args([
            "--run",
            "local a = {} for _, x in ipairs(ao.authorities) do a[#a + 1] = x end \
             table.sort(a) return table.concat(a, ' ')",
        ])
        .assert()
        .success()
        .stdout(format!("{}\n", both.join(" ")));
    // B itself has it.
    aos(home.path())
        .args(["far", "--url", &b_url, "--wallet"])
        .arg(&wallet)
        .args(["--run", "X"])
        .assert()
        .success()
        .stdout("42\n");
}

/// The `Url` tag of the Scheduler-Location record of `address` that the node at `url` serves.
fn record_url(url: &str, address: &str) -> String {
    let query = serde_json::json!({
        "query": "query ($owner: String!) { transactions(owners: [$owner], tags: [{name: \"Type\", values: [\"Scheduler-Location\"]}]) { edges { node { tags { name value } } } } }",
        "variables": {"owner": address},
    });
    let answer: serde_json::Value = tokio::runtime::Runtime::new().unwrap().block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/graphql"))
            .json(&query)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let tags = answer["data"]["transactions"]["edges"][0]["node"]["tags"]
        .as_array()
        .unwrap_or_else(|| panic!("no record of {address} on {url}: {answer}"))
        .clone();
    tags.iter()
        .find(|t| t["name"] == "Url")
        .and_then(|t| t["value"].as_str())
        .unwrap_or_else(|| panic!("a record without Url: {answer}"))
        .to_owned()
}

#[test]
fn a_node_behind_a_proxy_publishes_its_public_url_and_peers_learn_it() {
    let home = tempfile::tempdir().unwrap();
    let (b_dir, a_dir) = (home.path().join("b"), home.path().join("a"));
    let public = "http://b.example:8080/ao";
    let (b, b_url) = start_node_with(&b_dir, home.path(), &["--public-url", public]);
    let _b = KillOnDrop(b);
    let b_address = aos_units::wallet::Wallet::load(&b_dir.join("node-wallet.json"))
        .unwrap()
        .address();
    assert_eq!(record_url(&b_url, &b_address), format!("{public}/su"));
    // A reaches B where it listens, but learns where B says it is.
    let (a, a_url) = start_node_with(&a_dir, home.path(), &["--peer", &b_url]);
    let _a = KillOnDrop(a);
    wait_until_known(&a_url, &b_address);
    assert_eq!(record_url(&a_url, &b_address), format!("{public}/su"));
}

/// How many processes the CU at `url` holds in memory (`GET /cu/` → `Hot.processes`).
fn hot_processes(url: &str) -> u64 {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let info: serde_json::Value = reqwest::get(format!("{url}/cu/"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        info["Hot"]["processes"].as_u64().unwrap()
    })
}

#[test]
fn a_shell_on_a_node_that_schedules_nothing_evaluates_on_another_nodes_process() {
    let home = tempfile::tempdir().unwrap();
    let (a_dir, c_dir) = (home.path().join("a"), home.path().join("c"));
    let (a, a_url) = start_node(&a_dir, home.path());
    let _a = KillOnDrop(a);
    let (c, c_url) = start_node_with(&c_dir, home.path(), &["--peer", &a_url]);
    let _c = KillOnDrop(c);
    let a_address = aos_units::wallet::Wallet::load(&a_dir.join("node-wallet.json"))
        .unwrap()
        .address();
    wait_until_known(&c_url, &a_address);
    let wallet = home.path().join("me.json");
    crate::support::wallet(&wallet);
    aos(home.path())
        .args(["near-a", "--url", &a_url, "--wallet"])
        .arg(&wallet)
        .args(["--run", "Y = 40 return Y"])
        .assert()
        .success()
        .stdout("40\n");
    assert_eq!(hot_processes(&c_url), 0);
    aos(home.path())
        .args(["near-a", "--url", &c_url, "--wallet"])
        .arg(&wallet)
        .args(["--run", "1 + 1"])
        .assert()
        .success()
        .stdout("2\n");
    // C computed it (A's process is in C's hot set), and the state is A's.
    assert_eq!(hot_processes(&c_url), 1);
    aos(home.path())
        .args(["near-a", "--url", &c_url, "--wallet"])
        .arg(&wallet)
        .args(["--run", "Y + 2"])
        .assert()
        .success()
        .stdout("42\n");
}

/// Issue 14 item 6: the shell's units can be three different places. The process lives on A
/// (the gateway's node schedules it); messages go in through C's MU, which forwards them to A's
/// SU; results come from C's CU, computed from A's log.
#[test]
fn the_shell_sends_through_one_node_and_reads_results_from_it_while_another_schedules() {
    let home = tempfile::tempdir().unwrap();
    let (a_dir, c_dir) = (home.path().join("a"), home.path().join("c"));
    let (a, a_url) = start_node(&a_dir, home.path());
    let _a = KillOnDrop(a);
    let (c, c_url) = start_node_with(&c_dir, home.path(), &["--peer", &a_url]);
    let _c = KillOnDrop(c);
    let a_address = aos_units::wallet::Wallet::load(&a_dir.join("node-wallet.json"))
        .unwrap()
        .address();
    wait_until_known(&c_url, &a_address);
    let wallet = home.path().join("me.json");
    crate::support::wallet(&wallet);
    let split = |code: &str| {
        aos(home.path())
            .args(["apart", "--wallet"])
            .arg(&wallet)
            .args(["--gateway-url", &a_url])
            .args(["--mu-url", &format!("{c_url}/mu")])
            .args(["--cu-url", &format!("{c_url}/cu")])
            .args(["--run", code])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    assert_eq!(
        String::from_utf8(split("Y = 6 return Y * 7")).unwrap(),
        "42\n"
    );
    assert_eq!(String::from_utf8(split("Y")).unwrap(), "6\n");
    // A schedules it (its log holds every message) and C computed it (it is hot there).
    let process = aos(home.path())
        .args(["apart", "--wallet"])
        .arg(&wallet)
        .args(["--url", &a_url, "--run", "ao.id"])
        .output()
        .unwrap();
    let process = String::from_utf8(process.stdout).unwrap().trim().to_owned();
    let page: serde_json::Value = tokio::runtime::Runtime::new().unwrap().block_on(async {
        reqwest::get(format!("{a_url}/su/{process}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert!(
        page["edges"].as_array().is_some_and(|e| e.len() >= 3),
        "A's log holds the spawn and both evals: {page}"
    );
    assert_eq!(hot_processes(&c_url), 1);
}
