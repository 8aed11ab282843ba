//! snapshot → restore in a fresh instance → continue: the same as never stopping.

use crate::support::{env, eval_message, vm};

#[test]
fn restore_continues_exactly_where_the_snapshot_was_taken() {
    let (vm, module) = vm();
    let env = env();
    let messages: Vec<String> = std::iter::once(crate::support::spawn_message())
        .chain((1..=60u64).map(|slot| {
            eval_message(
                slot,
                &format!(
                    "Balances = Balances or {{}} Balances['a{slot}'] = tostring({slot} * 1000) \
                     local co = Co or coroutine.create(function() while true do coroutine.yield(math.random()) end end) Co = co \
                     return select(2, coroutine.resume(co))"
                ),
            )
        }))
        .collect();
    let (first, second) = messages.split_at(31);

    let mut straight = vm.spawn(&module).unwrap();
    let straight_results: Vec<String> = messages
        .iter()
        .map(|m| straight.handle(m, &env).unwrap().result_json().to_owned())
        .collect();

    let mut before = vm.spawn(&module).unwrap();
    for m in first {
        before.handle(m, &env).unwrap();
    }
    let bytes = before.snapshot().unwrap().to_bytes();
    drop(before);
    let snapshot = aos_vm::Snapshot::from_bytes(&bytes).unwrap();
    let mut after = vm.restore(&module, &snapshot).unwrap();
    let resumed: Vec<String> = second
        .iter()
        .map(|m| after.handle(m, &env).unwrap().result_json().to_owned())
        .collect();
    assert_eq!(&straight_results[31..], &resumed[..]);
    assert_eq!(
        straight.snapshot().unwrap().memory_hash(),
        after.snapshot().unwrap().memory_hash()
    );
    // An error after a restore rolls back to the restored state.
    let r = after
        .handle(&eval_message(99, "Balances = nil error('x')"), &env)
        .unwrap();
    assert!(r.error().is_some());
    let r = after
        .handle(&eval_message(100, "Balances.a7"), &env)
        .unwrap();
    assert!(r.result_json().contains("7000"), "{}", r.result_json());
}

#[test]
fn bad_snapshots_are_errors() {
    let (vm, module) = vm();
    assert!(aos_vm::Snapshot::from_bytes(b"nope").is_err());
    let p = vm.spawn(&module).unwrap();
    let mut bytes = p.snapshot().unwrap().to_bytes();
    bytes.truncate(bytes.len() / 2);
    assert!(aos_vm::Snapshot::from_bytes(&bytes).is_err());
}

#[test]
fn the_committed_module_embeds_the_current_lua_library() {
    let (vm, module) = vm();
    let mut p = vm.spawn(&module).unwrap();
    assert_eq!(
        p.library_hash().unwrap(),
        aos_vm::library_hash(),
        "lua/ changed since vm/module/process.wasm was built: run scripts/build-module"
    );
}

/// A snapshot in format 1 (zstd of the whole memory), written by the code before format 2 of
/// a process of the emscripten test module after `Kept = '…' Count = 41`.
const FORMAT_1: &[u8] = include_bytes!("../fixtures/emscripten32-v1.snapshot");
const FORMAT_1_HASH: &str = "efdb90afc71e1e12071e9cc6d0bc885998345dc38da4521a94393a2d2e3b119f";

#[test]
fn a_format_1_snapshot_still_restores_and_continues() {
    let vm = aos_vm::Vm::new(crate::support::config()).unwrap();
    let module = vm
        .load_module(include_bytes!("../../module/emscripten32.wasm"))
        .unwrap();
    let snapshot = aos_vm::Snapshot::from_bytes(FORMAT_1).unwrap();
    assert_eq!(snapshot.memory_hash(), FORMAT_1_HASH);
    let mut p = vm.restore(&module, &snapshot).unwrap();
    let r = p
        .handle(
            &eval_message(2, "Count = Count + 1 return Kept .. ' ' .. Count"),
            &env(),
        )
        .unwrap();
    assert!(
        r.result_json()
            .contains("made by the v1 snapshot format 42"),
        "{}",
        r.result_json()
    );
    // Written again it is format 2, and reads back as the same memory.
    let again = snapshot.to_bytes();
    assert!(again.starts_with(b"AOSSNAP2"));
    assert!(again.len() < FORMAT_1.len() * 4, "{} bytes", again.len());
    let back = aos_vm::Snapshot::from_bytes(&again).unwrap();
    assert_eq!(back.memory_hash(), FORMAT_1_HASH);
    assert_eq!(back, snapshot);
}

