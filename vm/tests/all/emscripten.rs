//! AO's own module kind: the emscripten test modules (Lua 5.3 + vm/emscripten/process.lua, built
//! by scripts/build-emscripten-module) run behind the same Module/Process interface as ours, with
//! the same fuel, memory ceiling, rollback, snapshot and determinism guarantees. Every test runs
//! on both formats, wasm32 and wasm64.

use aos_vm::{ModuleFormat, ModuleOptions, Process, Vm, VmConfig, VmError};
use serde_json::{Value, json};

use crate::support::{PROCESS, config, env, eval_message, output, result, spawn_message};

const WASM32: &[u8] = include_bytes!("../../module/emscripten32.wasm");
const WASM64: &[u8] = include_bytes!("../../module/emscripten64.wasm");

const FORMATS: [(&[u8], ModuleFormat); 2] = [
    (WASM32, ModuleFormat::Emscripten32),
    (WASM64, ModuleFormat::Emscripten64),
];

fn spawn_with(vm: &Vm, bytes: &[u8], options: &ModuleOptions) -> Process {
    let module = vm.load_module_with(bytes, options).unwrap();
    let mut p = vm.spawn(&module).unwrap();
    let outcome = p.handle(&spawn_message(), &env()).unwrap();
    assert!(outcome.error().is_none(), "{}", outcome.result_json());
    p
}

fn spawn(bytes: &[u8]) -> Process {
    spawn_with(
        &Vm::new(config()).unwrap(),
        bytes,
        &ModuleOptions::default(),
    )
}

fn eval(p: &mut Process, slot: u64, code: &str) -> Value {
    result(
        p.handle(&eval_message(slot, code), &env())
            .unwrap()
            .result_json(),
    )
}

fn message(slot: u64, from: &str, action: &str, data: &str) -> String {
    json!({
        "Id": format!("MSG{slot:040}"), "From": from, "Owner": from, "Target": PROCESS,
        "Tags": [{"name": "Action", "value": action}], "Data": data,
        "Timestamp": 1_700_000_000_000u64 + slot * 1000, "Block-Height": 0, "Nonce": slot,
        "Hash-Chain": format!("chain-{slot}"), "Module": "MODULE",
    })
    .to_string()
}

#[test]
fn the_format_is_told_from_the_module_and_checked_against_the_tag() {
    let vm = Vm::new(config()).unwrap();
    for (bytes, format) in FORMATS {
        assert_eq!(vm.load_module(bytes).unwrap().format(), format);
        let other = if format == ModuleFormat::Emscripten32 {
            ModuleFormat::Emscripten64
        } else {
            ModuleFormat::Emscripten32
        };
        let wrong = ModuleOptions {
            format: Some(other),
            ..ModuleOptions::default()
        };
        assert!(matches!(
            vm.load_module_with(bytes, &wrong),
            Err(VmError::WrongFormat(_))
        ));
    }
    assert_eq!(
        vm.load_module(aos_vm::DEFAULT_MODULE).unwrap().format(),
        ModuleFormat::Aos
    );
}

#[test]
fn a_process_evaluates_and_keeps_its_state() {
    for (bytes, format) in FORMATS {
        let mut p = spawn(bytes);
        let r = eval(&mut p, 1, "1 + 1");
        assert_eq!(output(&r), "2", "{format:?}: {r}");
        assert!(r["GasUsed"].as_u64().unwrap() > 0, "{r}");
        assert_eq!(r["Output"]["prompt"], "emcc> ");
        eval(&mut p, 2, "X = 10");
        assert_eq!(output(&eval(&mut p, 3, "X * 2")), "20", "{format:?}");
        assert_eq!(
            output(&eval(&mut p, 4, "_VERSION")),
            "Lua 5.3",
            "{format:?}"
        );
        assert_eq!(output(&eval(&mut p, 5, "ao.id")), PROCESS, "{format:?}");
        // Time is the message's: slot 6 is stamped 1_700_000_006_000 ms.
        assert_eq!(
            output(&eval(&mut p, 6, "os.time()")),
            "1700000006",
            "{format:?}"
        );
        // Floats print through musl's printf (long-double code, which wasm64 must link right).
        let r = eval(
            &mut p,
            7,
            "tostring(1/7) .. string.format(' %.3f %g', 2.5, 1e308 * 10)",
        );
        assert_eq!(output(&r), "0.14285714285714 2.500 inf", "{format:?}: {r}");
        // A Lua error inside pcall unwinds through invoke_* and the process goes on.
        let r = eval(
            &mut p,
            8,
            "local ok, e = pcall(error, 'inner') return tostring(ok) .. ' ' .. e",
        );
        assert_eq!(output(&r), "false inner", "{format:?}: {r}");
        assert!(
            p.eval_script("1").is_err(),
            "eval_script is our modules' own"
        );
    }
}

