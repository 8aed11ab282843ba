//! `cargo bench -p aos-vm --bench cpu`: per-message cost as this thread's CPU time (user + system,
//! `CLOCK_THREAD_CPUTIME_ID`) and as fuel, for a trivial Eval and a token `Transfer`, on wasm and
//! native Lua. On a shared machine wall-clock figures (the criterion benches) swing with the
//! load; CPU time swings much less and fuel not at all, so before/after comparisons use these.
//! Each figure is the best of `AOS_BENCH_ROUNDS` (default 7) rounds of 500 messages.
//! `AOS_BENCH_HEAP_MB=0,100,1000` adds a token process whose heap is grown by that many MB of
//! strings: the mean CPU per Transfer over twice as many rounds, and the best restore of its
//! snapshot, and the best dry-run read after a Transfer (refreshing the scratch, then the read)
//! with the mean cost of those Transfers (the process's writes are tracked for the dry-runs).
//! `AOS_BENCH_PROCESSES=100` adds the trivial Eval handed round-robin to that many
//! processes: what a node serving many processes pays when each message finds its process's
//! memory out of the caches. The `statement-eval` row is an Eval of an assignment (what a shell
//! user mostly types). The `node-eval` row is the trivial Eval with the message and env a
//! node hands a process (every message field, the spawn's and the module's tags), which cost
//! more to bring into Lua than the other rows' minimal ones.

use std::hint::black_box;

use aos_vm::{NativeProcess, Process, Vm, VmConfig};

mod common;
use common::{FUND_OWNER, env, message, ready_process, spawn_msg};

