//! A runaway loop, an out-of-memory handler, a syntax error and a runtime error each end their
//! message with `Error`, and the process answers the next one with its state from before.

use crate::support::{eval, output, process};

#[test]
fn basic_eval_and_state() {
    let mut p = process();
    assert_eq!(output(&eval(&mut p, 1, "1 + 1")), "2");
    eval(&mut p, 2, "X = 10");
    assert_eq!(output(&eval(&mut p, 3, "X * 2")), "20");
}

#[test]
fn runaway_loop_is_an_error_and_leaves_no_trace() {
    let mut p = process();
    eval(&mut p, 1, "X = 1");
    // The test, not the runtime, looks at the clock: the loop must end in bounded time.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let r = eval(&mut p, 2, "X = 2 while true do end");
    assert!(r["Error"].as_str().unwrap().contains("fuel"), "{r}");
    assert!(started.elapsed().as_secs() < 30);
    assert_eq!(output(&eval(&mut p, 3, "X")), "1");
}

#[test]
fn out_of_memory_is_an_error_and_leaves_no_trace() {
    let mut p = process();
    eval(&mut p, 1, "X = 1");
    let r = eval(
        &mut p,
        2,
        "X = 2 local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1024) .. i end",
    );
    let error = r["Error"].as_str().unwrap_or_default();
    assert!(error.contains("memory") || error.contains("fuel"), "{r}");
    assert_eq!(output(&eval(&mut p, 3, "X")), "1");
    // And it can still allocate normally.
    assert_eq!(output(&eval(&mut p, 4, "#string.rep('y', 1000)")), "1000");
}

#[test]
fn syntax_and_runtime_errors_are_results() {
    let mut p = process();
    eval(&mut p, 1, "X = 1");
    let r = eval(&mut p, 2, "X = = 2");
    assert!(r["Error"].is_string(), "{r}");
    let r = eval(&mut p, 3, "X = 3 error('boom')");
    assert!(r["Error"].as_str().unwrap().contains("boom"), "{r}");
    let r = eval(&mut p, 4, "X = 4 local t = nil; return t.field");
    assert!(r["Error"].is_string(), "{r}");
    assert_eq!(output(&eval(&mut p, 5, "X")), "1");
}

/// A process of `module` (already limited or not) that has handled its spawn message.
fn spawned(vm: &aos_vm::Vm, module: &aos_vm::Module) -> aos_vm::Process {
    let mut p = vm.spawn(module).unwrap();
    let outcome = p
        .handle(&crate::support::spawn_message(), &crate::support::env())
        .unwrap();
    assert!(outcome.error().is_none(), "{}", outcome.result_json());
    p
}

#[test]
fn a_process_limit_lowers_the_runtime_limits_and_never_raises_them() {
    let vm = aos_vm::Vm::new(aos_vm::VmConfig {
        fuel_per_message: 2_000_000_000,
        memory_limit: 96 << 20,
        ..crate::support::config()
    })
    .unwrap();
    let module = vm.load_module(aos_vm::DEFAULT_MODULE).unwrap();
    let work = "local t = 0 for i = 1, 1e6 do t = t + i end return t";

    // Compute: the runtime's fuel runs the loop; a lower process limit stops it; a higher one
    // is the runtime's.
    let mut plain = spawned(&vm, &module);
    assert!(eval(&mut plain, 1, work)["Error"].is_null());
    let mut low = spawned(&vm, &module.limited(Some(50_000_000), None));
    let r = eval(&mut low, 1, work);
    assert!(r["Error"].as_str().unwrap().contains("fuel"), "{r}");
    assert_eq!(r["GasUsed"], 50_000_000, "{r}");
    let mut high = spawned(&vm, &module.limited(Some(u64::MAX), None));
    let r = eval(&mut high, 1, "while true do end");
    assert_eq!(r["GasUsed"], 2_000_000_000u64, "{r}");

    // Memory: a lower ceiling is honoured (the Lua heap cap follows it, so running out is a Lua
    // error); a higher one is the runtime's.
    let bomb = "X = string.rep('x', 40 * 1024 * 1024) return #X";
    let mut small = spawned(&vm, &module.limited(None, Some(32 << 20)));
    let r = eval(&mut small, 1, bomb);
    assert!(r["Error"].as_str().unwrap().contains("memory"), "{r}");
    assert!(small.memory_len() <= 32 << 20, "{}", small.memory_len());
    let mut big = spawned(&vm, &module.limited(None, Some(1 << 40)));
    assert_eq!(output(&eval(&mut big, 1, bomb)), (40 << 20).to_string());
    let r = eval(
        &mut big,
        2,
        "Y = string.rep('y', 100 * 1024 * 1024) return #Y",
    );
    assert!(r["Error"].as_str().unwrap().contains("memory"), "{r}");
    assert!(big.memory_len() <= 96 << 20, "{}", big.memory_len());

    // The least a node lets a spawn ask for is enough to start (see aos-units' limits).
    let mut least = spawned(&vm, &module.limited(None, Some(16 << 20)));
    assert_eq!(output(&eval(&mut least, 1, "1 + 1")), "2");
}

#[test]
fn a_dry_run_gets_less_fuel_than_a_message() {
    let vm = aos_vm::Vm::new(aos_vm::VmConfig {
        fuel_per_message: 2_000_000_000,
        fuel_per_dry_run: 50_000_000,
        ..crate::support::config()
    })
    .unwrap();
    let module = vm.load_module(aos_vm::DEFAULT_MODULE).unwrap();
    let mut p = spawned(&vm, &module);
    let work =
        crate::support::eval_message(1, "local t = 0 for i = 1, 1e6 do t = t + i end return t");
    let dry = p.dry_run(&work, &crate::support::env()).unwrap();
    assert!(
        dry.error().is_some_and(|e| e.contains("fuel")),
        "{}",
        dry.result_json()
    );
    assert_eq!(dry.gas_used(), 50_000_000);
    let real = p.handle(&work, &crate::support::env()).unwrap();
    assert!(real.error().is_none(), "{}", real.result_json());
}

/// A message's tables are built in one protected call with the Lua heap's cap in force
/// (`vm/glue/src/to_lua.rs`): near the cap a message too big for what is left fails and leaves
/// no trace, and small ones still run.
#[test]
fn near_the_memory_cap_a_big_message_fails_and_small_ones_still_run() {
    let vm = aos_vm::Vm::new(aos_vm::VmConfig {
        memory_limit: 32 << 20,
        fuel_per_message: 10_000_000_000,
        ..crate::support::config()
    })
    .unwrap();
    let module = vm.load_module(aos_vm::DEFAULT_MODULE).unwrap();
    let mut p = spawned(&vm, &module);
    // Until an allocation fails (at the Lua cap or the memory ceiling), then ~200 KB freed.
    let fill = "Fill = {} pcall(function() for i = 1, 1e9 do Fill[i] = string.rep('f', 4096) .. i end end) \
                for i = #Fill, #Fill - 50, -1 do Fill[i] = nil end collectgarbage() return #Fill";
    let filled = output(&eval(&mut p, 1, fill));
    assert!(filled.parse::<u32>().unwrap() > 1000, "{filled}");
    let big = crate::support::eval_message(2, &format!("-- {}\nreturn 1", "d".repeat(8 << 20)));
    let r = crate::support::result(
        p.handle(&big, &crate::support::env())
            .unwrap()
            .result_json(),
    );
    assert!(r["Error"].is_string(), "{r}");
    for slot in 3..20 {
        assert_eq!(output(&eval(&mut p, slot, "#Fill")), filled);
    }
}
