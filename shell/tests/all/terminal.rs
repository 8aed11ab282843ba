//! Habits of aos users at the terminal (issue 12), in a pseudo-terminal: Ctrl-C stops a wait
//! and not the shell, typeahead is kept, colours and the live `[Inbox:N]`, handler errors in the
//! live feed, two shells on one data dir, and a process that is not yours.

use std::path::Path;
use std::process::Command;

use rexpect::session::{PtySession, spawn_command};

use crate::repl::{Node, TIMEOUT_MS, ask, process_id, ready, shell, short};

/// A handler that burns about a second of compute per message: a queue of these keeps the
/// next eval waiting.
const SLOW: &str = "Handlers.add('slow', 'Slow', function() local t = 0 for i = 1, 4e7 do t = t + i end end) return 'slow' .. ' ready'";

/// A shell on the embedded node of `data_dir`, with colours as a terminal has them unless
/// `no_color`.
fn embedded(home: &Path, data_dir: &Path, name: &str, no_color: bool) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aos"));
    cmd.env("HOME", home)
        .env("TERM", "xterm")
        .env_remove("MU_URL")
        .env_remove("CU_URL")
        .env_remove("GATEWAY_URL")
        .env_remove("AOS_URL")
        .arg(name)
        .arg("--data-dir")
        .arg(data_dir);
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let mut repl = spawn_command(cmd, Some(TIMEOUT_MS)).unwrap();
    ready(&mut repl);
    repl
}

/// Sends `n` Slow messages to `target` without waiting for them, then gives the node a moment
/// to schedule them.
fn queue_slow(node: &Node, target: &str, n: u32) {
    let home = node.home.path();
    let status = Command::new(env!("CARGO_BIN_EXE_aos"))
        .env("HOME", home)
        .args(["bob", "--url", &node.url, "--wallet"])
        .arg(home.join("wallet.json"))
        .args(["--no-wait", "--run"])
        .arg(format!(
            "for i = 1, {n} do Send({{ Target = '{target}', Action = 'Slow' }}) end"
        ))
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(std::time::Duration::from_millis(500));
}

#[test]
fn ctrl_c_during_an_eval_stops_waiting_and_history_is_saved_as_you_go() {
    let node = Node::start();
    let home = node.home.path();
    let mut alice = shell(home, &node.url, "alice", &[]);
    ask(&mut alice, SLOW, "slow ready");
    let alice_id = process_id(&mut alice);
    // Queue slow messages ahead of the next eval, so its result is seconds away.
    queue_slow(&node, &alice_id, 5);
    // Deliveries wait for each other's evaluation, so at most one slow message is ahead of the
    // eval; the eval does seconds of work of its own (3e8 steps fit in the default compute
    // budget), so the Ctrl-C below lands while it runs even on a loaded machine.
    alice
        .send_line("for i = 1, 3e8 do end return 'after' .. ' the queue'")
        .unwrap();
    // The spinner names the message it waits for.
    alice.exp_string("waiting for the result of").unwrap();
    alice.send_control('c').unwrap();
    alice.exp_string("stopped waiting for").unwrap();
    alice.exp_string("still runs").unwrap();
    ready(&mut alice);
    // The shell is alive, and the message it stopped waiting for did run.
    ask(&mut alice, "'alive=' .. tostring(1 + 1)", "alive=2");

    // History is on disk while the shell still runs: a shell that dies later keeps it.
    let history = home
        .join(".aos")
        .join("history")
        .join(format!("{alice_id}.txt"));
    let kept = std::fs::read_to_string(&history).unwrap_or_default();
    assert!(kept.contains("'after' .. ' the queue'"), "{kept:?}");
    alice.send_line(".exit").unwrap();
    alice.exp_eof().unwrap();
}

#[test]
fn typeahead_and_fast_continuation_lines_are_kept_and_run_in_order() {
    let node = Node::start();
    let home = node.home.path();
    let mut alice = shell(home, &node.url, "alice", &[]);
    // Three lines of a function in one burst, as a fast typist or tmux send-keys delivers them.
    alice
        .send("function twice(x)\rreturn x * 2\rend\r")
        .unwrap();
    alice.flush().unwrap();
    ready(&mut alice);
    ask(&mut alice, "twice(21)", "\r\n42\r\n");

    // Lines typed while an eval runs wait their turn.
    ask(&mut alice, SLOW, "slow ready");
    let alice_id = process_id(&mut alice);
    queue_slow(&node, &alice_id, 3);
    alice.send_line("'first' .. '-answer'").unwrap();
    alice.send_line("'second' .. '-answer'").unwrap();
    alice.send_line("'third' .. '-answer'").unwrap();
    alice.exp_string("first-answer").unwrap();
    alice.exp_string("second-answer").unwrap();
    alice.exp_string("third-answer").unwrap();
    ready(&mut alice);
}

