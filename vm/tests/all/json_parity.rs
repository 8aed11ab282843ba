//! The native `json` behaves as the pure-Lua codec it replaced (kept in `json_reference.lua`):
//! the same text for every encodable value, the same values (and integer/float subtypes) for
//! every text, and failures in the same places, in wasm and natively.

use aos_vm::NativeProcess;

use crate::support::process;

fn script() -> String {
    format!(
        "REF = load({:?})()\n{}",
        include_str!("json_reference.lua"),
        include_str!("json_parity.lua")
    )
}

#[test]
fn native_json_matches_the_lua_reference_in_wasm() {
    let mut p = process();
    let outcome = p.eval_script(&script()).unwrap();
    assert_eq!(outcome["ok"], true, "{}", outcome["error"]);
}

#[test]
fn native_json_matches_the_lua_reference_natively() {
    let mut p = NativeProcess::new(200 << 20).unwrap();
    let outcome = p.eval_script(&script());
    assert_eq!(outcome["ok"], true, "{}", outcome["error"]);
}
