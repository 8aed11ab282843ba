//! `cargo bench -p aos-vm`: message throughput (wasm vs native, and our module vs AO's emscripten
//! kind on the test modules), spawn time, snapshot size and restore time. Numbers go to
//! BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use aos_vm::{NativeProcess, Vm, VmConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod common;
use common::{env, message, ready_process, spawn_msg};

fn vm() -> Vm {
    Vm::new(VmConfig {
        cache_dir: Some(std::env::temp_dir().join("aos-bench-cache")),
        ..VmConfig::default()
    })
    .expect("vm")
}

fn throughput(c: &mut Criterion) {
    let env = env();
    let vm = vm();
    let mut group = c.benchmark_group("messages");
    group.throughput(Throughput::Elements(1));

    let mut wasm = ready_process(&vm);
    let mut slot = 1;
    group.bench_function("wasm/trivial-eval", |b| {
        b.iter(|| {
            slot += 1;
            black_box(
                wasm.handle(&message(slot, "Eval", "1 + 1", &[]), &env)
                    .expect("handle"),
            )
        })
    });
    let mut native = NativeProcess::new(200 << 20).expect("native");
    native.handle(&spawn_msg(), &env);
    group.bench_function("native/trivial-eval", |b| {
        b.iter(|| {
            slot += 1;
            black_box(native.handle(&message(slot, "Eval", "1 + 1", &[]), &env))
        })
    });

    // The token blueprint, and Transfer messages through its Handlers (with Debit/Credit notices).
    let token = include_str!("../../lua/blueprints/token.lua");
    let load = wasm
        .handle(&message(1, "Eval", token, &[]), &env)
        .expect("token");
    assert!(load.error().is_none(), "{}", load.result_json());
    native.handle(&message(1, "Eval", token, &[]), &env);
    // The sender holds tokens, so every Transfer debits, credits and sends both notices. (A
    // `Mint` from the owner would be refused: only the process itself may mint.)
    let fund = common::FUND_OWNER;
    let funded = wasm
        .handle(&message(2, "Eval", fund, &[]), &env)
        .expect("fund");
    assert!(funded.error().is_none(), "{}", funded.result_json());
    native.handle(&message(2, "Eval", fund, &[]), &env);
    let first = [("Recipient", "user0"), ("Quantity", "1")];
    let wasm_first = wasm
        .handle(&message(3, "Transfer", "", &first), &env)
        .expect("transfer");
    assert!(wasm_first.result_json().contains("Debit-Notice"));
    let native_first = native.handle(&message(3, "Transfer", "", &first), &env);
    assert!(native_first.to_string().contains("Debit-Notice"));
    group.bench_function("wasm/token-transfer", |b| {
        b.iter(|| {
            slot += 1;
            let to = format!("user{}", slot % 5000);
            let tags = [("Recipient", to.as_str()), ("Quantity", "1")];
            black_box(
                wasm.handle(&message(slot, "Transfer", "", &tags), &env)
                    .expect("handle"),
            )
        })
    });
    group.bench_function("native/token-transfer", |b| {
        b.iter(|| {
            slot += 1;
            let to = format!("user{}", slot % 5000);
            let tags = [("Recipient", to.as_str()), ("Quantity", "1")];
            black_box(native.handle(&message(slot, "Transfer", "", &tags), &env))
        })
    });
    group.finish();
}

/// Per-message time on the emscripten test modules (Lua 5.3, wasm32 and wasm64) next to ours on
/// the same work: a trivial eval and a handler that sends a message.
fn emscripten(c: &mut Criterion) {
    let env = env();
    let vm = vm();
    let mut group = c.benchmark_group("kinds");
    group.throughput(Throughput::Elements(1));
    let modules: [(&str, &[u8]); 3] = [
        ("aos", aos_vm::DEFAULT_MODULE),
        (
            "emscripten32",
            include_bytes!("../module/emscripten32.wasm"),
        ),
        (
            "emscripten64",
            include_bytes!("../module/emscripten64.wasm"),
        ),
    ];
    let handler = "Handlers.add('ping', function(m) return m.Action == 'Ping' end, \
                   function(m) Send({Target = m.From, Action = 'Pong', Data = m.Data}) end) return 1";
    for (name, bytes) in modules {
        let module = vm.load_module(bytes).expect("module");
        let mut p = vm.spawn(&module).expect("spawn");
        p.handle(&spawn_msg(), &env).expect("spawn message");
        let load = p
            .handle(&message(1, "Eval", handler, &[]), &env)
            .expect("handler");
        assert!(load.error().is_none(), "{}", load.result_json());
        let mut slot = 1;
        group.bench_function(format!("{name}/trivial-eval"), |b| {
            b.iter(|| {
                slot += 1;
                black_box(
                    p.handle(&message(slot, "Eval", "1 + 1", &[]), &env)
                        .expect("handle"),
                )
            })
        });
        group.bench_function(format!("{name}/ping-handler"), |b| {
            b.iter(|| {
                slot += 1;
                let r = p
                    .handle(&message(slot, "Ping", "hi", &[]), &env)
                    .expect("handle");
                assert!(r.result_json().contains("Pong"));
                black_box(r)
            })
        });
    }
    group.finish();
}

