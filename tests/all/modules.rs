//! AO's module items on a node: `POST /mu` takes a signed `Type=Module` item, `/graphql` answers
//! it as a gateway would, and processes spawned on it run AO's emscripten modules (the test
//! modules of `scripts/build-emscripten-module`) beside processes on ours. Every test runs on
//! each emscripten format the project builds.

use aos_units::message::{DataItem, Ed25519Signer, ItemDraft, Signer};
use serde_json::{Value, json};

use crate::support::{TestNode, output};

const FORMATS: [(&[u8], &str); 2] = [
    (
        include_bytes!("../../vm/module/emscripten32.wasm"),
        "wasm32-unknown-emscripten4",
    ),
    (
        include_bytes!("../../vm/module/emscripten64.wasm"),
        "wasm64-unknown-emscripten-draft_2024_02_15",
    ),
];

/// Limits low enough that a runaway loop and a memory bomb end quickly, high enough for work.
const COMPUTE_LIMIT: &str = "1000000000";
const MEMORY_LIMIT: &str = "32-mb";

/// A module item as AO has it, with `tags` in place of (or after) the usual ones.
fn module_item(signer: &Ed25519Signer, wasm: &[u8], tags: &[(&str, &str)]) -> DataItem {
    let mut all: Vec<(&str, &str)> = vec![
        ("Data-Protocol", "ao"),
        ("Variant", "ao.TN.1"),
        ("Type", "Module"),
        ("Input-Encoding", "JSON-1"),
        ("Output-Encoding", "JSON-1"),
        ("Memory-Limit", MEMORY_LIMIT),
        ("Compute-Limit", COMPUTE_LIMIT),
    ];
    for (name, value) in tags {
        match all.iter_mut().find(|(n, _)| n == name) {
            Some(tag) => tag.1 = value,
            None => all.push((name, value)),
        }
    }
    let mut draft = ItemDraft::new(wasm.to_vec());
    for (name, value) in all {
        draft = draft.tag(name, value);
    }
    signer.sign(draft).unwrap()
}

/// Posts a module item that must be accepted; returns its id.
async fn add_module(node: &TestNode, item: &DataItem) -> String {
    let (status, body) = node.post_item(item).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["id"], item.id(), "{body}");
    item.id()
}

async fn spawn_on(node: &TestNode, signer: &Ed25519Signer, name: &str, module: &str) -> String {
    let info = node.info().await;
    let spawn = signer
        .sign(
            ItemDraft::new("")
                .tag("Data-Protocol", "ao")
                .tag("Variant", "ao.TN.1")
                .tag("Type", "Process")
                .tag("Name", name)
                .tag("Module", module)
                .tag("Scheduler", info["address"].as_str().unwrap()),
        )
        .unwrap();
    let (status, body) = node.post_item(&spawn).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let first = node.result(&id, &id).await;
    assert!(first["Error"].is_null(), "the spawn failed: {first}");
    id
}

