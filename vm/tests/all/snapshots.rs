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
