//! Structure the code must keep: only `store/` knows redb and opens its tables, so every table
//! has one home with typed methods (issue 17, "How").

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The files under `src/` outside `src/store/` whose text holds one of `needles`.
fn offenders(src: &Path, needles: &[&str]) -> Vec<String> {
    let store = src.join("store");
    let mut files = Vec::new();
    rust_files(src, &mut files);
    assert!(
        files.len() > 10,
        "found only {files:?} under {}",
        src.display()
    );
    let mut found = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&store)) {
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            if needles.iter().any(|n| line.contains(n)) {
                found.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    found
}

#[test]
fn no_file_outside_store_uses_redb_or_opens_a_table() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = offenders(
        &src,
        &[
            "redb::",
            "use redb",
            "open_table(",
            "begin_read(",
            "begin_write(",
        ],
    );
    assert!(
        found.is_empty(),
        "only units/src/store/ may touch redb; give these a typed method there:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_tidy_check_sees_what_it_looks_for() {
    // The check itself works: the store's own files do use redb.
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&store.join("store"), &mut files);
    assert!(
        files
            .iter()
            .any(|f| std::fs::read_to_string(f).unwrap().contains("use redb"))
    );
}
