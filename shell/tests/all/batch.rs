//! Batch mode (contract): `aos NAME --run CODE`, piped stdin, `--json`, `--load`, `--blueprint`,
//! `--url`, and finding the same process again by name.

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

use crate::support::{aos, stdout_json};

fn aos_in(home: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = aos(home);
    cmd.arg("--data-dir").arg(home.join("data"));
    cmd
}

#[test]
fn a_process_id_that_starts_with_a_hyphen_is_the_process_and_an_unknown_option_is_refused() {
    let home = tempfile::tempdir().unwrap();
    // One id in 64 starts with '-' (base64url): it is taken as the process, not as an option.
    let id = "-ZAbcdefghijklmnopqrstuvwxyz0123456789ABCDE";
    aos_in(home.path())
        .args([id, "--run", "1"])
        .assert()
        .stderr(contains(format!("process {id} is not yours")));
    aos_in(home.path())
        .args(["--bogus", "--run", "1"])
        .assert()
        .failure()
        .stderr(contains("unknown option '--bogus'"));
}

#[test]
fn run_prints_the_output_and_exits_0() {
    let home = tempfile::tempdir().unwrap();
    aos_in(home.path())
        .args(["calc", "--run", "1 + 1"])
        .assert()
        .success()
        .stdout("2\n")
        // No spinner: stderr is not a terminal here.
        .stderr("");
}

#[test]
fn the_same_code_twice_is_two_messages() {
    // Signatures are deterministic: without a fresh anchor the second would be a duplicate.
    let home = tempfile::tempdir().unwrap();
    for expected in ["1\n", "2\n"] {
        aos_in(home.path())
            .args(["twice", "--run", "C = (C or 0) + 1 return C"])
            .assert()
            .success()
            .stdout(expected);
    }
}

#[test]
fn errors_go_to_stderr_with_exit_1_and_state_survives() {
    let home = tempfile::tempdir().unwrap();
    aos_in(home.path())
        .args(["p", "--run", "X = 5"])
        .assert()
        .success();
    aos_in(home.path())
        .args(["p", "--run", "X = 6 error('went wrong')"])
        .assert()
        .code(1)
        .stderr(contains("went wrong"));
    aos_in(home.path())
        .args(["p", "--run", "x = = 1"])
        .assert()
        .code(1)
        .stderr(
            contains("syntax error")
                .or(contains("unexpected symbol"))
                .or(contains("expected")),
        );
    // Same wallet and data dir: the same process, by name, with its state.
    aos_in(home.path())
        .args(["p", "--run", "X"])
        .assert()
        .success()
        .stdout("5\n");
}

