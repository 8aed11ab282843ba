//! Command-line arguments and dispatch. Parsing lives here; each verb's work lives in its module.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::item_cmd;

#[derive(Debug, Parser)]
#[command(
    name = "aos",
    version,
    about = "An AO-style actor computer and its Lua shell"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build, sign and inspect ANS-104 data items.
    #[command(subcommand)]
    Item(ItemCommand),
}

#[derive(Debug, Subcommand)]
pub enum ItemCommand {
    /// Sign a new data item with the wallet and write its binary form.
    Sign(SignArgs),
    /// Print a data item as JSON and check its signature (exit 0 valid, 1 invalid, 2 unreadable).
    Inspect {
        /// The binary item to read.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// Wallet file (JWK); created if missing. Default: ~/.aos/wallet.json.
    #[arg(long)]
    pub wallet: Option<PathBuf>,
    /// Target process or wallet: a 43-character base64url id.
    #[arg(long)]
    pub target: Option<String>,
    /// Anchor: 32 bytes, given as 32 characters of text or as 43 characters of base64url.
    #[arg(long)]
    pub anchor: Option<String>,
    /// A tag as NAME=VALUE; repeat for more (order is kept).
    #[arg(long = "tag", value_name = "NAME=VALUE")]
    pub tags: Vec<String>,
    /// The item's data as text.
    #[arg(long, conflicts_with = "data_file")]
    pub data: Option<String>,
    /// Read the item's data from a file.
    #[arg(long)]
    pub data_file: Option<PathBuf>,
    /// Where to write the signed item.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Item(ItemCommand::Sign(args))) => item_cmd::sign(&args),
        Some(Command::Item(ItemCommand::Inspect { file })) => item_cmd::inspect(&file),
        None => {
            eprintln!(
                "aos: the interactive shell needs the node units, which are not built yet; \
                 see `aos --help` for what works today"
            );
            ExitCode::from(2)
        }
    }
}