#[test]
fn colours_on_a_terminal_none_with_no_color_and_the_inbox_count_follows_live_notices() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let mut alice = embedded(home.path(), &data, "alice", false);
    alice.exp_string("\x1b[32malice").unwrap();
    alice.send_line("error('red' .. ' alert')").unwrap();
    alice.exp_string("\x1b[31m").unwrap();
    alice.exp_string("red alert").unwrap();
    ready(&mut alice);
    let alice_id = process_id(&mut alice);
    // aos's prompt colours come from the process; its Inbox starts with the spawn message.
    alice.exp_string("[Inbox:\x1b[31m1\x1b[90m]").unwrap();

    // A message nobody handles: its notice prints, and the prompt shows the new count without
    // waiting for the next eval.
    let status = Command::new(env!("CARGO_BIN_EXE_aos"))
        .env("HOME", home.path())
        .arg("bob")
        .arg("--data-dir")
        .arg(&data)
        .args(["--run"])
        .arg(format!(
            "Send({{ Target = '{alice_id}', Action = 'Note', Data = 'inbox me' }})"
        ))
        .status()
        .unwrap();
    assert!(status.success());
    // The notice in aos's colours, as the process made it.
    alice
        .exp_regex(
            r"\x1b\[90mNew Message From \x1b\[32m[\w-]{3}\.\.\.[\w-]{3}\x1b\[90m: \x1b\[90mAction = \x1b\[34mNote\x1b\[0m",
        )
        .unwrap();
    alice.exp_string("[Inbox:\x1b[31m2\x1b[90m]").unwrap();
    alice.send_line(".exit").unwrap();
    alice.exp_eof().unwrap();

    let mut plain = embedded(home.path(), &data, "alice", true);
    // The process's own colours are stripped too: its prompt reads as plain text.
    let prompt = plain.exp_string("[Inbox:2]> ").unwrap();
    assert!(
        prompt.ends_with("alice@aos-0.1.0")
            && !prompt.contains("\x1b[9")
            && !prompt.contains("\x1b[3"),
        "NO_COLOR kept the prompt's colours: {prompt:?}"
    );
    plain.send_line("error('plain' .. ' alert')").unwrap();
    let before = plain.exp_string("plain alert").unwrap();
    ready(&mut plain);
    assert!(
        !before.contains("\x1b[31m"),
        "NO_COLOR printed red: {before:?}"
    );
    plain.send_line(".exit").unwrap();
    plain.exp_eof().unwrap();
}

#[test]
fn handler_errors_of_your_process_show_in_the_live_feed_in_red() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let mut alice = embedded(home.path(), &data, "alice", false);
    ask(
        &mut alice,
        "Handlers.add('boom', 'Boom', function() error('kab' .. 'oom') end) return 'add' .. 'ed'",
        "added",
    );
    let alice_id = process_id(&mut alice);
    let status = Command::new(env!("CARGO_BIN_EXE_aos"))
        .env("HOME", home.path())
        .arg("bob")
        .arg("--data-dir")
        .arg(&data)
        .arg("--run")
        .arg(format!(
            "Send({{ Target = '{alice_id}', Action = 'Boom' }})"
        ))
        .status()
        .unwrap();
    assert!(status.success());
    alice.exp_string("\x1b[31mhandler error").unwrap();
    alice.exp_string("kaboom").unwrap();
    alice.send_line(".exit").unwrap();
    alice.exp_eof().unwrap();
}

