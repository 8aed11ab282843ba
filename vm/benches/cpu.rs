//! `cargo bench -p aos-vm --bench cpu`: per-message cost as this thread's CPU time (user + system,
//! `CLOCK_THREAD_CPUTIME_ID`) and as fuel, for a trivial Eval and a token `Transfer`, on wasm and
//! native Lua. On a shared machine wall-clock figures (the criterion benches) swing with the
//! load; CPU time swings much less and fuel not at all, so before/after comparisons use these.
//! Each figure is the best of `AOS_BENCH_ROUNDS` (default 7) rounds of 500 messages.

use std::hint::black_box;

use aos_vm::{NativeProcess, Process, Vm, VmConfig};

mod common;
use common::{FUND_OWNER, env, message, ready_process, spawn_msg};

fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the given, valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

const BATCH: u64 = 500;

fn best_of(rounds: usize, slot: &mut u64, mut run: impl FnMut(u64)) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let start = cpu_seconds();
        for _ in 0..BATCH {
            *slot += 1;
            run(*slot);
        }
        best = best.min((cpu_seconds() - start) / BATCH as f64);
    }
    best * 1e6
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
    let wasm_transfer = best_of(rounds, &mut slot, |s| {
        black_box(wasm.handle(&transfer(s), &env).expect("transfer"));
    });
    let native_transfer = best_of(rounds, &mut slot, |s| {
        black_box(native.handle(&transfer(s), &env));
    });
    println!("cpu per message, best of {rounds} rounds of {BATCH}:");
    println!(
        "  trivial-eval    wasm {wasm_eval:7.1} µs  native {native_eval:6.1} µs  ratio {:.2}  fuel {gas_eval}",
        wasm_eval / native_eval
    );
    println!(
        "  token-transfer  wasm {wasm_transfer:7.1} µs  native {native_transfer:6.1} µs  ratio {:.2}  fuel {gas_transfer}",
        wasm_transfer / native_transfer
    );
}
