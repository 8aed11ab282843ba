//! Dry-runs on a reused scratch copy: they see the process as it is now and leave no trace in
//! it, and a scratch that trapped is not reused.

use aos_vm::{Attempt, Scratch};

use crate::support::{env, eval, eval_message, output, process, result, vm};

fn dry(scratch: Scratch, code: &str) -> (String, Option<Scratch>) {
    let (outcome, back) = scratch.dry_run(&eval_message(99, code), &env()).unwrap();
    (output(&result(outcome.result_json())), back)
}

#[test]
fn a_refreshed_scratch_sees_the_process_as_it_is_now_and_changes_nothing() {
    let (vm, module) = vm();
    let mut p = process();
    eval(&mut p, 2, "X = 1");
    let scratch = Scratch::new(&vm, &module, &p.snapshot().unwrap()).unwrap();
    let (seen, back) = dry(scratch, "X = X + 10 return X");
    assert_eq!(seen, "11");
    let mut scratch = back.expect("a clean run keeps the scratch");
    // The dry-run's change stays in the scratch until it is refreshed, never in the process.
    assert_eq!(output(&eval(&mut p, 3, "X = X + 1 return X")), "2");
    assert!(p.refresh_scratch(&mut scratch).unwrap());
    // A small memory is compared whole at first: with a message between two dry-runs that is
    // cheaper than the faults of tracking its writes.
    assert!(p.memory_len() < aos_vm::TRACK_WRITES_FROM);
    assert!(!scratch.knows_its_writes());
    let (seen, back) = dry(scratch, "return X");
    assert_eq!(seen, "2");
    // A Lua error returns normally: the scratch is still good.
    let mut scratch = back.unwrap();
    assert!(p.refresh_scratch(&mut scratch).unwrap());
    let (outcome, back) = scratch
        .dry_run(&eval_message(100, "error('no')"), &env())
        .unwrap();
    assert!(outcome.error().is_some() || outcome.result_json().contains("no"));
    let mut scratch = back.expect("a Lua error does not spoil the scratch");
    assert!(p.refresh_scratch(&mut scratch).unwrap());
    assert_eq!(dry(scratch, "return X").0, "2");
    assert_eq!(output(&eval(&mut p, 4, "return X")), "2");
}

#[test]
fn a_scratch_that_ran_out_of_fuel_is_not_reused() {
    let vm = aos_vm::Vm::new(aos_vm::VmConfig {
        fuel_per_dry_run: 20_000_000,
        ..crate::support::config()
    })
    .unwrap();
    let module = vm.load_module(aos_vm::DEFAULT_MODULE).unwrap();
    let mut p = vm.spawn(&module).unwrap();
    p.handle(&crate::support::spawn_message(), &env()).unwrap();
    let scratch = Scratch::new(&vm, &module, &p.snapshot().unwrap()).unwrap();
    let (outcome, back) = scratch
        .dry_run(&eval_message(2, "while true do end"), &env())
        .unwrap();
    assert!(
        outcome.error().is_some_and(|e| e.contains("fuel")),
        "{}",
        outcome.result_json()
    );
    assert!(back.is_none());
}

#[test]
fn a_scratch_larger_than_the_process_is_replaced() {
    let (vm, module) = vm();
    let mut p = process();
    let scratch = Scratch::new(&vm, &module, &p.snapshot().unwrap()).unwrap();
    // The dry-run grows the scratch's memory past the process's.
    let (_, back) = dry(
        scratch,
        "Big = string.rep('x', 8 * 1024 * 1024) return #Big",
    );
    let mut scratch = back.unwrap();
    assert!(scratch.memory_len() > p.memory_len());
    assert!(!p.refresh_scratch(&mut scratch).unwrap());
    eval(&mut p, 2, "Y = 3");
    let fresh = Scratch::new(&vm, &module, &p.snapshot().unwrap()).unwrap();
    assert_eq!(dry(fresh, "return Y").0, "3");
}