#[test]
fn two_shells_on_one_data_dir_share_the_first_ones_node_for_a_chatroom() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let mut alice = embedded(home.path(), &data, "alice", true);
    alice.exp_string("alice@aos-").unwrap();
    // The second shell opens while the first holds the store: no `aos node` needed.
    let mut bob = embedded(home.path(), &data, "bob", true);
    bob.exp_string("bob@aos-").unwrap();
    ask(&mut alice, ".load-blueprint chatroom", "chatroom ready");
    let room = process_id(&mut alice);
    ask(
        &mut bob,
        &format!("Send({{ Target = '{room}', Action = 'Register' }}) return 'as' .. 'ked'"),
        "asked",
    );
    // Plain text without colour: the notices as aos words them, the room's answer as Data.
    bob.exp_string(&format!(
        "New Message From {}: Data = Registered.",
        short(&room)
    ))
    .unwrap();
    ask(
        &mut alice,
        "Send({ Target = ao.id, Action = 'Broadcast', Data = 'hello room' }) return 'sa' .. 'id'",
        "said",
    );
    bob.exp_string(&format!(
        "New Message From {}: Action = Broadcast-Notice",
        short(&room)
    ))
    .unwrap();
    ask(&mut bob, "Inbox[#Inbox].Data", "\r\nhello room\r\n");
    bob.send_line(".exit").unwrap();
    bob.exp_eof().unwrap();
    alice.send_line(".exit").unwrap();
    alice.exp_eof().unwrap();
    assert!(
        !data.join("node.url").exists(),
        "the first shell left its URL file"
    );
}

#[test]
fn opening_a_process_you_do_not_own_says_so_and_offers_watch() {
    let node = Node::start();
    let home = node.home.path();
    let mut alice = shell(home, &node.url, "alice", &[]);
    let alice_id = process_id(&mut alice);
    let other = home.join("other.json");
    crate::support::wallet(&other);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aos"));
    cmd.env("HOME", home)
        .env("TERM", "xterm")
        .args([&alice_id, "--url", &node.url, "--wallet"])
        .arg(&other);
    let mut stranger = spawn_command(cmd, Some(TIMEOUT_MS)).unwrap();
    stranger.exp_string("is not yours").unwrap();
    stranger
        .exp_string(&format!("aos --watch={alice_id}"))
        .unwrap();
    stranger.exp_eof().unwrap();
    // Nothing reached alice's process: its Inbox holds only the spawn.
    ask(
        &mut alice,
        "'inbox=' .. #Inbox .. ' spawn ' .. tostring(Inbox[1].Id == ao.id)",
        "inbox=1 spawn true",
    );
}

#[test]
fn small_habits_banner_wallet_preload_confirmations_load_quotes_and_editor_print_delete() {
    let node = Node::start();
    let home = node.home.path();
    let address = crate::support::wallet(&home.join("wallet.json"));
    let lib = home.join("my lib.lua");
    std::fs::write(&lib, "Quoted = 'from a quoted path'\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aos"));
    cmd.env("HOME", home)
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .args([
            "alice",
            "--url",
            &node.url,
            "--blueprint",
            "token",
            "--wallet",
        ])
        .arg(home.join("wallet.json"));
    let mut alice = spawn_command(cmd, Some(TIMEOUT_MS)).unwrap();
    alice.exp_string("blueprint token loaded").unwrap();
    alice.exp_string(&format!("wallet {address}")).unwrap();
    ready(&mut alice);

    ask(
        &mut alice,
        &format!(".load \"{}\"", lib.display()),
        "loading",
    );
    ask(&mut alice, "Quoted", "from a quoted path");
    ask(&mut alice, ".load", ".load needs a file");
    ask(&mut alice, ".inbox foo", ".inbox takes a number");

    // An unterminated string is sent at once; the next line is a line of its own.
    alice.send_line("x = \"abc").unwrap();
    alice.exp_string("unfinished string").unwrap();
    ready(&mut alice);
    ask(&mut alice, "'next' .. ' line'", "next line");

    ask(&mut alice, ".editor", "editor mode");
    for line in ["Sum = 1", "Sum = Sum + 10", "Sum = Sum + 100"] {
        alice.send_line(line).unwrap();
        ready(&mut alice);
    }
    alice.send_line(".delete").unwrap();
    alice.exp_string("deleted: Sum = Sum + 100").unwrap();
    ready(&mut alice);
    alice.send_line(".print").unwrap();
    alice.exp_string("2| Sum = Sum + 10").unwrap();
    ready(&mut alice);
    alice.send_line(".done").unwrap();
    ready(&mut alice);
    ask(&mut alice, "'sum=' .. Sum", "sum=11");
    alice.send_line(".exit").unwrap();
    alice.exp_eof().unwrap();
}
