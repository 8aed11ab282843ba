//! The shell against a network of nodes (issue 14, item 6): `aos NAME --url A` works for a process
//! that node B schedules — its messages route through A to B, and A computes its results from
//! B's log — and the shell's units can be on different nodes.

use std::path::{Path, PathBuf};

use crate::batch::{KillOnDrop, start_node_with};
use crate::support::aos;

/// Two real nodes with their own data dirs under `home`: the `owner` (started with
/// `owner_flags`), and a `peer` started with `--peer` at it that already knows its location
/// record; and a wallet for the shell.
struct Pair {
    owner_url: String,
    owner_address: String,
    peer_url: String,
    peer_dir: PathBuf,
    wallet: PathBuf,
    _owner: KillOnDrop,
    _peer: KillOnDrop,
}

impl Pair {
    /// `aos NAME --url URL --wallet W --run CODE`, which must succeed; its stdout.
    fn run(&self, home: &Path, name: &str, url: &str, code: &str) -> String {
        let out = aos(home)
            .args([name, "--url", url, "--wallet"])
            .arg(&self.wallet)
            .args(["--run", code])
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    }

    fn start(home: &Path, owner_flags: &[&str]) -> Self {
        let (owner_dir, peer_dir) = (home.join("owner"), home.join("peer"));
        let (owner, owner_url) = start_node_with(&owner_dir, home, owner_flags);
        let owner = KillOnDrop(owner);
        let (peer, peer_url) = start_node_with(&peer_dir, home, &["--peer", &owner_url]);
        let peer = KillOnDrop(peer);
        let owner_address = node_address(&owner_dir);
        wait_until_known(&peer_url, &owner_address);
        let wallet = home.join("me.json");
        crate::support::wallet(&wallet);
        Self {
            owner_url,
            owner_address,
            peer_url,
            peer_dir,
            wallet,
            _owner: owner,
            _peer: peer,
        }
    }
}

fn node_address(data_dir: &Path) -> String {
    aos_units::wallet::Wallet::load(&data_dir.join("node-wallet.json"))
        .unwrap()
        .address()
}

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
    let net = Pair::start(home.path(), &[]);
    let (b_url, b_address, a_url, wallet) = (
        &net.owner_url,
        &net.owner_address,
        &net.peer_url,
        &net.wallet,
    );
    // Spawned through A on B's scheduler; its evals run on B.
    aos(home.path())
        .args(["far", "--url", a_url, "--scheduler", b_address, "--wallet"])
        .arg(wallet)
        .args(["--run", "X = 6 * 7 return X"])
        .assert()
        .success()
        .stdout("42\n");
    // Found again by name through A, though A holds no such process.
    assert_eq!(
        net.run(
            home.path(),
            "far",
            a_url,
            "local s for k, v in pairs(ao.env.Process.Tags) do \
               if type(v) == 'table' and v.name == 'Scheduler' then s = v.value \
               elseif k == 'Scheduler' then s = v end end return X .. ' ' .. s"
        ),
        format!("42 {b_address}\n")
    );
    // It trusts both nodes by default: the one the shell spoke to, and the rest of its network.
    let mut both = [node_address(&net.peer_dir), b_address.clone()];
    both.sort();
    assert_eq!(
        net.run(
            home.path(),
            "far",
            a_url,
            "local a = {} for _, x in ipairs(ao.authorities) do a[#a + 1] = x end \
             table.sort(a) return table.concat(a, ' ')"
        ),
        format!("{}\n", both.join(" "))
    );
    // B itself has it.
    assert_eq!(net.run(home.path(), "far", b_url, "X"), "42\n");
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
    let public = "http://b.example:8080/ao";
    // A (the peer) reaches B where it listens, but learns where B says it is.
    let net = Pair::start(home.path(), &["--public-url", public]);
    assert_eq!(
        record_url(&net.owner_url, &net.owner_address),
        format!("{public}/su")
    );
    assert_eq!(
        record_url(&net.peer_url, &net.owner_address),
        format!("{public}/su")
    );
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
    let net = Pair::start(home.path(), &[]);
    let (a_url, c_url) = (&net.owner_url, &net.peer_url);
    assert_eq!(
        net.run(home.path(), "near-a", a_url, "Y = 40 return Y"),
        "40\n"
    );
    assert_eq!(hot_processes(c_url), 0);
    assert_eq!(net.run(home.path(), "near-a", c_url, "1 + 1"), "2\n");
    // C computed it (A's process is in C's hot set), and the state is A's.
    assert_eq!(hot_processes(c_url), 1);
    assert_eq!(net.run(home.path(), "near-a", c_url, "Y + 2"), "42\n");
}

/// Issue 14 item 6: the shell's units can be three different places. The process lives on A
/// (the gateway's node schedules it); messages go in through C's MU, which forwards them to A's
/// SU; results come from C's CU, computed from A's log.
#[test]
fn the_shell_sends_through_one_node_and_reads_results_from_it_while_another_schedules() {
    let home = tempfile::tempdir().unwrap();
    let net = Pair::start(home.path(), &[]);
    let (a_url, c_url, wallet) = (&net.owner_url, &net.peer_url, &net.wallet);
    let split = |code: &str| {
        aos(home.path())
            .args(["apart", "--wallet"])
            .arg(wallet)
            .args(["--gateway-url", a_url])
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
    let process = net
        .run(home.path(), "apart", a_url, "ao.id")
        .trim()
        .to_owned();
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
    assert_eq!(hot_processes(c_url), 1);
}