#[test]
fn handlers_send_messages_and_spawns_in_ao_shape() {
    for (bytes, format) in FORMATS {
        let mut p = spawn(bytes);
        let r = eval(
            &mut p,
            1,
            "Handlers.add('ping', 'Ping', function(m) Send({Target = m.From, Action = 'Pong', Data = m.Data}) end) \
             Spawn('MODULE-X', {Name = 'child'}) return 'ok'",
        );
        assert_eq!(output(&r), "ok", "{format:?}: {r}");
        assert_eq!(r["Spawns"][0]["Module"], "MODULE-X", "{r}");
        let r = result(
            p.handle(&message(2, "SOMEONE", "Ping", "hello"), &env())
                .unwrap()
                .result_json(),
        );
        assert!(r.get("Error").is_none(), "{format:?}: {r}");
        let sent = &r["Messages"][0];
        assert_eq!(sent["Target"], "SOMEONE", "{r}");
        assert_eq!(sent["Data"], "hello", "{r}");
        assert!(
            sent["Tags"]
                .as_array()
                .unwrap()
                .contains(&json!({"name": "Action", "value": "Pong"})),
            "{r}"
        );
        for key in ["Assignments", "Spawns", "Output", "GasUsed"] {
            assert!(r.get(key).is_some(), "{key} missing: {r}");
        }
        // Only the owner may Eval: someone else's Eval lands in the Inbox (after the spawn).
        let r = result(
            p.handle(&message(3, "SOMEONE", "Eval", "X = 1"), &env())
                .unwrap()
                .result_json(),
        );
        assert_eq!(output(&r), "", "{r}");
        assert_eq!(
            output(&eval(&mut p, 4, "#Inbox .. ' ' .. tostring(X)")),
            "2 nil",
            "{format:?}"
        );
    }
}

#[test]
fn errors_are_results_and_roll_back() {
    for (bytes, format) in FORMATS {
        let mut p = spawn(bytes);
        eval(&mut p, 1, "X = 1");
        let r = eval(&mut p, 2, "X = 2 error('boom')");
        assert!(
            r["Error"].as_str().unwrap().contains("boom"),
            "{format:?}: {r}"
        );
        assert_eq!(r["Messages"], json!([]), "{r}");
        let r = eval(&mut p, 3, "X = = 3");
        assert!(r["Error"].is_string(), "{r}");
        assert_eq!(output(&eval(&mut p, 4, "X")), "1", "{format:?}");
    }
}

#[test]
fn a_runaway_loop_runs_out_of_fuel_without_losing_state() {
    for (bytes, format) in FORMATS {
        // The module's Compute-Limit lowers the runtime's fuel.
        let options = ModuleOptions {
            compute_limit: Some(50_000_000),
            ..ModuleOptions::default()
        };
        let mut p = spawn_with(&Vm::new(config()).unwrap(), bytes, &options);
        eval(&mut p, 1, "X = 1");
        let r = eval(&mut p, 2, "X = 2 while true do end");
        assert!(
            r["Error"].as_str().unwrap().contains("fuel"),
            "{format:?}: {r}"
        );
        assert_eq!(r["GasUsed"], 50_000_000, "{r}");
        assert_eq!(output(&eval(&mut p, 3, "X")), "1", "{format:?}");
    }
}

#[test]
fn a_memory_bomb_hits_the_ceiling_without_losing_state() {
    for (bytes, format) in FORMATS {
        // The module's Memory-Limit lowers the runtime's ceiling.
        let options = ModuleOptions {
            memory_limit: Some(32 << 20),
            ..ModuleOptions::default()
        };
        let vm = Vm::new(VmConfig {
            fuel_per_message: 4_000_000_000,
            ..config()
        })
        .unwrap();
        let mut p = spawn_with(&vm, bytes, &options);
        eval(&mut p, 1, "X = 1");
        let r = eval(
            &mut p,
            2,
            "X = 2 local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 4096) .. i end",
        );
        let error = r["Error"].as_str().unwrap_or_default();
        assert!(error.contains("memory"), "{format:?}: {r}");
        assert!(p.memory_len() <= 32 << 20, "{}", p.memory_len());
        assert_eq!(output(&eval(&mut p, 3, "X")), "1", "{format:?}");
        assert_eq!(
            output(&eval(&mut p, 4, "#string.rep('y', 100000)")),
            "100000",
            "{format:?}"
        );
    }
}

