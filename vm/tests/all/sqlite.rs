//! SQLite inside a process: its database lives in the process's linear memory, so it persists
//! from message to message, a failed message rolls its changes back, and snapshots, restores and
//! replays give byte-identical memories (and so byte-identical databases).

use aos_vm::Process;

use crate::support::{env, eval, eval_message, output, process, spawn_message, vm};

const CREATE: &str = r#"
  Sql = require("lsqlite3")
  Db = Sql.open_memory()
  assert(Db:exec("CREATE TABLE balances(who TEXT PRIMARY KEY, amount INTEGER)") == Sql.OK, Db:errmsg())
  return "created"
"#;

fn insert(who: &str, amount: u64) -> String {
    format!(
        r#"local s = Db:prepare("INSERT INTO balances VALUES (?, ?)")
           s:bind_values({who:?}, {amount}) assert(s:step() == Sql.DONE, Db:errmsg()) s:finalize()
           return Db:total_changes()"#
    )
}

const LIST: &str = r#"
  local out = {}
  for row in Db:nrows("SELECT who, amount FROM balances ORDER BY who") do
    out[#out + 1] = row.who .. "=" .. row.amount
  end
  return table.concat(out, ",")
"#;

#[test]
fn a_table_made_in_one_message_is_there_in_the_next() {
    let mut p = process();
    assert_eq!(output(&eval(&mut p, 1, CREATE)), "created");
    assert_eq!(output(&eval(&mut p, 2, &insert("alice", 10))), "1");
    assert_eq!(output(&eval(&mut p, 3, &insert("bob", 20))), "2");
    assert_eq!(output(&eval(&mut p, 4, LIST)), "alice=10,bob=20");
}

#[test]
fn a_failed_message_rolls_back_its_sqlite_changes() {
    let mut p = process();
    eval(&mut p, 1, CREATE);
    eval(&mut p, 2, &insert("alice", 10));
    let failed = eval(
        &mut p,
        3,
        r#"Db:exec("UPDATE balances SET amount = 0; INSERT INTO balances VALUES ('mallory', 99)")
           error("handler failed after writing")"#,
    );
    assert!(
        failed["Error"].as_str().unwrap().contains("handler failed"),
        "{failed}"
    );
    assert_eq!(output(&eval(&mut p, 4, LIST)), "alice=10");
    // A failure inside SQLite (a constraint) is a code, not an error: the message keeps it.
    assert_eq!(
        output(&eval(
            &mut p,
            5,
            r#"return Db:exec("INSERT INTO balances VALUES ('alice', 1)")"#
        )),
        "19"
    );
}

fn messages() -> Vec<String> {
    let mut out = vec![spawn_message(), eval_message(1, CREATE)];
    for slot in 2..40u64 {
        out.push(eval_message(
            slot,
            &insert(&format!("user{slot}"), slot * 7),
        ));
    }
    out.push(eval_message(
        40,
        r#"for r in Db:urows("SELECT random(), datetime('now')") do return tostring(r) end"#,
    ));
    out
}

fn run(p: &mut Process, messages: &[String]) -> Vec<String> {
    messages
        .iter()
        .map(|m| p.handle(m, &env()).unwrap().result_json().to_owned())
        .collect()
}

#[test]
fn a_replay_gives_a_byte_identical_database() {
    let (vm, module) = vm();
    let messages = messages();
    let mut a = vm.spawn(&module).unwrap();
    let mut b = vm.spawn(&module).unwrap();
    assert_eq!(run(&mut a, &messages), run(&mut b, &messages));
    assert_eq!(
        a.snapshot().unwrap().memory_hash(),
        b.snapshot().unwrap().memory_hash()
    );
}

#[test]
fn snapshot_and_restore_give_a_byte_identical_database() {
    let (vm, module) = vm();
    let messages = messages();
    let (first, second) = messages.split_at(20);
    let mut straight = vm.spawn(&module).unwrap();
    let expected = run(&mut straight, &messages);

    let mut before = vm.spawn(&module).unwrap();
    run(&mut before, first);
    let bytes = before.snapshot().unwrap().to_bytes();
    drop(before);
    let snapshot = aos_vm::Snapshot::from_bytes(&bytes).unwrap();
    let mut after = vm.restore(&module, &snapshot).unwrap();
    assert_eq!(run(&mut after, second), expected[20..]);
    assert_eq!(
        after.snapshot().unwrap().memory_hash(),
        straight.snapshot().unwrap().memory_hash()
    );
}

#[test]
fn sqlite_randomness_and_time_come_from_the_message() {
    let mut p = process();
    eval(&mut p, 1, "Db = require('lsqlite3').open_memory()");
    let query = r#"local out for r, t in Db:urows("SELECT random(), datetime('now')") do out = r .. " " .. t end return out"#;
    let first = output(&eval(&mut p, 2, query));
    let again = output(&eval(&mut p, 3, query));
    // eval_message(slot) has Timestamp 1_700_000_000_000 + slot s: 2023-11-14 22:13:22 at slot 2.
    assert!(first.ends_with(" 2023-11-14 22:13:22"), "{first}");
    assert!(again.ends_with(" 2023-11-14 22:13:23"), "{again}");
    assert_ne!(
        first.split(' ').next(),
        again.split(' ').next(),
        "reseeded per message"
    );
    let mut q = process();
    eval(&mut q, 1, "Db = require('lsqlite3').open_memory()");
    assert_eq!(
        output(&eval(&mut q, 2, query)),
        first,
        "the same message draws the same"
    );
}
