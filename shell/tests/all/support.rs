//! Helpers shared by the binary's tests.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// The `aos` binary under test, with HOME pointed at a scratch dir so no test touches `~/.aos`.
pub fn aos(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("aos").expect("the aos binary is built for tests");
    cmd.env("HOME", home)
        .env_remove("AOS_URL")
        .env_remove("MU_URL")
        .env_remove("CU_URL")
        .env_remove("GATEWAY_URL");
    cmd
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("shell/ sits in the repository")
        .to_path_buf()
}

pub fn stdout_json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// A wallet file at `path` (a shell's `--wallet` must name one that exists).
pub fn wallet(path: &Path) -> String {
    aos_units::wallet::Wallet::load_or_create(path)
        .expect("create a test wallet")
        .address()
}
