//! The interactive REPL in a pseudo-terminal, against a real `aos node`: evaluation, multi-line
//! input, `.load` with a `require`, blueprints, live messages above the prompt, a chatroom between
//! two shells, `.monitor`, and the other dot-commands, Tab completion and history.

use std::path::Path;
use std::process::{Child, Command};

use rexpect::session::{PtySession, spawn_command};

use crate::batch::start_node;

pub const TIMEOUT_MS: u64 = 30_000;

/// A shell on `name` in a pseudo-terminal that claims to be an xterm (rustyline's live printer
/// needs a real terminal type).
pub fn shell(home: &Path, url: &str, name: &str, extra: &[&str]) -> PtySession {
    shell_in(&std::env::current_dir().unwrap(), home, url, name, extra)
}

/// [`shell`], started in directory `cwd` (where relative `.load` paths are read).
pub fn shell_in(cwd: &Path, home: &Path, url: &str, name: &str, extra: &[&str]) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aos"));
    cmd.current_dir(cwd);
    cmd.env("HOME", home)
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .env_remove("MU_URL")
        .env_remove("CU_URL")
        .env_remove("GATEWAY_URL")
        .args([name, "--url", url, "--wallet"])
        .arg(home.join("wallet.json"))
        .args(extra);
    let mut repl = spawn_command(cmd, Some(TIMEOUT_MS)).unwrap();
    ready(&mut repl);
    repl.exp_string(&format!("{name}@aos-")).unwrap();
    repl
}

/// Waits until the line editor reads again: it turns bracketed paste on at each prompt. Typing
/// before that could be lost when the terminal switches modes.
pub fn ready(repl: &mut PtySession) {
    repl.exp_string("\x1b[?2004h").unwrap();
}

/// Sends a line, waits for `expected` in what follows (it must not be part of the line itself,
/// which the terminal echoes) and for the next prompt.
pub fn ask(repl: &mut PtySession, line: &str, expected: &str) {
    assert!(
        !line.contains(expected),
        "{expected:?} would match the echo"
    );
    repl.send_line(line).unwrap();
    if let Err(e) = repl.exp_string(expected) {
        panic!("after {line:?} expected {expected:?}: {e}");
    }
    ready(repl);
}

/// The 43-character id the process prints for `ao.id`.
pub fn process_id(repl: &mut PtySession) -> String {
    repl.send_line("'id=' .. ao.id").unwrap();
    let (_, matched) = repl.exp_regex("id=[A-Za-z0-9_-]{43}").unwrap();
    ready(repl);
    matched.trim_start_matches("id=").to_owned()
}

/// Runs `code` in process `name` in batch mode (same wallet), waiting for its deliveries.
pub fn batch(node: &Node, name: &str, code: &str) {
    let home = node.home.path();
    let status = Command::new(env!("CARGO_BIN_EXE_aos"))
        .env("HOME", home)
        .args([name, "--url", &node.url, "--wallet"])
        .arg(home.join("wallet.json"))
        .args(["--run", code])
        .status()
        .unwrap();
    assert!(status.success(), "{name}: {code}");
}