#[test]
fn a_scratch_refreshed_after_a_dry_run_that_wrote_everywhere_runs_as_the_process_does() {
    let (vm, module) = vm();
    let mut p = process();
    // Room in the heap (memory never shrinks), so that the dry-run below needs no more.
    eval(
        &mut p,
        2,
        "local t = {} for i = 1, 40000 do t[i] = string.rep('r', 60) .. i end t = nil collectgarbage() Keep = 'k'",
    );
    let scratch = Scratch::new(&vm, &module, &p.snapshot().unwrap()).unwrap();
    // Pages all over the heap change in the scratch, and the process moves on meanwhile.
    let (seen, back) = dry(
        scratch,
        "Big = {} for i = 1, 5000 do Big[i] = string.rep('b', i % 50) end Keep = nil return #Big",
    );
    assert_eq!(seen, "5000");
    let mut scratch = back.unwrap();
    eval(&mut p, 3, "Moved = true");
    assert!(p.refresh_scratch(&mut scratch).unwrap());
    let probe = "return tostring(Big) .. tostring(Moved) .. Keep .. collectgarbage('count')";
    let (outcome, _) = scratch.dry_run(&eval_message(4, probe), &env()).unwrap();
    let real = p.handle(&eval_message(4, probe), &env()).unwrap();
    assert!(output(&result(real.result_json())).starts_with("niltruek"));
    // Same memory, byte for byte: the same answer (heap size included) for the same fuel.
    assert_eq!(outcome.result_json(), real.result_json());
    assert_eq!(outcome.gas_used(), real.gas_used());
}

#[test]
fn a_dry_run_that_finishes_within_its_slice_answers_as_with_its_whole_budget() {
    let (vm, module) = vm();
    let mut p = process();
    eval(&mut p, 2, "X = 41");
    let code = "X = X + 1 local s = 0 for i = 1, 1000 do s = s + i end return X .. ':' .. s";
    let whole = Scratch::new(&vm, &module, &p.snapshot().unwrap()).unwrap();
    let (expected, _) = whole.dry_run(&eval_message(3, code), &env()).unwrap();
    let sliced = Scratch::new(&vm, &module, &p.snapshot().unwrap()).unwrap();
    let Attempt::Finished(outcome, back) = sliced
        .dry_run_within(&eval_message(3, code), &env(), 50_000_000)
        .unwrap()
    else {
        panic!("a small read finishes within 50M fuel");
    };
    assert_eq!(output(&result(outcome.result_json())), "42:500500");
    // Same result, same GasUsed: the slice is not seen by the process.
    assert_eq!(outcome.result_json(), expected.result_json());
    assert_eq!(outcome.gas_used(), expected.gas_used());
    assert!(back.is_some(), "a finished run keeps its scratch");
}

#[test]
fn a_dry_run_that_outgrows_its_slice_is_unfinished_not_an_out_of_fuel_answer() {
    let (vm, module) = vm();
    let p = process();
    let code = "local s = 0 for i = 1, 2000000 do s = s + i end return s";
    let sliced = Scratch::new(&vm, &module, &p.snapshot().unwrap()).unwrap();
    let attempt = sliced
        .dry_run_within(&eval_message(2, code), &env(), 1_000_000)
        .unwrap();
    assert!(matches!(attempt, Attempt::Unfinished), "{attempt:?}");
    // With its whole budget the same dry-run answers.
    let whole = Scratch::new(&vm, &module, &p.snapshot().unwrap()).unwrap();
    let (outcome, _) = whole.dry_run(&eval_message(2, code), &env()).unwrap();
    assert_eq!(output(&result(outcome.result_json())), "2000001000000");
}

