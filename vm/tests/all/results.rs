//! What a result may carry: bytes that are not UTF-8 never fail a message (they are converted
//! lossily, each invalid sequence becoming U+FFFD), and any `Error` that is not null rolls the
//! message back, even an empty one.

use aos_vm::NativeProcess;
use serde_json::Value;

use crate::support::{env, eval, eval_message, output, process, spawn_message};

const NON_UTF8: &str =
    r#"print("\xff\xfe") Send({ Target = "PEER", Data = "\xff" }) return "ok\xc3""#;

fn check_lossy(r: &Value) {
    assert!(r.get("Error").is_none(), "{r}");
    let out = output(r);
    assert!(out.contains("\u{fffd}\u{fffd}"), "{out:?}");
    assert!(out.contains("ok\u{fffd}"), "{out:?}");
    assert_eq!(r["Messages"][0]["Data"], "\u{fffd}", "{r}");
}

#[test]
fn non_utf8_print_and_data_do_not_fail_the_message() {
    let mut p = process();
    check_lossy(&eval(&mut p, 1, NON_UTF8));
    // The message kept its state changes like any successful one.
    eval(&mut p, 2, "Kept = true");
    assert_eq!(output(&eval(&mut p, 3, "Kept")), "true");
}

#[test]
fn non_utf8_results_are_lossy_natively_too() {
    let mut native = NativeProcess::new(200 << 20).unwrap();
    native.handle(&spawn_message(), &env());
    check_lossy(&native.handle(&eval_message(1, NON_UTF8), &env()));
}

#[test]
fn an_empty_error_rolls_the_message_back() {
    let mut p = process();
    eval(&mut p, 1, "X = 1");
    let r = eval(&mut p, 2, r#"X = 2 error("", 0)"#);
    // The library always says something, and the runtime fails the message either way.
    assert!(r["Error"].as_str().is_some_and(|e| !e.is_empty()), "{r}");
    assert_eq!(output(&eval(&mut p, 3, "X")), "1");
}

#[test]
fn is_error_counts_every_error_that_is_not_null() {
    use aos_vm_glue::is_error;
    use serde_json::json;
    assert!(is_error(&json!({"Error": ""})));
    assert!(is_error(&json!({"Error": false})));
    assert!(is_error(&json!({"Error": "boom"})));
    assert!(!is_error(&json!({"Error": null})));
    assert!(!is_error(&json!({"Output": ""})));
}