/// The id of process `name` (spawned by this batch run if it does not exist yet).
pub fn batch_id(node: &Node, name: &str) -> String {
    let home = node.home.path();
    let out = Command::new(env!("CARGO_BIN_EXE_aos"))
        .env("HOME", home)
        .args([name, "--url", &node.url, "--wallet"])
        .arg(home.join("wallet.json"))
        .args(["--run", "ao.id"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{name}: ao.id");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// How aos names a sender in its notice of a message: `abc...xyz`.
pub fn short(id: &str) -> String {
    format!("{}...{}", &id[..3], &id[id.len() - 3..])
}

pub struct Node {
    child: Child,
    pub url: String,
    pub home: tempfile::TempDir,
}

impl Node {
    /// `aos node` in a scratch home, with the wallet `home/wallet.json` the shells use.
    pub fn start() -> Self {
        let home = tempfile::tempdir().unwrap();
        crate::support::wallet(&home.path().join("wallet.json"));
        let (child, url) = start_node(&home.path().join("node"), home.path());
        Self { child, url, home }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_repl_evaluates_loads_files_and_blueprints_and_shows_messages_live() {
    let node = Node::start();
    let home = node.home.path();
    let mut alice = shell(home, &node.url, "alice", &[]);

    ask(&mut alice, "21 * 2", "42");

    // An unfinished function continues on the next lines and is sent as one Eval.
    alice.send_line("function greet(n)").unwrap();
    ready(&mut alice);
    alice.exp_string("... ").unwrap();
    alice.send_line("  return 'hi ' .. n").unwrap();
    ready(&mut alice);
    alice.exp_string("... ").unwrap();
    alice.send_line("end").unwrap();
    ready(&mut alice);
    ask(&mut alice, "greet('pty')", "hi pty");

    // `.load` bundles the files a file requires.
    let dir = home.join("src");
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(
        dir.join("lib").join("shout.lua"),
        "return function(s) return s:upper() .. '!' end\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.lua"),
        "local shout = require('lib.shout')\nLoud = shout('loaded')\n",
    )
    .unwrap();
    ask(
        &mut alice,
        &format!(".load {}", dir.join("main.lua").display()),
        "loading",
    );
    ask(&mut alice, "Loud", "LOADED!");

    ask(&mut alice, ".load-blueprint token", "token ready");
    ask(
        &mut alice,
        "'bal' .. 'ance=' .. Balances[ao.id]",
        "balance=1",
    );

    // Lua errors are shown and the session goes on.
    ask(&mut alice, "error('oops' .. '-from-pty')", "oops-from-pty");
    ask(&mut alice, "20 + 3", "23");

    // A handler typed at the prompt, then a message from another process reaches it, live.
    ask(
        &mut alice,
        "Handlers.add('hello', 'Hello', function(m) print('got hello: ' .. m.Data) end) return 'add' .. 'ed'",
        "added",
    );
    let alice_id = process_id(&mut alice);
    batch(
        &node,
        "bob",
        &format!("Send({{ Target = '{alice_id}', Action = 'Hello', Data = 'from bob' }})"),
    );
    alice.exp_string("got hello: from bob").unwrap();

    // A message nobody handles lands in the Inbox and is announced as aos announces it: the
    // sender, shortened, and the Action; `.inbox` shows its Data too.
    let bob_id = batch_id(&node, "bob");
    batch(
        &node,
        "bob",
        &format!("Send({{ Target = '{alice_id}', Action = 'Note', Data = 'just so you know' }})"),
    );
    alice
        .exp_string(&format!(
            "New Message From {}: Action = Note\r\n",
            short(&bob_id)
        ))
        .unwrap();
    ask(
        &mut alice,
        ".inbox",
        &format!("2: from {bob_id}, Action = Note, Data = just so you know"),
    );

    alice.send_line(".exit").unwrap();
    alice.exp_eof().unwrap();
}

#[test]
fn with_no_arguments_the_repl_opens_on_an_embedded_node() {
    // What `cargo run --release` does on a fresh machine: no node, no wallet, no flags.
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aos"));
    cmd.env("HOME", home.path()).env("TERM", "xterm");
    let mut repl = spawn_command(cmd, Some(TIMEOUT_MS)).unwrap();
    ready(&mut repl);
    // In aos's colours: a terminal and no NO_COLOR.
    repl.exp_string("\x1b[32mdefault\x1b[90m@\x1b[34maos-")
        .unwrap();
    // The answer on a line of its own (a bare "2" would also match escape codes).
    ask(&mut repl, "1 + 1", "\r\n2\r\n");
    repl.send_line(".exit").unwrap();
    repl.exp_eof().unwrap();
    assert!(home.path().join(".aos").join("wallet.json").exists());
}

#[test]
fn a_chatroom_between_two_shells_delivers_a_broadcast_live() {
    let node = Node::start();
    let home = node.home.path();
    let mut alice = shell(home, &node.url, "alice", &[]);
    let mut bob = shell(home, &node.url, "bob", &[]);
    ask(&mut alice, ".load-blueprint chatroom", "chatroom ready");
    ask(&mut bob, ".load-blueprint chatroom", "chatroom ready");
    let room = process_id(&mut alice);

    ask(
        &mut bob,
        &format!("Send({{ Target = '{room}', Action = 'Register' }}) return 'as' .. 'ked'"),
        "asked",
    );
    // The room answers in aos's words, as Data.
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
    ask(&mut alice, "'members=' .. #Members", "members=1");
}

#[test]
fn monitor_runs_cron_ticks_live_and_unmonitor_stops_them() {
    let node = Node::start();
    let home = node.home.path();
    let mut clock = shell(home, &node.url, "clock", &["--cron", "1-second"]);
    ask(
        &mut clock,
        "Handlers.add('tick', 'Cron', function(m) print('tick at ' .. m.Timestamp) end) return 'add' .. 'ed'",
        "added",
    );
    ask(&mut clock, ".monitor", "monitoring");
    clock.exp_string("tick at ").unwrap();
    ask(&mut clock, ".unmonitor", "not monitoring");
    clock.send_line(".exit").unwrap();
    clock.exp_eof().unwrap();
}

#[test]
fn dot_commands_editor_dryrun_pause_completion_and_history() {
    let node = Node::start();
    let home = node.home.path();
    let mut alice = shell(home, &node.url, "alice", &[]);

    ask(&mut alice, ".help", "this list");
    ask(&mut alice, ".nope", "unknown command .nope");

    // `.editor` collects lines until `.done` and sends them as one Eval; `.cancel` drops them.
    ask(&mut alice, ".editor", "editor mode");
    alice.send_line("Total = 0").unwrap();
    ready(&mut alice);
    alice
        .send_line("for i = 1, 4 do Total = Total + i end")
        .unwrap();
    ready(&mut alice);
    alice.send_line(".done").unwrap();
    ready(&mut alice);
    ask(&mut alice, "'total=' .. Total", "total=10");
    ask(&mut alice, ".editor", "editor mode");
    alice.send_line("Total = 99").unwrap();
    ready(&mut alice);
    alice.send_line(".cancel").unwrap();
    ready(&mut alice);
    ask(&mut alice, "'total=' .. Total", "total=10");

    // `.dryrun`: evals are answered but change nothing, and the prompt says so.
    ask(&mut alice, ".dryrun", "dry-run mode on");
    alice.exp_string("[dry-run] alice@aos-").unwrap();
    ask(&mut alice, "Total = 250 * 2 return Total", "500");
    ask(&mut alice, ".dryrun", "dry-run mode off");
    ask(&mut alice, "'total=' .. Total", "total=10");

    // Tab completes dot-commands and the process's globals, including ones defined this session.
    // (The Inbox holds the spawn message, from the wallet that spawned the process, as in aos.)
    let owner = crate::support::wallet(&home.join("wallet.json"));
    alice.send(".inb\t").unwrap();
    alice.send_line("").unwrap();
    alice.exp_string(&format!("\r\n1: from {owner}")).unwrap();
    ready(&mut alice);
    ask(&mut alice, "Inbox = {} return 'empt' .. 'ied'", "emptied");
    ask(&mut alice, ".inbox", "Inbox is empty");
    alice.send("Tota\t").unwrap();
    alice.send_line(" + 1").unwrap();
    alice.exp_string("\r\n11\r\n").unwrap();
    ready(&mut alice);

    // `.pause` queues what arrives; `.live` prints the queue and shows what arrives from then on.
    ask(
        &mut alice,
        "Handlers.add('hello', 'Hello', function(m) print('got: ' .. m.Data) end) return 'add' .. 'ed'",
        "added",
    );
    let alice_id = process_id(&mut alice);
    ask(&mut alice, ".pause", "live feed paused");
    let hello = |data: &str| {
        format!("Send({{ Target = '{alice_id}', Action = 'Hello', Data = '{data}' }})")
    };
    batch(&node, "bob", &hello("while-paused"));
    // Longer than the feed's poll, so a paused feed had its chance to print.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    alice.send_line(".live").unwrap();
    let during_pause = alice.exp_string("live feed on").unwrap();
    // What arrived while paused was queued, and `.live` prints it.
    alice.exp_string("got: while-paused").unwrap();
    ready(&mut alice);
    // Half a line typed when the message arrives: it prints above, and the line survives.
    alice.send("6 *").unwrap();
    batch(&node, "bob", &hello("while-live"));
    let before = alice.exp_string("got: while-live").unwrap();
    assert!(
        !during_pause.contains("got: while-paused") && !before.contains("got: while-paused"),
        "a paused feed printed, or printed twice: {during_pause:?} {before:?}"
    );
    alice.send_line(" 7").unwrap();
    alice.exp_string("\r\n42\r\n").unwrap();
    ready(&mut alice);

    alice.send_line(".exit").unwrap();
    alice.exp_eof().unwrap();
    // History is kept per process in the data dir.
    let history = home
        .join(".aos")
        .join("history")
        .join(format!("{alice_id}.txt"));
    let kept =
        std::fs::read_to_string(&history).unwrap_or_else(|e| panic!("{}: {e}", history.display()));
    assert!(kept.contains("'total=' .. Total"), "{kept}");
}

#[test]
fn the_live_feed_of_a_long_lived_process_shows_only_what_is_new() {
    let node = Node::start();
    let home = node.home.path();
    // More printed results than one page of the feed (1,000): none of them is news.
    let setup = "Handlers.add('hello', 'Hello', function(m) print('got: ' .. m.Data) end)";
    batch(&node, "busy", setup);
    for round in 0..2 {
        batch(
            &node,
            "busy",
            &format!(
                "for i = 1, 550 do Send({{ Target = ao.id, Action = 'Hello', Data = 'old-{round}-' .. i }}) end"
            ),
        );
    }
    let mut busy = shell(home, &node.url, "busy", &[]);
    let busy_id = process_id(&mut busy);
    // Longer than the feed's poll: old results had their chance to show.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    batch(
        &node,
        "bob",
        &format!("Send({{ Target = '{busy_id}', Action = 'Hello', Data = 'fresh' }})"),
    );
    let before = busy.exp_string("got: fresh").unwrap();
    assert!(
        !before.contains("got: old"),
        "old results shown as new: {before:?}"
    );
}