#[test]
fn a_43_character_id_names_the_process() {
    let home = tempfile::tempdir().unwrap();
    let out = aos_in(home.path())
        .args(["named", "--run", "Mark = 'here' return ao.id"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(id.len(), 43, "{id}");
    aos_in(home.path())
        .args([id.as_str(), "--run", "Mark"])
        .assert()
        .success()
        .stdout("here\n");
}

#[test]
fn an_arweave_rsa_wallet_owns_its_process() {
    let home = tempfile::tempdir().unwrap();
    let wallet = home.path().join("arweave.json");
    fs::copy(
        crate::support::repo_root().join("units/tests/fixtures/arweave-test-wallet.json"),
        &wallet,
    )
    .unwrap();
    // Its items are RSA-signed (type 1); the process's owner is the Arweave address.
    aos_in(home.path())
        .args(["rsa", "--wallet"])
        .arg(&wallet)
        .args(["--run", "Owner"])
        .assert()
        .success()
        .stdout("1HgA38pUrF6DJwuFidnDe3_8wvoZjVjtk51D1jxg8Ys\n");
}

#[test]
fn piped_stdin_is_one_chunk() {
    let home = tempfile::tempdir().unwrap();
    aos_in(home.path())
        .arg("piped")
        .write_stdin("local a = 3\nlocal b = 4\nreturn a * b\n")
        .assert()
        .success()
        .stdout("12\n");
}

#[test]
fn json_prints_the_whole_result() {
    let home = tempfile::tempdir().unwrap();
    let output = aos_in(home.path())
        .args(["j", "--json", "--run", "2 * 21"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let result = stdout_json(&output);
    assert_eq!(result["Output"]["data"], "42");
    assert!(result["GasUsed"].as_u64().is_some(), "{result}");
}

#[test]
fn load_bundles_required_files_and_errors_name_the_file_and_line() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("src");
    fs::create_dir_all(dir.join("lib")).unwrap();
    fs::write(
        dir.join("main.lua"),
        "local greet = require('lib.greet')\nGreeting = greet('aos')\n",
    )
    .unwrap();
    fs::write(
        dir.join("lib/greet.lua"),
        "return function(who)\n  return 'hello ' .. who\nend\n",
    )
    .unwrap();
    aos_in(home.path())
        .args(["loader", "--load"])
        .arg(dir.join("main.lua"))
        .args(["--run", "Greeting"])
        .assert()
        .success()
        .stdout("hello aos\n");

    fs::write(
        dir.join("lib/broken.lua"),
        "local t = {}\n\nreturn t.missing.field\n",
    )
    .unwrap();
    fs::write(
        dir.join("uses_broken.lua"),
        "local b = require('lib.broken')\n",
    )
    .unwrap();
    aos_in(home.path())
        .args(["loader", "--load"])
        .arg(dir.join("uses_broken.lua"))
        .args(["--run", "1"])
        .assert()
        .code(1)
        .stderr(contains("lib/broken.lua:3:"));
}

#[test]
fn blueprint_token_answers_balance() {
    let home = tempfile::tempdir().unwrap();
    aos_in(home.path())
        .args(["tok", "--blueprint", "token", "--run", "Balances[ao.id]"])
        .assert()
        .success()
        .stdout("10000000000000000\n");
}

/// `aos node` on a free port; returns the child and its URL.
pub fn start_node(data_dir: &std::path::Path, home: &std::path::Path) -> (Child, String) {
    start_node_with(data_dir, home, &[])
}

/// [`start_node`] with more `aos node` flags.
pub fn start_node_with(
    data_dir: &std::path::Path,
    home: &std::path::Path,
    flags: &[&str],
) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aos"))
        .env("HOME", home)
        .args(["node", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

#[test]
fn url_talks_to_a_running_node_and_a_locked_data_dir_falls_back_to_it() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("node-data");
    let (mut node, url) = start_node(&data, home.path());
    let wallet = home.path().join("me.json");
    crate::support::wallet(&wallet);
    aos(home.path())
        .args(["remote", "--url", &url, "--wallet"])
        .arg(&wallet)
        .args(["--run", "Y = 7 return Y * 6"])
        .assert()
        .success()
        .stdout("42\n");
    // The same data dir, no --url: the store is locked by the node, so the shell uses its URL.
    aos(home.path())
        .args(["remote", "--data-dir"])
        .arg(&data)
        .arg("--wallet")
        .arg(&wallet)
        .args(["--run", "Y"])
        .assert()
        .success()
        .stdout("7\n");
    node.kill().unwrap();
    node.wait().unwrap();
}

#[test]
fn spawn_flags_tag_the_new_process_and_pick_its_module() {
    let home = tempfile::tempdir().unwrap();
    let spawn_tags = r#"
      local tags = {}
      for k, v in pairs(ao.env.Process.Tags) do
        if type(v) == "table" then tags[v.name] = v.value else tags[k] = v end
      end
      return tags.Color .. " " .. tags["Cron-Interval"] .. " " .. ao.env.Module.Id"#;
    let output = aos_in(home.path())
        .args(["tagged", "--tag-name", "Color", "--tag-value", "blue"])
        .args(["--cron", "5-minutes", "--run", spawn_tags])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let words: Vec<&str> = stdout.split_whitespace().collect();
    assert_eq!(words[..2], ["blue", "5-minutes"], "{stdout}");
    let default_module = words[2];
    assert_eq!(default_module.len(), 43, "{stdout}");

    // The same module named explicitly spawns; a module the node does not have is refused.
    aos_in(home.path())
        .args([
            "explicit",
            "--module",
            default_module,
            "--run",
            "ao.env.Module.Id",
        ])
        .assert()
        .success()
        .stdout(format!("{default_module}\n"));
    aos_in(home.path())
        .args(["nomodule", "--module", &"M".repeat(43), "--run", "1"])
        .assert()
        .failure()
        .stderr(contains("module").and(contains("M".repeat(43))));

    aos_in(home.path())
        .args(["odd", "--tag-name", "Color", "--run", "1"])
        .assert()
        .failure()
        .stderr(contains("--tag-name and --tag-value come in pairs"));
}

#[test]
fn a_mistyped_blueprint_or_file_spawns_nothing_and_spawn_flags_on_an_old_process_are_flagged() {
    let home = tempfile::tempdir().unwrap();
    aos_in(home.path())
        .args(["typo", "--blueprint", "tokn", "--run", "1"])
        .assert()
        .code(2)
        .stderr(contains("no blueprint \"tokn\""));
    aos_in(home.path())
        .args(["typo", "--load", "/no/such/file.lua", "--run", "1"])
        .assert()
        .code(2)
        .stderr(contains("/no/such/file.lua"));
    // So the first run that works is the spawn, and its flags count.
    let tag = "for _, t in ipairs(ao.env.Process.Tags) do if t.name == 'Flavor' then return t.value end end";
    aos_in(home.path())
        .args([
            "typo",
            "--tag-name",
            "Flavor",
            "--tag-value",
            "mint",
            "--run",
            tag,
        ])
        .assert()
        .success()
        .stdout("mint\n")
        .stderr("");
    // Later, the same flags cannot change the process: said, not silently dropped.
    aos_in(home.path())
        .args(["typo", "--tag-name", "Flavor", "--tag-value", "lime"])
        .args(["--cron", "1-minute", "--run", tag])
        .assert()
        .success()
        .stdout("mint\n")
        .stderr(contains(
            "typo exists already; --cron, --tag-name/--tag-value only apply when a process is spawned",
        ));
}

#[test]
fn messages_that_cannot_be_delivered_are_reported_on_stderr() {
    let home = tempfile::tempdir().unwrap();
    aos_in(home.path())
        .args([
            "lost",
            "--run",
            "Send({ Target = 'short', Action = 'Hi' }) return 'sent'",
        ])
        .assert()
        .success()
        .stdout("sent\n")
        .stderr(contains("aos: not delivered to short: no valid Target"));

    // Over HTTP too: a well-formed id that no process on the node has.
    let (node, url) = start_node(&home.path().join("node"), home.path());
    let mut node = KillOnDrop(node);
    let nobody = "B".repeat(42) + "A";
    aos(home.path())
        .args(["lost", "--url", &url, "--run"])
        .arg(format!(
            "Send({{ Target = '{nobody}', Action = 'Hi' }}) return 'sent'"
        ))
        .assert()
        .success()
        .stdout("sent\n")
        .stderr(contains(format!(
            "aos: not delivered to {nobody}: no process {nobody}"
        )));
    node.0.kill().unwrap();
}

/// A child process that does not outlive a failing test.
pub struct KillOnDrop(pub Child);

/// The lines a child writes, as they come (read on a thread of their own).
pub fn lines_of(out: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