/// What `/graphql` answers for `id`, as aoconnect's spawn asks for it.
async fn gateway_node(node: &TestNode, id: &str) -> Value {
    let query = json!({
        "query": "query GetTransactions ($transactionIds: [ID!]!) { transactions(ids: $transactionIds) { edges { node { owner { address } tags { name value } block { id height timestamp } } } } }",
        "variables": {"transactionIds": [id]},
    });
    let (status, body) = node
        .request(
            reqwest::Method::POST,
            "/graphql",
            query.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["transactions"]["edges"][0]["node"].clone()
}

fn tag(node: &Value, name: &str) -> Option<String> {
    node["tags"]
        .as_array()?
        .iter()
        .find(|t| t["name"] == name)
        .map(|t| t["value"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emscripten_processes_run_handlers_and_talk_to_processes_on_our_module() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([91; 32]);
    let ours = node.spawn(&me, "ours").await;
    node.eval_ok(
        &me,
        &ours,
        r#"Pings = {}
           Handlers.add("ping", Handlers.utils.hasMatchingTag("Action", "Ping"), function(msg)
             table.insert(Pings, msg.Data)
             Send({ Target = msg.From, Action = "Pong", Data = msg.Data .. "!" })
           end)
           return "ok""#,
    )
    .await;
    for (wasm, format) in FORMATS {
        let module = add_module(&node, &module_item(&me, wasm, &[("Module-Format", format)])).await;
        // The gateway view aoconnect's spawn checks: the signer as owner, the signed tags.
        let seen = gateway_node(&node, &module).await;
        assert_eq!(seen["owner"]["address"], me.address(), "{seen}");
        assert_eq!(tag(&seen, "Module-Format").as_deref(), Some(format));
        assert_eq!(tag(&seen, "Type").as_deref(), Some("Module"));
        assert_eq!(
            tag(&seen, "Input-Encoding").as_deref(),
            Some("JSON-1"),
            "{seen}"
        );

        let emcc = spawn_on(&node, &me, &format!("emcc-{format}"), &module).await;
        let r = node.eval(&me, &emcc, "1 + 1").await;
        assert_eq!(output(&r), "2", "{format}: {r}");
        assert_eq!(r["Output"]["prompt"], "emcc> ", "{r}");
        assert_eq!(output(&node.eval(&me, &emcc, "_VERSION").await), "Lua 5.3");
        // The process sees its module as the item presents it.
        let env = node
            .eval_ok(
                &me,
                &emcc,
                "local f for _, t in ipairs(ao.env.Module.Tags) do if t.name == 'Module-Format' then f = t.value end end \
                 return ao.env.Module.Id .. ' ' .. f .. ' ' .. ao.env.Module.Owner",
            )
            .await;
        assert_eq!(env, format!("{module} {format} {}", me.address()));

        // A handler on the emscripten process, a message to ours, ours answers, the answer runs
        // the handler.
        node.eval_ok(
            &me,
            &emcc,
            "Handlers.add('pong', 'Pong', function(m) Got = m.Data .. ' from ' .. m.From end) return 'ok'",
        )
        .await;
        let kick = node
            .eval(
                &me,
                &emcc,
                &format!(
                    "Send({{Target = '{ours}', Action = 'Ping', Data = '{format}'}}) return 'sent'"
                ),
            )
            .await;
        assert_eq!(output(&kick), "sent", "{kick}");
        assert_eq!(kick["Messages"][0]["Target"], ours, "{kick}");
        let got = node
            .eventually(
                &me,
                &emcc,
                "Got",
                &format!("{format}! from {ours}"),
                std::time::Duration::from_secs(20),
            )
            .await;
        assert_eq!(got, format!("{format}! from {ours}"));
        let pings = node.eval_ok(&me, &ours, "Pings[#Pings]").await;
        assert_eq!(pings, format);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emscripten_processes_fail_runaways_and_survive_kill_9() {
    for (wasm, format) in FORMATS {
        let node = TestNode::start_with(|config| config.cu.checkpoint_every = 3).await;
        let me = Ed25519Signer::from_secret([92; 32]);
        let module = add_module(&node, &module_item(&me, wasm, &[("Module-Format", format)])).await;
        let process = spawn_on(&node, &me, "sturdy", &module).await;
        node.eval_ok(&me, &process, "X = 1").await;
        // The module item's Compute-Limit stops the loop; its Memory-Limit stops the bomb.
        let r = node.eval(&me, &process, "X = 2 while true do end").await;
        let error = r["Error"].as_str().unwrap_or_default();
        assert!(error.contains("fuel"), "{format}: {r}");
        assert_eq!(r["GasUsed"].as_u64(), Some(1_000_000_000), "{r}");
        let r = node
            .eval(
                &me,
                &process,
                "X = 3 local t, s = {}, 'x' for i = 1, 64 do s = s .. s t[i] = s end",
            )
            .await;
        let error = r["Error"].as_str().unwrap_or_default();
        assert!(error.contains("memory"), "{format}: {r}");
        let memory = state(&node, &process).await.memory_len();
        assert!(
            memory <= 32 << 20,
            "{format}: the Memory-Limit did not hold: {memory}"
        );
        assert_eq!(node.eval_ok(&me, &process, "X").await, "1", "{format}");
        for _ in 0..4 {
            node.eval_ok(&me, &process, "X = X + 1").await;
        }
        let pid = aos_units::store::ProcessId::parse(&process).unwrap();
        let checkpoint = node
            .node
            .messenger()
            .compute()
            .checkpoint_slot(&pid)
            .unwrap();
        assert!(checkpoint.is_some(), "{format}: no checkpoint was written");
        let dir = node.crash().await;

        // Restart: the module item comes back from the store, the checkpoint is restored, the
        // rest of the log (failed messages stepped over) replayed.
        let node = TestNode::start_in(dir, |config| config.cu.checkpoint_every = 3).await;
        assert_eq!(node.eval_ok(&me, &process, "X").await, "5", "{format}");
        assert_eq!(
            node.eval_ok(&me, &process, "X = X * 10 return X").await,
            "50"
        );
        assert_eq!(
            tag(&gateway_node(&node, &module).await, "Module-Format").as_deref(),
            Some(format)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_module_item_and_log_give_the_same_memory_on_fresh_nodes() {
    for (wasm, format) in FORMATS {
        let node = TestNode::start().await;
        let me = Ed25519Signer::from_secret([93; 32]);
        let module = add_module(&node, &module_item(&me, wasm, &[("Module-Format", format)])).await;
        let process = spawn_on(&node, &me, "twin", &module).await;
        for code in [
            "T = {} for i = 1, 200 do T[i] = math.random(1, 1000) end return #T",
            "S = string.rep('s', 5000) .. os.time()",
            "error('rolled back')",
            "local c = coroutine.wrap(function(a) return coroutine.yield(a + 1) end) return c(1)",
            "U = {} for k = 1, 50 do U['k' .. k] = tostring(k / 7) end",
        ] {
            node.eval(&me, &process, code).await;
        }
        let live = memory_hash(&node, &process).await;
        node.node.shutdown().await.unwrap();
        let dir = node.crash().await;

        // Two fresh nodes on copies of that log and module item (and their own node keys),
        // each replaying it from slot 0 in a VM of its own.
        let mut hashes = Vec::new();
        for _ in 0..2 {
            let copy = tempfile::tempdir().unwrap();
            std::fs::copy(dir.path().join("node.redb"), copy.path().join("node.redb")).unwrap();
            let fresh =
                TestNode::start_in(copy, |config| config.cu.ignore_checkpoints = true).await;
            hashes.push(memory_hash(&fresh, &process).await);
        }
        assert_eq!(hashes[0], hashes[1], "{format}");
        assert_eq!(
            hashes[0], live,
            "{format}: a replay differs from the live run"
        );
    }
}

async fn memory_hash(node: &TestNode, process: &str) -> String {
    state(node, process).await.memory_hash()
}

async fn state(node: &TestNode, process: &str) -> aos::vm::Snapshot {
    let (status, bytes) = node.get_bytes(&format!("/cu/state/{process}")).await;
    assert_eq!(status, 200);
    aos::vm::Snapshot::from_bytes(&bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_module_items_are_refused_and_nothing_is_stored() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([94; 32]);
    let (wasm32, _) = FORMATS[0];
    let cases: Vec<(DataItem, &str)> = vec![
        (
            module_item(&me, wasm32, &[("Module-Format", "wasm32-unknown-unknown")]),
            "Module-Format",
        ),
        (
            module_item(
                &me,
                b"\0asm garbage",
                &[("Module-Format", "wasm32-unknown-emscripten4")],
            ),
            "does not load",
        ),
        (
            // A wasm32 module tagged as the wasm64 format.
            module_item(
                &me,
                wasm32,
                &[(
                    "Module-Format",
                    "wasm64-unknown-emscripten-draft_2024_02_15",
                )],
            ),
            "does not load",
        ),
        (
            module_item(
                &me,
                wasm32,
                &[
                    ("Module-Format", "wasm32-unknown-emscripten4"),
                    ("Memory-Limit", "a-lot"),
                ],
            ),
            "Memory-Limit",
        ),
        (
            module_item(
                &me,
                wasm32,
                &[
                    ("Module-Format", "wasm32-unknown-emscripten4"),
                    ("Compute-Limit", "many"),
                ],
            ),
            "Compute-Limit",
        ),
    ];
    for (item, why) in &cases {
        let (status, body) = node.post_item(item).await;
        assert_eq!(status, 400, "{body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(why), "{why}: {body}");
        assert_refused(&node, &me, &item.id()).await;
    }
    // A module item whose signature does not match its content.
    let good = module_item(
        &me,
        wasm32,
        &[("Module-Format", "wasm32-unknown-emscripten4")],
    );
    let mut bytes = good.to_bytes();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let (status, body) = node.post_bytes(bytes).await;
    assert_eq!(status, 401, "{body}");
    assert_refused(&node, &me, &good.id()).await;
}

/// Nothing of the refused module `id` is on the node: no gateway entry, no spawns on it.
async fn assert_refused(node: &TestNode, me: &Ed25519Signer, id: &str) {
    assert!(gateway_node(node, id).await.is_null(), "{id} was stored");
    let info = node.info().await;
    let spawn = me
        .sign(
            ItemDraft::new("")
                .tag("Data-Protocol", "ao")
                .tag("Type", "Process")
                .tag("Module", id)
                .tag("Scheduler", info["address"].as_str().unwrap()),
        )
        .unwrap();
    let (status, body) = node.post_item(&spawn).await;
    assert_eq!(status, 422, "a spawn on a refused module: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modules_known_by_hash_keep_working_beside_module_items() {
    // Stores from before module items hold modules by the sha256 of their wasm; such a module
    // still spawns, survives a restart and is presented with the format its wasm has.
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([95; 32]);
    let (wasm32, format) = FORMATS[0];
    let module = node.node.messenger().compute().add_module(wasm32).unwrap();
    assert_eq!(module, aos::vm::module_id(wasm32));
    let process = spawn_on(&node, &me, "by-hash", &module).await;
    node.eval_ok(&me, &process, "X = 7").await;
    let dir = node.crash().await;
    let node = TestNode::start_in(dir, |_| {}).await;
    assert_eq!(node.eval_ok(&me, &process, "X").await, "7");
    let seen = gateway_node(&node, &module).await;
    assert_eq!(tag(&seen, "Module-Format").as_deref(), Some(format));
    assert_eq!(seen["owner"]["address"], node.info().await["address"]);
    let default = node.info().await["default_module"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = gateway_node(&node, &default).await;
    assert_eq!(
        tag(&seen, "Module-Format").as_deref(),
        Some(aos::vm::AOS_FORMAT)
    );
}
