//! A node inside your own Rust program, no sockets: spawn two processes, give one a handler, let the
//! other ping it, and read the reply from the first one's Inbox.
//!
//! ```sh
//! cargo run -p aos --example embedded            # a throw-away data dir
//! cargo run -p aos --example embedded -- DIR     # keep the node's store in DIR
//! ```
//!
//! What `aos` (the shell) does for every line you type is the same: sign an item, hand it to the
//! node's messenger, read the result from its compute unit.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use aos::units::message::{Ed25519Signer, ItemDraft, Signer, b64};
use aos::units::store::ProcessId;
use aos::{Node, NodeConfig};

/// The handler the ponger process runs: Lua, sent as an `Eval` message.
const PONG_HANDLER: &str = r#"
Handlers.add("Ping", Handlers.utils.hasMatchingTag("Action", "Ping"), function(msg)
  msg.reply({ Action = "Pong", Data = "pong to " .. msg.Data })
end)
return "ponger ready"
"#;

#[tokio::main]
async fn main() -> Result<()> {
    let scratch;
    let dir = match std::env::args_os().nth(1) {
        Some(dir) => dir.into(),
        None => {
            scratch = tempfile::tempdir()?;
            scratch.path().to_path_buf()
        }
    };
    let reply = run(&dir).await?;
    println!("the pinger's Inbox got: {reply}");
    Ok(())
}

/// Runs the example on a node kept in `data_dir`; returns the Data of the reply that came back.
pub async fn run(data_dir: &Path) -> Result<String> {
    let node = Node::open(NodeConfig::new(data_dir))?;
    let me = Ed25519Signer::generate().map_err(|e| anyhow!("no randomness for a key: {e}"))?;

    let ponger = spawn(&node, &me, "ponger").await?;
    let pinger = spawn(&node, &me, "pinger").await?;
    println!("ponger {ponger}\npinger {pinger}");

    let ready = eval(&node, &me, &ponger, PONG_HANDLER).await?;
    println!("ponger says: {ready}");

    // The pinger sends the Ping itself: the node's messenger delivers it to the ponger, and the
    // ponger's reply back to the pinger ("cranking").
    let send = format!(r#"Send({{ Target = "{ponger}", Action = "Ping", Data = "ping #1" }})"#);
    let id = message(&node, &me, &pinger, &[("Action", "Eval")], &send).await?;
    let cranked = node
        .messenger()
        .wait_cranked(&id, Duration::from_secs(20))
        .await?;
    if !cranked {
        bail!("the ping and its reply were not delivered within 20 s");
    }

    let last = eval(&node, &me, &pinger, "return Inbox[#Inbox].Data").await?;
    node.shutdown().await?;
    Ok(last)
}

/// Spawns a process on the node's default module; returns its id.
async fn spawn(node: &Node, signer: &Ed25519Signer, name: &str) -> Result<String> {
    let info = node.info();
    let draft = ItemDraft::new("")
        .tag("Data-Protocol", "ao")
        .tag("Variant", "ao.TN.1")
        .tag("Type", "Process")
        .tag("Name", name)
        .tag("Module", &info.default_module)
        .tag("Scheduler", &info.address);
    let item = signer.sign(draft)?;
    Ok(node.messenger().submit_item(&item).await?.id)
}

/// Sends a message to `process`; returns its id once the scheduler has it (durably).
async fn message(
    node: &Node,
    signer: &Ed25519Signer,
    process: &str,
    tags: &[(&str, &str)],
    data: &str,
) -> Result<String> {
    let target = b64::decode_32(process).context("process id")?;
    let mut draft = ItemDraft::new(data)
        .tag("Data-Protocol", "ao")
        .tag("Variant", "ao.TN.1")
        .tag("Type", "Message")
        .target(target);
    for (name, value) in tags {
        draft = draft.tag(*name, *value);
    }
    let item = signer.sign(draft)?;
    Ok(node.messenger().submit_item(&item).await?.id)
}

/// Evaluates `code` in `process` and returns its Output (or the Lua error).
async fn eval(node: &Node, signer: &Ed25519Signer, process: &str, code: &str) -> Result<String> {
    let id = message(node, signer, process, &[("Action", "Eval")], code).await?;
    let result = node
        .messenger()
        .compute()
        .result_of(
            &b64::decode_32(&id).context("message id")?,
            &ProcessId::parse(process).context("process id")?,
        )
        .await?;
    if let Some(error) = result.error_text() {
        bail!("{process} failed: {error}");
    }
    if result.output.is_null() {
        bail!("no Output in {}", result.to_value());
    }
    Ok(result.output_text())
}