#[test]
fn a_scratch_refreshed_from_what_either_side_wrote_is_the_process_byte_for_byte() {
    let (vm, module) = vm();
    let mut p = process();
    // Room in the heap first, so that no dry-run below grows its copy past the process.
    eval(
        &mut p,
        2,
        "local r = string.rep('r', 8000000) r = nil collectgarbage() T = {} for i = 1, 2000 do T[i] = 'v' .. i end",
    );
    assert!(
        p.memory_len() >= aos_vm::TRACK_WRITES_FROM,
        "big enough to be tracked"
    );
    let mut scratch = Scratch::new(&vm, &module, &p.snapshot().unwrap()).unwrap();
    // The first refresh compares whole memories and starts tracking both sides.
    assert!(p.refresh_scratch(&mut scratch).unwrap());
    assert!(scratch.same_memory_as(&p));
    let tracked = scratch.knows_its_writes();
    if !tracked {
        eprintln!("this kernel does not track writes: every refresh compares whole memories");
    }
    let steps: [(&str, &str); 6] = [
        ("T[5] = 'five'", "T[7] = nil collectgarbage() return #T"),
        (
            "for i = 1, 500 do T[i] = nil end",
            "X = string.rep('x', 100000) return #X",
        ),
        (
            "Big = string.rep('b', 3000000)",
            "Big = nil collectgarbage() return 1",
        ),
        (
            "collectgarbage()",
            "for i = 1, 3000 do T[i] = i end return 2",
        ),
        ("return 1", "return 3"),
        ("T = nil collectgarbage()", "T = {} return 4"),
    ];
    for (n, (real, dry_code)) in steps.iter().enumerate() {
        let (_, back) = dry(scratch, dry_code);
        scratch = back.expect("a clean dry-run keeps its scratch");
        eval(&mut p, 3 + n as u64, real);
        assert!(p.refresh_scratch(&mut scratch).unwrap());
        assert!(
            scratch.same_memory_as(&p),
            "after step {n}: {real} / {dry_code}"
        );
        assert_eq!(scratch.knows_its_writes(), tracked);
    }
    // And it answers as the process does.
    let probe = "return tostring(T and #T) .. ':' .. collectgarbage('count')";
    let (outcome, _) = scratch.dry_run(&eval_message(20, probe), &env()).unwrap();
    let real = p.handle(&eval_message(20, probe), &env()).unwrap();
    assert_eq!(outcome.result_json(), real.result_json());
}

#[test]
fn a_scratch_last_refreshed_from_a_rolled_back_process_compares_whole_memories() {
    let (vm, module) = vm();
    let mut p = process();
    eval(&mut p, 2, "X = 1");
    let mut scratch = Scratch::new(&vm, &module, &p.snapshot().unwrap()).unwrap();
    assert!(p.refresh_scratch(&mut scratch).unwrap());
    // A failing message rolls the process back onto a fresh instance: its writes since are
    // not known to the scratch's record, so the refresh must compare everything.
    eval(&mut p, 3, "X = 2");
    let failed = p
        .handle(&eval_message(4, "X = 3 error('no')"), &env())
        .unwrap();
    assert!(failed.error().is_some() || failed.result_json().contains("no"));
    eval(&mut p, 5, "X = X + 10");
    assert!(p.refresh_scratch(&mut scratch).unwrap());
    assert!(scratch.same_memory_as(&p));
    assert_eq!(dry(scratch, "return X").0, "12");
}

#[test]
fn a_small_process_is_tracked_while_only_dry_runs_change_it_and_compared_whole_once_busy() {
    let (vm, module) = vm();
    let mut p = process();
    eval(&mut p, 2, "T = {}");
    assert!(p.memory_len() < aos_vm::TRACK_WRITES_FROM);
    let mut scratch = Scratch::new(&vm, &module, &p.snapshot().unwrap()).unwrap();
    assert!(p.refresh_scratch(&mut scratch).unwrap());
    assert!(
        !scratch.knows_its_writes(),
        "the first refresh compares whole memories"
    );
    // Reads only: few pages change, so the next refreshes copy what the kernel says changed.
    for n in 0..3 {
        let (_, back) = dry(scratch, "return #T");
        scratch = back.unwrap();
        assert!(p.refresh_scratch(&mut scratch).unwrap());
        assert!(scratch.same_memory_as(&p));
        if n > 0 && !scratch.knows_its_writes() {
            eprintln!("this kernel does not track writes: every refresh compares whole memories");
            return;
        }
    }
    assert!(scratch.knows_its_writes());
    // A message that rewrites much of the heap: still exact, and then back to comparing.
    eval(
        &mut p,
        3,
        "for i = 1, 4000 do T[i] = string.rep('x', 90) .. i end collectgarbage()",
    );
    assert!(p.refresh_scratch(&mut scratch).unwrap());
    assert!(scratch.same_memory_as(&p));
    eval(&mut p, 4, "T[1] = 'one'");
    assert!(p.refresh_scratch(&mut scratch).unwrap());
    assert!(scratch.same_memory_as(&p));
    assert!(
        !scratch.knows_its_writes(),
        "many changed pages: compared whole"
    );
    assert_eq!(dry(scratch, "return T[1] .. #T").0, "one4000");
}
