//! Embeds the process library (`lua/*.lua`) for the native runtime and computes the digest the
//! wasm module carries, so a test can tell when the committed module is older than `lua/`.
//! (The guest's build script computes the same digest the same way.)

use std::fmt::Write;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../lua");
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
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        let source = std::fs::read_to_string(path).expect("read library file");
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update((source.len() as u64).to_le_bytes());
        hasher.update(source.as_bytes());
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("write");
    }
    out.push_str("];\n");
    let hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    writeln!(out, "pub static LIBRARY_HASH: &str = {hash:?};").expect("write");
    let target = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("library.rs");
    std::fs::write(target, out).expect("write library.rs");
}
