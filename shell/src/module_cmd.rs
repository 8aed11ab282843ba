//! `aos module add FILE`: wraps a wasm module in a module item as AO has it (`Type=Module`,
//! `Module-Format`, encodings, limits; data = the wasm), signs it with the wallet, hands it to a
//! node (the embedded one on the data dir, or `--url`) and prints the module id — the item id,
//! which `aos NAME --module ID` then spawns on.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use aos_units::message::{DataItem, ItemDraft, Signer};
use aos_units::wallet::Wallet;
use clap::{Args, Subcommand};

use crate::connection::{Connection, Endpoints};
use crate::session::{self, SessionOptions};

#[derive(Debug, Subcommand)]
pub enum ModuleCommand {
    /// Sign a wasm module as a module item, add it to the node and print its module id.
    Add(AddArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The wasm module.
    pub file: PathBuf,
    /// Module-Format, e.g. wasm32-unknown-emscripten4,
    /// wasm64-unknown-emscripten-draft_2024_02_15 or wasm32-wasip1-aos. Default: told from
    /// the module.
    #[arg(long, value_name = "F")]
    pub format: Option<String>,
    /// Memory-Limit, e.g. 256-mb or 1-gb (it only lowers the node's own ceiling).
    #[arg(long, value_name = "M")]
    pub memory_limit: Option<String>,
    /// Compute-Limit: fuel one message may burn (it only lowers the node's own).
    #[arg(long, value_name = "N")]
    pub compute_limit: Option<String>,
    /// Wallet (JWK) that signs the item. Default: DATA_DIR/wallet.json, created on first use.
    #[arg(long, value_name = "W")]
    pub wallet: Option<PathBuf>,
    /// A running `aos node` to add it to instead of the embedded node.
    #[arg(long, value_name = "U", env = "AOS_URL")]
    pub url: Option<String>,
    /// Node data directory. Default: ~/.aos.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

pub async fn run(command: ModuleCommand) -> Result<ExitCode> {
    match command {
        ModuleCommand::Add(args) => add(&args).await,
    }
}

async fn add(args: &AddArgs) -> Result<ExitCode> {
    let wasm =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let format = match &args.format {
        Some(format) => format.clone(),
        None => told_format(&wasm)?,
    };
    let opts = SessionOptions {
        data_dir: args.data_dir.clone(),
        remote: args.url.as_deref().map(Endpoints::of_node),
        ..SessionOptions::default()
    };
    let data_dir = session::data_dir(&opts)?;
    let wallet = match &args.wallet {
        Some(path) => Wallet::load(path).with_context(|| format!("wallet {}", path.display()))?,
        None => Wallet::load_or_create(&data_dir.join("wallet.json"))?,
    };
    let mut draft = ItemDraft::new(wasm)
        .tag("Data-Protocol", "ao")
        .tag("Variant", "ao.TN.1")
        .tag("Type", "Module")
        .tag("Module-Format", format)
        .tag("Input-Encoding", "JSON-1")
        .tag("Output-Encoding", "JSON-1");
    if let Some(limit) = &args.memory_limit {
        draft = draft.tag("Memory-Limit", limit.clone());
    }
    if let Some(limit) = &args.compute_limit {
        draft = draft.tag("Compute-Limit", limit.clone());
    }
    let item = wallet.sign(draft)?;
    let (conn, serving) = session::connect(&opts, &data_dir).await?;
    let added = post(&conn, &item).await;
    if let Some(serving) = serving {
        serving.stop().await;
    }
    if let Connection::Embedded { node, .. } = &conn {
        node.shutdown().await?;
    }
    println!("{}", added?);
    Ok(ExitCode::SUCCESS)
}

async fn post(conn: &Connection, item: &DataItem) -> Result<String> {
    match conn {
        Connection::Embedded { node, .. } => Ok(node.messenger().add_module(item).await?),
        // `POST /mu` takes module items as well as messages.
        Connection::Remote { .. } => conn.submit(item).await,
    }
}

/// The `Module-Format` of a module given without `--format`, told from the module itself.
fn told_format(wasm: &[u8]) -> Result<String> {
    let vm = aos::vm::Vm::new(aos::vm::VmConfig::default())?;
    let module = vm
        .load_module(wasm)
        .context("not a module this node runs (give --format to say what it is)")?;
    Ok(aos_units::module::format_tag(module.format()).to_owned())
}
