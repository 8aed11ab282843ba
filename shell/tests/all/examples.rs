//! The Lua and shell examples under `examples/` do what their comments say, through the real binary.

use std::process::Command;

use predicates::str::diff;

use crate::repl::{Node, ask, process_id, shell, shell_in, short};
use crate::support::{aos, repo_root};

#[test]
fn the_airdrop_batch_script_pays_every_recipient() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let script = std::fs::read(repo_root().join("examples/airdrop.lua")).unwrap();
    aos(home.path())
        .args(["treasury", "--blueprint", "token", "--data-dir"])
        .arg(&data)
        .write_stdin(script)
        .assert()
        .success()
        .stdout(diff("queued 3 transfers\n"))
        // As the script's comment says: each made-up recipient's Credit-Notice has no process.
        .stderr(diff(
            (1..=3)
                .map(|n| {
                    format!("aos: not delivered to airdrop-recipient-{n}-xxxxxxxxxxxxxxxxxxxxxxx: no valid Target\n")
                })
                .collect::<String>(),
        ));
    // Batch mode waited for the transfers it sent, so the balances are there for the next run.
    let balances = r#"
      local names = {}
      for name in pairs(Balances) do
        if name:match("^airdrop") then table.insert(names, name:sub(1, 19) .. "=" .. Balances[name]) end
      end
      table.sort(names)
      return table.concat(names, " ")"#;
    aos(home.path())
        .args(["treasury", "--run", balances, "--data-dir"])
        .arg(&data)
        .assert()
        .success()
        .stdout(diff(
            "airdrop-recipient-1=100 airdrop-recipient-2=250 airdrop-recipient-3=5\n",
        ));
}

#[test]
fn the_remote_script_pings_across_two_users_on_one_node() {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new("bash")
        .arg(repo_root().join("examples/remote.sh"))
        .env("AOS", env!("CARGO_BIN_EXE_aos"))
        .env("HOME", home.path())
        .env_remove("AOS_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "remote.sh failed\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("node: http://127.0.0.1:"), "{stdout}");
    assert!(
        stdout.contains("pinger's Inbox: Pong! (your first ping)\n"),
        "{stdout}"
    );
    assert!(stdout.contains("ponger counted: 1\n"), "{stdout}");
}

#[test]
fn the_readme_ping_shows_pong_in_the_live_feed_and_its_data_in_the_inbox() {
    // As examples/README.md says: `.load examples/ping.lua` in one process (from the repository
    // root), then ping it from another shell.
    let node = Node::start();
    let home = node.home.path();
    let mut ponger = shell_in(&repo_root(), home, &node.url, "ponger", &[]);
    ask(&mut ponger, ".load examples/ping.lua", "ping ready");
    let ponger_id = process_id(&mut ponger);

    let mut pinger = shell(home, &node.url, "pinger", &[]);
    ask(
        &mut pinger,
        &format!("Send({{ Target = \"{ponger_id}\", Action = \"Ping\" }})"),
        "Message added to outbox",
    );
    pinger
        .exp_string(&format!(
            "New Message From {}: Action = Pong\r\n",
            short(&ponger_id)
        ))
        .unwrap();
    ask(
        &mut pinger,
        "Inbox[#Inbox].Data",
        "\r\nPong! (your first ping)\r\n",
    );
}
