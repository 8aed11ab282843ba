//! `aos item sign` / `aos item inspect` (contract verbs).

use std::fs;

use predicates::str::contains;
use serde_json::json;

use crate::support::{aos, stdout_json};

fn sign_sample(home: &std::path::Path, out: &std::path::Path) -> String {
    let output = aos(home)
        .args([
            "item",
            "sign",
            "--target",
            "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc",
        ])
        .args(["--anchor", "0123456789abcdef0123456789abcdef"])
        .args(["--tag", "Action=Eval", "--tag", "Expr=a=b"])
        .args(["--data", "return 1 + 1", "-o"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn sign_then_inspect_round_trips() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("item.bin");
    let id = sign_sample(home.path(), &out);
    assert_eq!(id.len(), 43);
    assert!(
        home.path().join(".aos/wallet.json").exists(),
        "wallet created on first use"
    );

    let output = aos(home.path())
        .args(["item", "inspect"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let item = stdout_json(&output);
    assert_eq!(item["id"], id);
    assert_eq!(item["valid"], true);
    assert_eq!(item["signature_type"], 2);
    assert_eq!(item["data"], "return 1 + 1");
    assert_eq!(item["data_encoding"], "utf8");
    assert_eq!(item["anchor"], "0123456789abcdef0123456789abcdef");
    assert_eq!(
        item["target"],
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"
    );
    assert_eq!(
        item["tags"],
        json!([{"name": "Action", "value": "Eval"}, {"name": "Expr", "value": "a=b"}])
    );
    assert_eq!(item["owner"].as_str().unwrap().len(), 43);
    assert_eq!(item["address"].as_str().unwrap().len(), 43);
}

#[test]
fn same_wallet_same_address_and_explicit_wallet_flag() {
    let home = tempfile::tempdir().unwrap();
    let wallet = home.path().join("keys/me.json");
    let mut addresses = Vec::new();
    for n in 0..2 {
        let out = home.path().join(format!("{n}.bin"));
        aos(home.path())
            .args(["item", "sign", "--wallet"])
            .arg(&wallet)
            .args(["--data-file"])
            .arg(&wallet) // any file will do as data
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        let output = aos(home.path())
            .args(["item", "inspect"])
            .arg(&out)
            .output()
            .unwrap();
        addresses.push(stdout_json(&output)["address"].clone());
    }
    assert_eq!(addresses[0], addresses[1]);
    assert!(
        !home.path().join(".aos").exists(),
        "--wallet leaves the default alone"
    );
}

#[test]
fn binary_data_is_base64url() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data.bin");
    fs::write(&data, [0xff, 0xfe, 0x00]).unwrap();
    let out = home.path().join("item.bin");
    aos(home.path())
        .args(["item", "sign", "--data-file"])
        .arg(&data)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let output = aos(home.path())
        .args(["item", "inspect"])
        .arg(&out)
        .output()
        .unwrap();
    let item = stdout_json(&output);
    assert_eq!(item["data"], "__4A");
    assert_eq!(item["data_encoding"], "base64url");
}

#[test]
fn tampered_item_exits_1() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("item.bin");
    sign_sample(home.path(), &out);
    let mut bytes = fs::read(&out).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01; // one bit of the data
    fs::write(&out, &bytes).unwrap();
    let output = aos(home.path())
        .args(["item", "inspect"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout_json(&output)["valid"], false);
    assert!(String::from_utf8_lossy(&output.stderr).contains("signature does not verify"));
}

#[test]
fn unreadable_items_exit_2_with_a_reason() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("item.bin");
    sign_sample(home.path(), &out);
    let bytes = fs::read(&out).unwrap();

    let truncated = home.path().join("truncated.bin");
    fs::write(&truncated, &bytes[..50]).unwrap();
    aos(home.path())
        .args(["item", "inspect"])
        .arg(&truncated)
        .assert()
        .code(2)
        .stderr(contains("truncated"));

    let mut wrong_type = bytes.clone();
    wrong_type[0] = 99;
    let wrong = home.path().join("wrong.bin");
    fs::write(&wrong, &wrong_type).unwrap();
    aos(home.path())
        .args(["item", "inspect"])
        .arg(&wrong)
        .assert()
        .code(2)
        .stderr(contains("unknown signature type 99"));

    aos(home.path())
        .args(["item", "inspect"])
        .arg(home.path().join("missing.bin"))
        .assert()
        .code(2)
        .stderr(contains("cannot read"));
}

#[test]
fn an_item_of_a_scheme_we_cannot_verify_exits_1() {
    // A well-formed Ethereum-type (3) item: readable, but not verifiable here.
    let mut bytes = vec![3, 0];
    bytes.extend([1u8; 65 + 65]);
    bytes.extend([0, 0]);
    bytes.extend(0u64.to_le_bytes());
    bytes.extend(0u64.to_le_bytes());
    bytes.extend(b"data");
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("eth.bin");
    fs::write(&path, bytes).unwrap();
    let output = aos(home.path())
        .args(["item", "inspect"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout_json(&output)["signature_type"], 3);
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot be signed or verified"));
}

#[test]
fn oversized_and_malformed_tags_are_refused_when_signing() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("item.bin");
    let big = format!("Big={}", "x".repeat(3073));
    aos(home.path())
        .args(["item", "sign", "--tag", &big, "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("at most 3072"));
    let mut many = aos(home.path());
    many.args(["item", "sign"]);
    for i in 0..129 {
        many.args(["--tag", &format!("T{i}=v")]);
    }
    many.arg("-o")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("too many tags"));
    aos(home.path())
        .args(["item", "sign", "--tag", "no-equals", "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("NAME=VALUE"));
    aos(home.path())
        .args(["item", "sign", "--anchor", "short", "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("--anchor must be 32 bytes"));
    assert!(!out.exists(), "nothing written on error");
}

#[test]
fn oversized_tags_in_a_received_item_exit_2() {
    // Hand-build an item whose one tag value is 4000 bytes: over ANS-104's 3072.
    let value = "v".repeat(4000);
    let mut tags = vec![2u8]; // one tag (zigzag)
    tags.extend([2, b'n']);
    let mut len = (value.len() as u64) << 1;
    while len >= 0x80 {
        tags.push((len as u8) | 0x80);
        len >>= 7;
    }
    tags.push(len as u8);
    tags.extend(value.as_bytes());
    tags.push(0);
    let mut bytes = vec![2, 0];
    bytes.extend([0u8; 96]);
    bytes.extend([0, 0]);
    bytes.extend(1u64.to_le_bytes());
    bytes.extend((tags.len() as u64).to_le_bytes());
    bytes.extend(tags);
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("big.bin");
    fs::write(&path, bytes).unwrap();
    aos(home.path())
        .args(["item", "inspect"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(contains("at most 3072"));
}