/// A log that grows state, uses randomness, time, coroutines and errors.
fn log() -> Vec<String> {
    let mut log = vec![spawn_message()];
    for slot in 1..=120u64 {
        let code = match slot % 5 {
            0 => "error('deliberate')".to_owned(),
            1 => format!("B = B or {{}} B['k{slot}'] = string.rep('v', {slot}) return #B"),
            2 => "T = T or {} T[#T + 1] = math.random(1, 1000000) return T[#T]".to_owned(),
            3 => "local c = coroutine.wrap(function(a) return coroutine.yield(a + 1) * 2 end) return c(1) + c(5)".to_owned(),
            _ => format!("S = (S or '') .. string.format('%.3f;', {slot} / 7) return os.time()"),
        };
        log.push(eval_message(slot, &code));
    }
    log
}

#[test]
fn the_same_log_gives_the_same_memory_on_two_fresh_vms() {
    let log = log();
    for (bytes, format) in FORMATS {
        let run = || {
            let vm = Vm::new(config()).unwrap();
            let module = vm.load_module(bytes).unwrap();
            let mut p = vm.spawn(&module).unwrap();
            let results: Vec<String> = log
                .iter()
                .map(|m| p.handle(m, &env()).unwrap().result_json().to_owned())
                .collect();
            (results, p.snapshot().unwrap().memory_hash())
        };
        let (a, hash_a) = run();
        let (b, hash_b) = run();
        assert_eq!(a, b, "{format:?}");
        assert_eq!(
            hash_a, hash_b,
            "{format:?}: memory differs after the same log"
        );
        assert!(a[5].contains("deliberate"), "{}", a[5]);
    }
}

#[test]
fn snapshot_restore_and_replay_match_a_straight_run() {
    let log = log();
    let (first, second) = log.split_at(61);
    for (bytes, format) in FORMATS {
        let vm = Vm::new(config()).unwrap();
        let module = vm.load_module(bytes).unwrap();
        let mut straight = vm.spawn(&module).unwrap();
        let expected: Vec<String> = log
            .iter()
            .map(|m| straight.handle(m, &env()).unwrap().result_json().to_owned())
            .collect();

        let mut before = vm.spawn(&module).unwrap();
        for m in first {
            before.handle(m, &env()).unwrap();
        }
        let bytes = before.snapshot().unwrap().to_bytes();
        drop(before);
        let snapshot = aos_vm::Snapshot::from_bytes(&bytes).unwrap();
        assert!(
            bytes.len() < snapshot.memory_len() / 4,
            "checkpoints are compressed"
        );
        let mut after = vm.restore(&module, &snapshot).unwrap();
        let resumed: Vec<String> = second
            .iter()
            .map(|m| after.handle(m, &env()).unwrap().result_json().to_owned())
            .collect();
        assert_eq!(&expected[61..], &resumed[..], "{format:?}");
        assert_eq!(
            straight.snapshot().unwrap().memory_hash(),
            after.snapshot().unwrap().memory_hash(),
            "{format:?}"
        );
        // A failure after the restore rolls back to the restored state.
        assert!(
            after
                .handle(&eval_message(500, "B = nil error('x')"), &env())
                .unwrap()
                .error()
                .is_some()
        );
        let r = after
            .handle(&eval_message(501, "#B['k1']"), &env())
            .unwrap();
        assert_eq!(output(&result(r.result_json())), "1", "{format:?}");
    }
}

#[test]
fn a_dry_run_leaves_no_trace() {
    for (bytes, format) in FORMATS {
        let mut p = spawn(bytes);
        eval(&mut p, 1, "X = 1");
        let r = p
            .dry_run(&eval_message(2, "X = 5 return X"), &env())
            .unwrap();
        assert_eq!(output(&result(r.result_json())), "5", "{format:?}");
        assert_eq!(output(&eval(&mut p, 3, "X")), "1", "{format:?}");
    }
}