/// The batteries: sha256 of 1 MiB through `.crypto`, and a handler that decodes and re-encodes
/// a JSON document of 200 records per message (what JSON-heavy processes do).
fn batteries(c: &mut Criterion) {
    let env = env();
    let vm = vm();
    let mut wasm = ready_process(&vm);
    let mut native = NativeProcess::new(200 << 20).expect("native");
    native.handle(&spawn_msg(), &env);
    let setup = r#"
        Blob = string.rep("abcdefgh", 131072)
        local records = {}
        for i = 1, 200 do
          records[i] = { id = i, name = "user" .. i, balance = tostring(i * 1000), tags = { "a", "b" }, active = i % 2 == 0 }
        end
        Doc = require("json").encode({ records = records, total = 200 })
        Handlers.add("json", "Json", function(msg)
          local doc = require("json").decode(msg.Data)
          doc.total = doc.total + 1
          msg.reply({ Data = require("json").encode(doc) })
        end)
        return #Doc
    "#;
    let load = wasm
        .handle(&message(1, "Eval", setup, &[]), &env)
        .expect("setup");
    assert!(load.error().is_none(), "{}", load.result_json());
    native.handle(&message(1, "Eval", setup, &[]), &env);
    let doc = wasm
        .handle(&message(2, "Eval", "Doc", &[]), &env)
        .expect("doc");
    let doc: serde_json::Value = serde_json::from_str(doc.result_json()).expect("json");
    let doc = doc["Output"]["data"].as_str().expect("doc text").to_owned();
    let sha = "return require('.crypto').digest.sha2_256(Blob).asHex()";
    let mut slot = 10;
    let mut group = c.benchmark_group("batteries");
    group.sample_size(10);
    group.bench_function("wasm/sha256-1MiB", |b| {
        b.iter(|| {
            slot += 1;
            black_box(
                wasm.handle(&message(slot, "Eval", sha, &[]), &env)
                    .expect("sha"),
            )
        })
    });
    group.bench_function("native/sha256-1MiB", |b| {
        b.iter(|| {
            slot += 1;
            black_box(native.handle(&message(slot, "Eval", sha, &[]), &env))
        })
    });
    group.bench_function("wasm/json-200-records", |b| {
        b.iter(|| {
            slot += 1;
            black_box(
                wasm.handle(&message(slot, "Json", &doc, &[]), &env)
                    .expect("json"),
            )
        })
    });
    group.bench_function("native/json-200-records", |b| {
        b.iter(|| {
            slot += 1;
            black_box(native.handle(&message(slot, "Json", &doc, &[]), &env))
        })
    });
    group.finish();
}

fn lifecycle(c: &mut Criterion) {
    let vm = vm();
    let module = vm.load_module(aos_vm::DEFAULT_MODULE).expect("module");
    let env = env();
    c.bench_function("spawn", |b| {
        b.iter(|| black_box(vm.spawn(&module).expect("spawn")))
    });

    let mut p = ready_process(&vm);
    p.handle(
        &message(1, "Eval", "Balances = {} for i = 1, 10000 do Balances['holder' .. i] = tostring(i * 1000000) end return 'ok'", &[]),
        &env,
    )
    .expect("fill balances");
    let snapshot = p.snapshot().expect("snapshot");
    let bytes = snapshot.to_bytes();
    eprintln!(
        "10,000-balance process: memory {} bytes, snapshot {} bytes compressed",
        snapshot.memory_len(),
        bytes.len()
    );
    // What copying the whole memory before every message (AO's CU) would add per message here.
    c.bench_function("rollback/full-memory-copy-10k-balances", |b| {
        b.iter(|| black_box(p.snapshot().expect("snapshot")))
    });
    c.bench_function("snapshot/10k-balances/take+compress", |b| {
        b.iter(|| black_box(p.snapshot().expect("snapshot").to_bytes()))
    });
    c.bench_function("snapshot/10k-balances/decompress+restore", |b| {
        b.iter(|| {
            let snapshot = aos_vm::Snapshot::from_bytes(&bytes).expect("parse");
            black_box(vm.restore(&module, &snapshot).expect("restore"))
        })
    });
}

/// Compiling the module with nothing cached: a fresh `Vm` (no memory cache) over an empty
/// cache directory each time. `AOS_BENCH_OTHER_MODULE=path` adds the same measure for another
/// module file (e.g. the one before a change), as `module/cold-compile-other`.
#[allow(
    clippy::disallowed_methods,
    reason = "a bench times compiling; no process sees the clock"
)]
fn cold_compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("module");
    group.sample_size(10);
    let other = std::env::var_os("AOS_BENCH_OTHER_MODULE")
        .map(|path| std::fs::read(path).expect("AOS_BENCH_OTHER_MODULE"));
    let modules = [
        ("cold-compile", Some(aos_vm::DEFAULT_MODULE)),
        ("cold-compile-other", other.as_deref()),
    ];
    for (name, bytes) in modules {
        let Some(bytes) = bytes else { continue };
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let dir = tempfile::tempdir().expect("cache dir");
                    let vm = Vm::new(VmConfig {
                        cache_dir: Some(dir.path().to_path_buf()),
                        ..VmConfig::default()
                    })
                    .expect("vm");
                    let start = std::time::Instant::now();
                    black_box(vm.load_module(bytes).expect("module"));
                    total += start.elapsed();
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = throughput, emscripten, batteries, lifecycle, cold_compile
}
criterion_main!(benches);
