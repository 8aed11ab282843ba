//! Runs every `lua/tests/*_spec.lua` through the wasm runtime: a fresh process per spec, first
//! `BLUEPRINT_SOURCES` and `lua/tests/prelude.lua`, then the spec. A spec fails by raising.

use std::path::{Path, PathBuf};

use aos_vm::{Vm, VmConfig};

use crate::support::config;

fn lua_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../lua")
}

fn blueprint_prelude() -> String {
    let mut out = String::from("BLUEPRINT_SOURCES = {}\n");
    let dir = lua_dir().join("blueprints");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|it| it.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
    {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let source = std::fs::read_to_string(path).unwrap();
        let mut level = 0;
        while source.contains(&format!("]{}]", "=".repeat(level))) {
            level += 1;
        }
        let eq = "=".repeat(level);
        out.push_str(&format!(
            "BLUEPRINT_SOURCES[{name:?}] = [{eq}[\n{source}]{eq}]\n"
        ));
    }
    out
}

#[test]
fn every_lua_spec_passes_in_wasm() {
    let dir = lua_dir().join("tests");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|it| it.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    specs.retain(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with("_spec.lua"))
    });
    specs.sort();
    let prelude = std::fs::read_to_string(dir.join("prelude.lua")).unwrap_or_default();
    // Specs run many messages inside one script: give a script the fuel of many messages.
    let vm = Vm::new(VmConfig {
        fuel_per_message: 200_000_000_000,
        ..config()
    })
    .unwrap();
    let module = vm.load_module(aos_vm::DEFAULT_MODULE).unwrap();
    let mut failures = Vec::new();
    for spec in &specs {
        let mut p = vm.spawn(&module).unwrap();
        for chunk in [
            blueprint_prelude(),
            prelude.clone(),
            std::fs::read_to_string(spec).unwrap(),
        ] {
            let outcome = p.eval_script(&chunk).unwrap();
            if outcome["ok"] != true {
                failures.push(format!("{}: {}", spec.display(), outcome["error"]));
                break;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} spec(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_lua_spec_passes_natively_too() {
    let dir = lua_dir().join("tests");
    let prelude = std::fs::read_to_string(dir.join("prelude.lua")).unwrap();
    let mut failures = Vec::new();
    let mut ran = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let spec = entry.unwrap().path();
        if !spec.to_string_lossy().ends_with("_spec.lua") {
            continue;
        }
        ran += 1;
        let mut p = aos_vm::NativeProcess::new(1 << 30).unwrap();
        for chunk in [
            blueprint_prelude(),
            prelude.clone(),
            std::fs::read_to_string(&spec).unwrap(),
        ] {
            let outcome = p.eval_script(&chunk);
            if outcome["ok"] != true {
                failures.push(format!("{}: {}", spec.display(), outcome["error"]));
                break;
            }
        }
    }
    assert!(ran >= 5, "the specs are missing");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
