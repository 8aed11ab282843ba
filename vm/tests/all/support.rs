//! Realistic messages and a VM that shares one compiled-module cache across the test run.

use aos_vm::{Module, Process, Vm, VmConfig};
use serde_json::{Value, json};

pub const OWNER: &str = "OWNER_ADDRESS_OWNER_ADDRESS_OWNER_ADDRESS_0";
pub const PROCESS: &str = "PROCESS_ID_PROCESS_ID_PROCESS_ID_PROCESS_I0";

pub fn config() -> VmConfig {
    VmConfig {
        cache_dir: Some(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("aos-module-cache")),
        // Low enough that a runaway loop ends fast in a test; plenty for the library.
        fuel_per_message: 400_000_000,
        ..VmConfig::default()
    }
}

pub fn vm() -> (Vm, Module) {
    let vm = Vm::new(config()).unwrap();
    let module = vm.load_module(aos_vm::DEFAULT_MODULE).unwrap();
    (vm, module)
}

pub fn env() -> String {
    json!({
        "Process": {
            "Id": PROCESS,
            "Owner": OWNER,
            "Tags": [
                {"name": "Type", "value": "Process"},
                {"name": "Name", "value": "test"},
                {"name": "Scheduler", "value": "SCHEDULER"},
            ],
        },
        "Module": {"Id": "MODULE", "Tags": [{"name": "Type", "value": "Module"}]},
    })
    .to_string()
}

/// Slot 0: the spawn itself.
pub fn spawn_message() -> String {
    json!({
        "Id": PROCESS,
        "From": OWNER,
        "Owner": OWNER,
        "Target": PROCESS,
        "Tags": [
            {"name": "Data-Protocol", "value": "ao"},
            {"name": "Type", "value": "Process"},
            {"name": "Name", "value": "test"},
            {"name": "Scheduler", "value": "SCHEDULER"},
        ],
        "Data": "",
        "Timestamp": 1_700_000_000_000u64,
        "Block-Height": 0,
        "Nonce": 0,
        "Hash-Chain": "chain-0",
        "Module": "MODULE",
    })
    .to_string()
}

pub fn eval_message(slot: u64, code: &str) -> String {
    json!({
        "Id": format!("MSG{slot:040}"),
        "From": OWNER,
        "Owner": OWNER,
        "Target": PROCESS,
        "Tags": [
            {"name": "Data-Protocol", "value": "ao"},
            {"name": "Type", "value": "Message"},
            {"name": "Action", "value": "Eval"},
        ],
        "Data": code,
        "Timestamp": 1_700_000_000_000u64 + slot * 1000,
        "Block-Height": 0,
        "Nonce": slot,
        "Hash-Chain": format!("chain-{slot}"),
        "Module": "MODULE",
    })
    .to_string()
}

/// A spawned process that has handled its spawn message.
pub fn process() -> Process {
    let (vm, module) = vm();
    let mut p = vm.spawn(&module).unwrap();
    let outcome = p.handle(&spawn_message(), &env()).unwrap();
    assert!(outcome.error().is_none(), "{}", outcome.result_json());
    p
}

pub fn result(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

/// The Output text of a result.
pub fn output(result: &Value) -> String {
    match &result["Output"] {
        Value::Object(map) => match map.get("data") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn eval(p: &mut Process, slot: u64, code: &str) -> Value {
    result(
        p.handle(&eval_message(slot, code), &env())
            .unwrap()
            .result_json(),
    )
}
