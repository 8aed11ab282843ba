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
