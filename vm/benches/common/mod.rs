//! Messages and processes the benches share.

use aos_vm::{Process, Vm};
use serde_json::json;

/// Gives the owner (the sender of the benches' messages) a balance in the token blueprint.
pub const FUND_OWNER: &str = "Balances[Owner] = '1000000000000000000000000' return Balances[Owner]";

pub fn env() -> String {
    json!({"Process": {"Id": "P", "Owner": "O", "Tags": [{"name": "Scheduler", "value": "S"}]},
           "Module": {"Id": "M", "Tags": []}})
    .to_string()
}

pub fn message(slot: u64, action: &str, data: &str, tags: &[(&str, &str)]) -> String {
    let mut all = vec![json!({"name": "Action", "value": action})];
    all.extend(tags.iter().map(|(n, v)| json!({"name": n, "value": v})));
    json!({"Id": format!("M{slot}"), "From": "O", "Owner": "O", "Target": "P", "Tags": all,
           "Data": data, "Timestamp": 1_700_000_000_000u64 + slot, "Nonce": slot,
           "Hash-Chain": format!("h{slot}"), "Block-Height": 0, "Module": "M"})
    .to_string()
}

pub fn spawn_msg() -> String {
    json!({"Id": "P", "From": "O", "Owner": "O", "Target": "P", "Data": "", "Nonce": 0,
           "Tags": [{"name": "Type", "value": "Process"}, {"name": "Scheduler", "value": "S"}],
           "Timestamp": 1_700_000_000_000u64, "Hash-Chain": "h0", "Module": "M"})
    .to_string()
}

/// A spawned process of the committed module, through its spawn message.
pub fn ready_process(vm: &Vm) -> Process {
    let module = vm.load_module(aos_vm::DEFAULT_MODULE).expect("module");
    let mut p = vm.spawn(&module).expect("spawn");
    p.handle(&spawn_msg(), &env()).expect("spawn message");
    p
}
