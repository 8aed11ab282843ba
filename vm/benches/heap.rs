//! `cargo bench -p aos-vm --bench heap`: what a big Lua heap costs. A token process whose heap is
//! grown (a table of strings) to about 100 MB and 1 GB next to a small one: a token `Transfer`
//! at each size (per-message cost must not grow with the heap), and the snapshot of the 100 MB
//! one: taking it, and restoring it into a process that is ready for its next message.
//! `AOS_BENCH_HEAP_MB=100,1000` picks the sizes (0 is the small process).

use std::hint::black_box;
use std::time::Duration;

use aos_vm::{Process, Vm, VmConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod common;
use common::{env, message, ready_process};

/// Strings of this many bytes fill the heap: each costs about 120 bytes of Lua heap with its
/// header and its array slot.
const STRING_BYTES: usize = 78;

fn sizes() -> Vec<u64> {
    std::env::var("AOS_BENCH_HEAP_MB")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![0, 100, 1000])
}

fn vm() -> Vm {
    Vm::new(VmConfig {
        cache_dir: Some(std::env::temp_dir().join("aos-bench-cache")),
        memory_limit: 1536 << 20,
        ..VmConfig::default()
    })
    .expect("vm")
}

/// A token process (blueprint loaded, its owner funded) whose heap holds about `mb` MB more.
fn token_process(vm: &Vm, mb: u64) -> Process {
    let env = env();
    let mut p = ready_process(vm);
    let token = include_str!("../../lua/blueprints/token.lua");
    let load = p
        .handle(&message(1, "Eval", token, &[]), &env)
        .expect("token");
    assert!(load.error().is_none(), "{}", load.result_json());
    let funded = p
        .handle(&message(2, "Eval", common::FUND_OWNER, &[]), &env)
        .expect("fund");
    assert!(funded.error().is_none(), "{}", funded.result_json());
    let strings = mb * 1_000_000 / 120;
    let chunk = 1_000_000;
    let mut done = 0;
    let mut slot = 3;
    while done < strings {
        let n = chunk.min(strings - done);
        let code = format!(
            "Heap = Heap or {{}} local n = #Heap for i = n + 1, n + {n} do \
             Heap[i] = string.format('%0{STRING_BYTES}d', i) end return #Heap"
        );
        let r = p
            .handle(&message(slot, "Eval", &code, &[]), &env)
            .expect("grow");
        assert!(r.error().is_none(), "{}", r.result_json());
        done += n;
        slot += 1;
    }
    eprintln!(
        "heap {mb} MB: {} strings, memory {} bytes",
        strings,
        p.memory_len()
    );
    p
}

fn transfer(slot: u64) -> String {
    let to = format!("user{}", slot % 5000);
    message(
        slot,
        "Transfer",
        "",
        &[("Recipient", to.as_str()), ("Quantity", "1")],
    )
}

fn heap(c: &mut Criterion) {
    let env = env();
    let vm = vm();
    let module = vm.load_module(aos_vm::DEFAULT_MODULE).expect("module");
    for mb in sizes() {
        let mut p = token_process(&vm, mb);
        // Taken before the transfers below add their garbage (the incremental GC lets it grow
        // to about the live heap again before it collects).
        let snapshot = p.snapshot().expect("snapshot");
        let mut group = c.benchmark_group(format!("heap/{mb}MB"));
        group.throughput(Throughput::Elements(1));
        let mut slot = 100;
        group.bench_function("token-transfer", |b| {
            b.iter(|| {
                slot += 1;
                black_box(p.handle(&transfer(slot), &env).expect("transfer"))
            })
        });
        group.finish();
        if mb != 100 {
            continue;
        }
        let mut group = c.benchmark_group(format!("snapshot/{mb}MB"));
        group.sample_size(10);
        let bytes = snapshot.to_bytes();
        eprintln!(
            "heap {mb} MB: memory {} bytes, snapshot {} bytes",
            snapshot.memory_len(),
            bytes.len()
        );
        group.bench_function("encode", |b| b.iter(|| black_box(snapshot.to_bytes())));
        group.bench_function("decode+restore", |b| {
            b.iter(|| {
                let snapshot = aos_vm::Snapshot::from_bytes(&bytes).expect("parse");
                black_box(vm.restore(&module, &snapshot).expect("restore"))
            })
        });
        // Ready = restored and through its first message (a lazily filled memory pays here).
        group.bench_function("decode+restore+transfer", |b| {
            b.iter(|| {
                slot += 1;
                let snapshot = aos_vm::Snapshot::from_bytes(&bytes).expect("parse");
                let mut q = vm.restore(&module, &snapshot).expect("restore");
                black_box(q.handle(&transfer(slot), &env).expect("transfer"))
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = heap
}
criterion_main!(benches);
