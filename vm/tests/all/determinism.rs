//! Same module + same ordered log ⇒ same results and same memory, in any fresh process.

use aos_vm::Vm;

use crate::support::{config, env, eval_message, spawn_message};

/// A varied 1,000-message log: state, tables, strings, floats, randomness, time, errors.
fn log() -> Vec<String> {
    let mut log = vec![spawn_message()];
    for slot in 1..=1000u64 {
        let code = match slot % 7 {
            0 => "T = T or {} T[#T + 1] = math.random(1, 1000000) return #T".to_owned(),
            1 => format!("S = (S or '') .. string.format('%.3f;', {slot} / 7) return #S"),
            2 => "return os.time()".to_owned(),
            3 => format!("K = K or {{}} K['k{slot}'] = {slot} * 1.5 local n = 0 for _ in pairs(K) do n = n + 1 end return n"),
            4 => "error('deliberate')".to_owned(),
            5 => format!("return tostring(0/0) .. tostring(1/0) .. tostring({slot} // 3)"),
            _ => "local c = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end) return c(1) + c(5)".to_owned(),
        };
        log.push(eval_message(slot, &code));
    }
    log
}

#[test]
fn two_fresh_processes_replaying_one_log_agree_byte_for_byte() {
    let vm = Vm::new(config()).unwrap();
    let module = vm.load_module(aos_vm::DEFAULT_MODULE).unwrap();
    let env = env();
    let log = log();
    let run = || {
        let mut p = vm.spawn(&module).unwrap();
        let results: Vec<String> = log
            .iter()
            .map(|m| p.handle(m, &env).unwrap().result_json().to_owned())
            .collect();
        (results, p.snapshot().unwrap().memory_hash())
    };
    let (a, hash_a) = run();
    let (b, hash_b) = run();
    assert_eq!(a.len(), 1001);
    for (slot, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "slot {slot} differs");
    }
    assert_eq!(hash_a, hash_b, "memory differs after the same log");
    // The log really exercised the interesting paths.
    assert!(a[4].contains("deliberate"), "{}", a[4]);
    assert!(
        a[2].contains("1700000002000"),
        "os.time is the message timestamp: {}",
        a[2]
    );
    let gas: Vec<u64> = a
        .iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(r).unwrap()["GasUsed"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(gas.iter().all(|g| *g > 0));
}
