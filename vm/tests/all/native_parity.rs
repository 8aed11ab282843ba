//! The native runtime (mlua) and the wasm runtime give the same results for the same messages.

use aos_vm::NativeProcess;

use crate::support::{env, eval_message, process, spawn_message};

#[test]
fn native_and_wasm_agree_on_the_same_messages() {
    let mut wasm = process();
    let mut native = NativeProcess::new(200 * 1024 * 1024).unwrap();
    native.handle(&spawn_message(), &env());
    let programs = [
        "1 + 1",
        "X = { a = 1, b = 'two', c = { 3, 4 } } return X.c[2]",
        "string.format('%5.2f|%d|%s|%q', 3.14159, 42, 'x', 'y\\n')",
        "local t = {} for w in string.gmatch('one two three', '%a+') do t[#t + 1] = w:upper() end return table.concat(t, ',')",
        "return math.random(1, 100)",
        "return os.time()",
        "return os.date('%Y-%m-%d', 86400 * 365)",
        "error('native and wasm fail alike')",
        "local ok, e = pcall(error, { code = 7 }) return e.code",
        "return 7 // 2, 7 / 2, 2^53, math.maxinteger",
        "return utf8.char(228, 8364) .. #utf8.char(8364)",
        "x = = 1",
        "local ok, e = xpcall(function() error('deep') end, debug.traceback) return e",
        "local c = require('.crypto').cipher return c.aes.encrypt('ao', 'super_secret_shh', nil, 'CTR', 128).asHex() .. c.morus.encrypt(string.rep('k', 32), string.rep('n', 16), 'm', 'a').asHex() .. c.norx.encrypt(string.rep('k', 32), string.rep('n', 32), 'x').asHex() .. c.issac.encrypt('ao', 'k').asHex() .. require('.crypto').random(0, 1000)",
    ];
    for (i, code) in programs.iter().enumerate() {
        let slot = i as u64 + 1;
        let message = eval_message(slot, code);
        let from_wasm: serde_json::Value =
            serde_json::from_str(wasm.handle(&message, &env()).unwrap().result_json()).unwrap();
        let mut from_native = native.handle(&message, &env());
        let mut from_wasm = from_wasm;
        from_wasm.as_object_mut().unwrap().remove("GasUsed");
        if let Some(map) = from_native.as_object_mut() {
            map.remove("GasUsed");
        }
        assert_eq!(from_wasm, from_native, "program {code:?}");
        if code.contains("traceback") || code.contains("cipher") {
            assert!(
                from_native.get("Error").is_none_or(|e| e.is_null()),
                "{from_native}"
            );
        }
    }
}
