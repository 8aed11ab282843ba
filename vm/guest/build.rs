//! Embeds the process library (`lua/*.lua`) and its hash into the module.

use std::fmt::Write;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

fn main() {
    let dir = std::env::var("AOS_LUA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../lua"));
    println!("cargo:rerun-if-env-changed=AOS_LUA_DIR");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("lua/ directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "lua") && p.is_file())
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    let mut out = String::from("pub static LIBRARY: &[(&str, &str)] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_stem().and_then(|s| s.to_str()).expect("utf-8 name");
        let source = std::fs::read_to_string(path).expect("read library file");
        // The same digest the host recomputes to detect a stale committed module.
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update((source.len() as u64).to_le_bytes());
        hasher.update(source.as_bytes());
        writeln!(out, "    ({name:?}, {source:?}),").expect("write");
    }
    out.push_str("];\n");
    let hash: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    writeln!(out, "pub static LIBRARY_HASH: &str = {hash:?};").expect("write");
    let target = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("library.rs");
    std::fs::write(target, out).expect("write library.rs");
}
