//! `aos module add FILE`: signs a wasm module as an AO module item, adds it to a node (embedded
//! or `--url`) and prints the module id, which `aos NAME --module ID` spawns on.

use predicates::str::contains;

use crate::batch::{KillOnDrop, start_node};
use crate::support::{aos, repo_root, wallet};

fn module_file(name: &str) -> std::path::PathBuf {
    repo_root().join("vm/module").join(name)
}

/// Runs `aos module add` with `args` and returns the id it printed.
fn add(home: &std::path::Path, file: &str, args: &[&str]) -> String {
    let output = aos(home)
        .args(["module", "add"])
        .arg(module_file(file))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let id = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert_eq!(id.len(), 43, "{id:?}");
    id
}

#[test]
fn an_added_module_is_spawned_on_with_the_limits_given() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let data = data.to_str().unwrap();
    let modules = [
        // The format told from the module, and given.
        ("emscripten32.wasm", vec![]),
        (
            "emscripten64.wasm",
            vec!["--format", "wasm64-unknown-emscripten-draft_2024_02_15"],
        ),
    ];
    for (file, format) in modules {
        let mut args = vec!["--data-dir", data, "--compute-limit", "1000000000"];
        args.extend(format);
        let module = add(home.path(), file, &args);
        let name = file.trim_end_matches(".wasm");
        aos(home.path())
            .args([
                name,
                "--data-dir",
                data,
                "--module",
                &module,
                "--run",
                "_VERSION",
            ])
            .assert()
            .success()
            .stdout("Lua 5.3\n");
        // The Compute-Limit given to `module add` is the one the process runs under.
        aos(home.path())
            .args([name, "--data-dir", data, "--run", "while true do end"])
            .assert()
            .code(1)
            .stderr(contains("limit 1000000000"));
        aos(home.path())
            .args([name, "--data-dir", data, "--run", "1 + 1"])
            .assert()
            .success()
            .stdout("2\n");
    }
}

#[test]
fn a_module_added_over_url_is_the_wallets_with_its_tags() {
    let home = tempfile::tempdir().unwrap();
    let (node, url) = start_node(&home.path().join("node"), home.path());
    let _node = KillOnDrop(node);
    let wallet_path = home.path().join("author.json");
    let author = wallet(&wallet_path);
    let module = add(
        home.path(),
        "emscripten32.wasm",
        &[
            "--url",
            &url,
            "--wallet",
            wallet_path.to_str().unwrap(),
            "--format",
            "wasm32-unknown-emscripten4",
            "--memory-limit",
            "64-mb",
        ],
    );
    let query = serde_json::json!({
        "query": "query GetTransactions ($transactionIds: [ID!]!) { transactions(ids: $transactionIds) { edges { node { owner { address } tags { name value } } } } }",
        "variables": {"transactionIds": [module]},
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let body: serde_json::Value = rt.block_on(async {
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
    let found = &body["data"]["transactions"]["edges"][0]["node"];
    assert_eq!(found["owner"]["address"], author, "{body}");
    let tags = found["tags"].as_array().unwrap();
    for (name, value) in [
        ("Type", "Module"),
        ("Module-Format", "wasm32-unknown-emscripten4"),
        ("Memory-Limit", "64-mb"),
        ("Input-Encoding", "JSON-1"),
    ] {
        assert!(
            tags.contains(&serde_json::json!({"name": name, "value": value})),
            "{name}: {body}"
        );
    }
    aos(home.path())
        .args([
            "remote-emcc",
            "--url",
            &url,
            "--module",
            &module,
            "--run",
            "6 * 7",
        ])
        .assert()
        .success()
        .stdout("42\n");
}

#[test]
fn a_bad_module_is_refused_with_the_reason() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let garbage = home.path().join("garbage.wasm");
    std::fs::write(&garbage, b"\0asm not really").unwrap();
    aos(home.path())
        .args(["module", "add"])
        .arg(&garbage)
        .args(["--format", "wasm32-unknown-emscripten4", "--data-dir"])
        .arg(&data)
        .assert()
        .code(2)
        .stderr(contains("does not load"));
    aos(home.path())
        .args(["module", "add"])
        .arg(module_file("emscripten32.wasm"))
        .args(["--memory-limit", "lots", "--data-dir"])
        .arg(&data)
        .assert()
        .code(2)
        .stderr(contains("Memory-Limit \"lots\""));
}
