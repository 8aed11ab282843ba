//! Our items against the reference JavaScript implementation (`arbundles`, in `tests/interop/`).
//! The node packages are installed from the committed lock file on first use.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{aos, repo_root, stdout_json};

fn interop_dir() -> PathBuf {
    repo_root().join("tests").join("interop")
}

/// `npm ci` once per test run, if the packages are not there yet.
fn node_ready() -> &'static Path {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| {
        let dir = interop_dir();
        let installed = ["arbundles", "@permaweb/aoconnect", "arweave"]
            .iter()
            .all(|package| {
                dir.join("node_modules")
                    .join(package)
                    .join("package.json")
                    .exists()
            });
        if !installed {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .expect("npm is needed for the interop tests (scripts/setup installs it)");
            assert!(status.success(), "npm ci failed in {}", dir.display());
        }
        dir
    })
}

fn node(args: &[&str]) -> serde_json::Value {
    let dir = node_ready();
    let output = Command::new("node")
        .arg("arbundles.mjs")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "arbundles.mjs {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout_json(&output)
}

#[test]
fn arbundles_ed25519_items_inspect_valid_with_the_same_id() {
    let home = tempfile::tempdir().unwrap();
    let item = home.path().join("js.bin");
    let secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let js = node(&["sign", secret, item.to_str().unwrap()]);
    let output = aos(home.path())
        .args(["item", "inspect"])
        .arg(&item)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let ours = stdout_json(&output);
    assert_eq!(ours["valid"], true);
    assert_eq!(ours["id"], js["id"]);
    assert_eq!(ours["owner"], js["owner"]);
    assert_eq!(ours["tags"], js["tags"]);
    assert_eq!(ours["data"], js["data"]);
    assert_eq!(ours["target"], js["target"]);
    assert_eq!(ours["anchor"], js["anchor"]);
}

#[test]
fn our_items_verify_in_arbundles() {
    let home = tempfile::tempdir().unwrap();
    let item = home.path().join("rs.bin");
    let output = aos(home.path())
        .args([
            "item",
            "sign",
            "--tag",
            "Action=Eval",
            "--tag",
            "Ünïcode=välue ✓",
        ])
        .args(["--anchor", "0123456789abcdef0123456789abcdef"])
        .args(["--target", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"])
        .args(["--data", "hello from rust", "-o"])
        .arg(&item)
        .output()
        .unwrap();
    assert!(output.status.success());
    let id = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let js = node(&["verify", item.to_str().unwrap()]);
    assert_eq!(js["valid"], true);
    assert_eq!(js["id"], id);
    assert_eq!(js["data"], "hello from rust");
    assert_eq!(js["tags"][1]["value"], "välue ✓");

    // And a tampered copy does not.
    let mut bytes = std::fs::read(&item).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&item, bytes).unwrap();
    assert_eq!(node(&["verify", item.to_str().unwrap()])["valid"], false);
}

/// An Arweave wallet made once by arweave-js (shared with `aos-units`' tests).
fn arweave_test_wallet() -> PathBuf {
    repo_root().join("units/tests/fixtures/arweave-test-wallet.json")
}

fn inspect(home: &Path, item: &Path) -> std::process::Output {
    aos(home)
        .args(["item", "inspect"])
        .arg(item)
        .output()
        .unwrap()
}

#[test]
fn arbundles_rsa_items_inspect_valid_and_tampered_copies_exit_1() {
    let home = tempfile::tempdir().unwrap();
    let item = home.path().join("js-rsa.bin");
    let wallet = arweave_test_wallet();
    let js = node(&["sign-rsa", wallet.to_str().unwrap(), item.to_str().unwrap()]);
    assert_eq!(js["signature_type"], 1);
    let output = inspect(home.path(), &item);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let ours = stdout_json(&output);
    assert_eq!(ours["valid"], true);
    assert_eq!(ours["signature_type"], 1);
    assert_eq!(ours["signature_scheme"], "arweave");
    assert_eq!(
        ours["address"],
        "1HgA38pUrF6DJwuFidnDe3_8wvoZjVjtk51D1jxg8Ys"
    );
    for field in ["id", "owner", "tags", "data", "target", "anchor"] {
        assert_eq!(ours[field], js[field], "{field}");
    }

    let mut bytes = std::fs::read(&item).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01; // one bit of the data
    std::fs::write(&item, bytes).unwrap();
    let output = inspect(home.path(), &item);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout_json(&output)["valid"], false);
    assert!(String::from_utf8_lossy(&output.stderr).contains("signature does not verify"));
}

#[test]
fn items_signed_with_an_arweave_wallet_verify_in_arbundles() {
    let home = tempfile::tempdir().unwrap();
    let wallet = home.path().join("arweave.json");
    std::fs::copy(arweave_test_wallet(), &wallet).unwrap();
    let item = home.path().join("rs-rsa.bin");
    let output = aos(home.path())
        .args(["item", "sign", "--wallet"])
        .arg(&wallet)
        .args([
            "--tag",
            "Action=Eval",
            "--data",
            "hello from an arweave wallet",
            "-o",
        ])
        .arg(&item)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The wallet file was read, not replaced by a new key.
    assert_eq!(
        std::fs::read(&wallet).unwrap(),
        std::fs::read(arweave_test_wallet()).unwrap()
    );
    let id = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let js = node(&["verify", item.to_str().unwrap()]);
    assert_eq!(js["valid"], true);
    assert_eq!(js["signature_type"], 1);
    assert_eq!(js["id"], id);
    assert_eq!(js["data"], "hello from an arweave wallet");

    let mut bytes = std::fs::read(&item).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&item, bytes).unwrap();
    assert_eq!(node(&["verify", item.to_str().unwrap()])["valid"], false);
}

/// AO's JavaScript client (`@permaweb/aoconnect`, unchanged) drives a real `aos node`: spawn,
/// message, result, results, dryrun, monitor and unmonitor, signed by a fresh Arweave RSA key.
#[test]
fn aoconnect_drives_a_node_unchanged() {
    let home = tempfile::tempdir().unwrap();
    let (mut node, url) = crate::batch::start_node(&home.path().join("node"), home.path());
    let added = crate::support::aos(home.path())
        .args(["module", "add"])
        .arg(crate::support::repo_root().join("vm/module/emscripten32.wasm"))
        .args(["--url", &url])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let module = String::from_utf8(added.stdout).unwrap().trim().to_owned();
    let output = Command::new("node")
        .arg("aoconnect.mjs")
        .arg(&url)
        .arg(&module)
        .current_dir(node_ready())
        .output()
        .expect("node runs");
    let _ = node.kill();
    let _ = node.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "aoconnect.mjs failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.lines().last(), Some(r#"{"ok":true}"#), "{stdout}");
    for step in [
        "spawn", "eval", "message", "results", "dryrun", "monitor", "module",
    ] {
        assert!(
            stdout.contains(&format!(r#""step":"{step}""#)),
            "no {step} step in:\n{stdout}"
        );
    }
}