fn cpu_seconds() -> f64 {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// All threads of the process: a big restore decodes on two.
fn process_cpu_seconds() -> f64 {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn clock(id: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the given, valid pointer.
    unsafe { libc::clock_gettime(id, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

const BATCH: u64 = 500;

fn best_of(rounds: usize, slot: &mut u64, run: impl FnMut(u64)) -> f64 {
    rounds_of(rounds, slot, run).0
}

/// (best, mean) µs per message over `rounds` rounds of `BATCH`.
fn rounds_of(rounds: usize, slot: &mut u64, mut run: impl FnMut(u64)) -> (f64, f64) {
    let mut best = f64::MAX;
    let mut total = 0.0;
    for _ in 0..rounds {
        let start = cpu_seconds();
        for _ in 0..BATCH {
            *slot += 1;
            run(*slot);
        }
        let spent = cpu_seconds() - start;
        total += spent;
        best = best.min(spent / BATCH as f64);
    }
    (best * 1e6, total / (rounds as f64 * BATCH as f64) * 1e6)
}

fn transfer(slot: u64) -> String {
    let to = format!("user{}", slot % 5000);
    message(
        slot,
        "Transfer",
        "",
        &[("Recipient", to.as_str()), ("Quantity", "1")],
    )
}

/// Tags as a message or env carries them: `[{name, value}, …]`.
fn tag_list(list: &[(&str, &str)]) -> serde_json::Value {
    list.iter()
        .map(|(name, value)| serde_json::json!({"name": name, "value": value}))
        .collect()
}

/// The env a node gives an aos process (`units/src/cu/input.rs`): its spawn's tags and the
/// module's, with real-length ids.
fn node_env() -> String {
    let id = "p".repeat(43);
    serde_json::json!({
        "Process": {"Id": id, "Owner": id, "Tags": tag_list(&[
            ("Data-Protocol", "ao"), ("Variant", "ao.TN.1"), ("Type", "Process"),
            ("Name", "default"), ("Module", &id), ("Scheduler", &id), ("Authority", &id),
            ("SDK", "aos"),
        ])},
        "Module": {"Id": id, "Tags": tag_list(&[
            ("Data-Protocol", "ao"), ("Variant", "ao.TN.1"), ("Type", "Module"),
            ("Module-Format", "wasm32-unknown-aos"), ("Input-Encoding", "JSON-1"),
            ("Output-Encoding", "JSON-1"), ("Memory-Limit", "256-mb"),
            ("Compute-Limit", "10000000000"),
        ])},
    })
    .to_string()
}

/// A signed message as a node hands it to the process: every field `message_json` writes.
fn node_message(slot: u64, kind: &str, action: Option<&str>, data: &str) -> String {
    let owner = "o".repeat(43);
    let mut tags = vec![
        ("Data-Protocol", "ao"),
        ("Variant", "ao.TN.1"),
        ("Type", kind),
    ];
    tags.extend(action.map(|a| ("Action", a)));
    tags.push(("SDK", "aoconnect"));
    let tags = tag_list(&tags);
    serde_json::json!({
        "Id": format!("{slot:0>43}"), "From": owner, "Owner": owner, "Target": "p".repeat(43),
        "Tags": tags, "Data": data, "Anchor": null,
        "Timestamp": 1_700_000_000_000u64 + slot, "Block-Height": 0, "Nonce": slot, "Epoch": 0,
        "Hash-Chain": format!("{slot:h>43}"), "Module": "m".repeat(43), "Cron": false,
        "Forwarded-By": null, "Read-Only": false,
    })
    .to_string()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rounds = std::env::var("AOS_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let env = env();
    let vm = Vm::new(VmConfig {
        cache_dir: Some(std::env::temp_dir().join("aos-bench-cache")),
        ..VmConfig::default()
    })
    .expect("vm");
    let mut wasm: Process = ready_process(&vm);
    let mut native = NativeProcess::new(200 << 20).expect("native");
    native.handle(&spawn_msg(), &env);
    let token = include_str!("../../lua/blueprints/token.lua");
    for code in [token, FUND_OWNER] {
        let r = wasm
            .handle(&message(1, "Eval", code, &[]), &env)
            .expect("setup");
        assert!(r.error().is_none(), "{}", r.result_json());
        native.handle(&message(1, "Eval", code, &[]), &env);
    }
    let mut slot = 10;
    let gas_eval = wasm
        .handle(&message(2, "Eval", "1 + 1", &[]), &env)
        .expect("eval")
        .gas_used();
    let first = wasm.handle(&transfer(3), &env).expect("transfer");
    assert!(
        first.result_json().contains("Debit-Notice"),
        "{}",
        first.result_json()
    );
    let gas_transfer = first.gas_used();

    let eval = |slot| message(slot, "Eval", "1 + 1", &[]);
    let wasm_eval = best_of(rounds, &mut slot, |s| {
        black_box(wasm.handle(&eval(s), &env).expect("eval"));
    });
    let native_eval = best_of(rounds, &mut slot, |s| {
        black_box(native.handle(&eval(s), &env));
    });
    // What a shell user mostly types: a statement, which `return <code>` cannot compile.
    let statement = |slot| message(slot, "Eval", "N = (N or 0) + 1", &[]);
    let gas_statement = wasm
        .handle(&statement(4), &env)
        .expect("statement")
        .gas_used();
    let wasm_statement = best_of(rounds, &mut slot, |s| {
        black_box(wasm.handle(&statement(s), &env).expect("statement"));
    });
    let native_statement = best_of(rounds, &mut slot, |s| {
        black_box(native.handle(&statement(s), &env));
    });
    let wasm_transfer = best_of(rounds, &mut slot, |s| {
        black_box(wasm.handle(&transfer(s), &env).expect("transfer"));
    });
    let native_transfer = best_of(rounds, &mut slot, |s| {
        black_box(native.handle(&transfer(s), &env));
    });
    let node_env = node_env();
    let node_eval = |slot| node_message(slot, "Message", Some("Eval"), "1 + 1");
    let module = vm.load_module(aos_vm::DEFAULT_MODULE).expect("module");
    let mut node_wasm = vm.spawn(&module).expect("spawn");
    let mut node_native = NativeProcess::new(200 << 20).expect("native");
    let spawn = node_message(0, "Process", None, "");
    node_wasm.handle(&spawn, &node_env).expect("spawn");
    node_native.handle(&spawn, &node_env);
    let first = node_wasm
        .handle(&node_eval(1), &node_env)
        .expect("node eval");
    assert!(
        first.result_json().contains("\"2\""),
        "{}",
        first.result_json()
    );
    let gas_node = first.gas_used();
    let wasm_node = best_of(rounds, &mut slot, |s| {
        black_box(node_wasm.handle(&node_eval(s), &node_env).expect("eval"));
    });
    let native_node = best_of(rounds, &mut slot, |s| {
        black_box(node_native.handle(&node_eval(s), &node_env));
    });
    let heaps: Vec<u64> = std::env::var("AOS_BENCH_HEAP_MB")
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_default();
    let mut at_size = Vec::new();
    for &mb in &heaps {
        at_size.push(heap_figures(mb, rounds));
    }
    let spread = std::env::var("AOS_BENCH_PROCESSES")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .map(|n| {
            let mut many: Vec<Process> = (0..n).map(|_| ready_process(&vm)).collect();
            let mut next = 0;
            let cpu = best_of(rounds, &mut slot, |s| {
                next = (next + 1) % many.len();
                black_box(many[next].handle(&eval(s), &env).expect("eval"));
            });
            (n, cpu)
        });
    println!("cpu per message, best of {rounds} rounds of {BATCH}:");
    println!(
        "  trivial-eval    wasm {wasm_eval:7.1} µs  native {native_eval:6.1} µs  ratio {:.2}  fuel {gas_eval}",
        wasm_eval / native_eval
    );
    println!(
        "  statement-eval  wasm {wasm_statement:7.1} µs  native {native_statement:6.1} µs  ratio {:.2}  fuel {gas_statement}",
        wasm_statement / native_statement
    );
    println!(
        "  token-transfer  wasm {wasm_transfer:7.1} µs  native {native_transfer:6.1} µs  ratio {:.2}  fuel {gas_transfer}",
        wasm_transfer / native_transfer
    );
    println!(
        "  node-eval       wasm {wasm_node:7.1} µs  native {native_node:6.1} µs  ratio {:.2}  fuel {gas_node}",
        wasm_node / native_node
    );
    if let Some((n, cpu)) = spread {
        println!("  trivial-eval    wasm {cpu:7.1} µs  round-robin over {n} processes");
    }
    for (mb, transfer, restore, dry_run, between) in at_size {
        println!(
            "  heap {mb:>5} MB   token-transfer wasm {transfer:7.1} µs (mean of {} rounds)   restore {restore:6.1} ms (best, CPU of all threads)",
            rounds * 2
        );
        println!(
            "  heap {mb:>5} MB   dry-run after each Transfer {dry_run:7.1} µs (best of {n}, refresh + read)   Transfer between dry-runs {between:7.1} µs (mean of {n})",
            n = rounds * 20
        );
    }
}

/// A token process grown by `mb` MB of strings: CPU per Transfer, and per restore of its
/// snapshot (taken right after growing) into a process ready for a message.
fn heap_figures(mb: u64, rounds: usize) -> (u64, f64, f64, f64, f64) {
    let env = env();
    let vm = Vm::new(VmConfig {
        cache_dir: Some(std::env::temp_dir().join("aos-bench-cache")),
        memory_limit: 1536 << 20,
        ..VmConfig::default()
    })
    .expect("vm");
    let module = vm.load_module(aos_vm::DEFAULT_MODULE).expect("module");
    let mut p = ready_process(&vm);
    let token = include_str!("../../lua/blueprints/token.lua");
    for code in [token, FUND_OWNER] {
        let r = p
            .handle(&message(1, "Eval", code, &[]), &env)
            .expect("setup");
        assert!(r.error().is_none(), "{}", r.result_json());
    }
    let strings = mb * 1_000_000 / 120;
    let mut done = 0;
    let mut slot = 10;
    while done < strings {
        let n = (strings - done).min(1_000_000);
        let code = format!(
            "Heap = Heap or {{}} local n = #Heap for i = n + 1, n + {n} do \
             Heap[i] = string.format('%078d', i) end return #Heap"
        );
        let r = p
            .handle(&message(slot, "Eval", &code, &[]), &env)
            .expect("grow");
        assert!(r.error().is_none(), "{}", r.result_json());
        done += n;
        slot += 1;
    }
    let bytes = p.snapshot().expect("snapshot").to_bytes();
    let mut restore = f64::MAX;
    for _ in 0..rounds {
        let start = process_cpu_seconds();
        let snapshot = aos_vm::Snapshot::from_bytes(&bytes).expect("parse");
        let q = vm.restore(&module, &snapshot).expect("restore");
        restore = restore.min(process_cpu_seconds() - start);
        drop(q);
    }
    // The mean, not the best round: a big heap's cost is mostly in the rollback-point copies
    // that come every `4 × memory` fuel, i.e. in some rounds only.
    let (_, transfer_cpu) = rounds_of(rounds * 2, &mut slot, |s| {
        black_box(p.handle(&transfer(s), &env).expect("transfer"));
    });
    // A dry-run read after each Transfer, on the scratch a node keeps: the refresh from the
    // process (what either side wrote, or a whole-memory comparison) and the read itself.
    let mut scratch =
        aos_vm::Scratch::new(&vm, &module, &p.snapshot().expect("snapshot")).expect("scratch");
    let balance = message(0, "Balance", "", &[]);
    let mut dry_run = f64::MAX;
    let mut between = 0.0;
    for _ in 0..rounds * 20 {
        slot += 1;
        let start = cpu_seconds();
        black_box(p.handle(&transfer(slot), &env).expect("transfer"));
        between += cpu_seconds() - start;
        let start = cpu_seconds();
        assert!(p.refresh_scratch(&mut scratch).expect("refresh"));
        let (outcome, back) = scratch.dry_run(&balance, &env).expect("dry-run");
        dry_run = dry_run.min(cpu_seconds() - start);
        assert!(outcome.error().is_none(), "{}", outcome.result_json());
        scratch = back.expect("a read keeps its scratch");
    }
    let between = between / (rounds * 20) as f64;
    (
        mb,
        transfer_cpu,
        restore * 1e3,
        dry_run * 1e6,
        between * 1e6,
    )
}