#[test]
fn equal_memories_give_equal_snapshot_bytes() {
    let (vm, module) = vm();
    let run = || {
        let mut p = vm.spawn(&module).unwrap();
        p.handle(&crate::support::spawn_message(), &env()).unwrap();
        p.handle(
            &eval_message(
                1,
                "Big = string.rep('x', 300000) .. string.rep('\\0', 300000) N = 7",
            ),
            &env(),
        )
        .unwrap();
        p.snapshot().unwrap().to_bytes()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    // Reading and writing again changes nothing either.
    assert_eq!(aos_vm::Snapshot::from_bytes(&a).unwrap().to_bytes(), a);
}

#[test]
fn a_restored_format_2_snapshot_has_the_same_memory_and_rolls_back_to_it() {
    let (vm, module) = vm();
    let mut p = vm.spawn(&module).unwrap();
    p.handle(&crate::support::spawn_message(), &env()).unwrap();
    // Zero pages beyond the initial memory (skipped in the snapshot), and data after them.
    p.handle(
        &eval_message(
            1,
            "Zeros = string.rep('\\0', 3000000) After = 'after the zeros'",
        ),
        &env(),
    )
    .unwrap();
    let snapshot = p.snapshot().unwrap();
    let restored = vm
        .restore(
            &module,
            &aos_vm::Snapshot::from_bytes(&snapshot.to_bytes()).unwrap(),
        )
        .unwrap();
    assert_eq!(
        restored.snapshot().unwrap().memory_hash(),
        snapshot.memory_hash()
    );
    let mut restored = restored;
    let r = restored
        .handle(&eval_message(2, "After = nil error('no')"), &env())
        .unwrap();
    assert!(r.error().is_some());
    assert_eq!(
        restored.snapshot().unwrap().memory_hash(),
        snapshot.memory_hash()
    );
    let r = restored.handle(&eval_message(3, "After"), &env()).unwrap();
    assert!(
        r.result_json().contains("after the zeros"),
        "{}",
        r.result_json()
    );
}

#[test]
fn corrupt_format_2_snapshots_are_errors() {
    let (vm, module) = vm();
    let p = vm.spawn(&module).unwrap();
    let bytes = p.snapshot().unwrap().to_bytes();
    for cut in [9, 20, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            aos_vm::Snapshot::from_bytes(&bytes[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    // A chunk whose data is garbage parses but cannot be restored.
    let mut garbled = bytes.clone();
    let end = garbled.len();
    for b in &mut garbled[end - 200..] {
        *b = 0xff;
    }
    if let Ok(snapshot) = aos_vm::Snapshot::from_bytes(&garbled) {
        assert!(vm.restore(&module, &snapshot).is_err());
    }
}

#[test]
fn a_big_snapshot_decodes_on_two_threads_to_the_same_memory() {
    let vm = aos_vm::Vm::new(aos_vm::VmConfig {
        fuel_per_message: 10_000_000_000,
        ..crate::support::config()
    })
    .unwrap();
    let module = vm.load_module(aos_vm::DEFAULT_MODULE).unwrap();
    let mut p = vm.spawn(&module).unwrap();
    p.handle(&crate::support::spawn_message(), &env()).unwrap();
    // ~24 MB: data in both halves, zero chunks between, the odd chunk that LZ4 cannot shrink.
    let r = p
        .handle(
            &eval_message(
                1,
                "Low = string.rep('ab', 4e6) Gap = string.rep('\\0', 6e6) \
                 local t = {} for i = 1, 3e5 do t[i] = string.char((i * 7919) % 251) end \
                 Noise = table.concat(t) High = string.rep('cd', 4e6) return #Low",
            ),
            &env(),
        )
        .unwrap();
    assert!(r.error().is_none(), "{}", r.result_json());
    let snapshot = p.snapshot().unwrap();
    assert!(
        snapshot.memory_len() > 16 << 20,
        "{}",
        snapshot.memory_len()
    );
    let read = aos_vm::Snapshot::from_bytes(&snapshot.to_bytes()).unwrap();
    assert_eq!(read.memory_hash(), snapshot.memory_hash());
    let mut restored = vm.restore(&module, &read).unwrap();
    assert_eq!(
        restored.snapshot().unwrap().memory_hash(),
        snapshot.memory_hash()
    );
    let r = restored
        .handle(&eval_message(2, "#Low + #High + #Noise"), &env())
        .unwrap();
    assert!(r.result_json().contains("16300000"), "{}", r.result_json());
}
