//! Command-line arguments and dispatch. Parsing lives here; each verb's work lives in its module.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::batch::{self, BatchOptions};
use crate::session::{Session, SessionOptions, error_of};
use crate::{blueprints, bundle, item_cmd, node_cmd, repl};

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
    #[command(flatten)]
    pub shell: ShellArgs,
}

#[derive(Debug, Args)]
pub struct ShellArgs {
    /// The process: a name (spawned for your wallet on first use) or a 43-character process id.
    #[arg(default_value = "default")]
    pub name: String,
    /// Node data directory (store, node key, history). Default: ~/.aos.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Your wallet (JWK). Default: DATA_DIR/wallet.json, created on first use.
    #[arg(long)]
    pub wallet: Option<PathBuf>,
    /// Talk to a running `aos node` (e.g. http://127.0.0.1:8734) instead of the embedded node.
    #[arg(long, env = "AOS_URL")]
    pub url: Option<String>,
    /// Evaluate a Lua file (and the local files it requires) after connecting. Repeatable.
    #[arg(long = "load", value_name = "FILE")]
    pub load: Vec<PathBuf>,
    /// Evaluate a bundled blueprint after connecting. Repeatable.
    #[arg(long = "blueprint", value_name = "NAME")]
    pub blueprints: Vec<String>,
    /// Cron interval for a new process, e.g. 10-seconds, 1-minute.
    #[arg(long)]
    pub cron: Option<String>,
    /// Extra spawn tags: --tag-name N --tag-value V, in pairs.
    #[arg(long = "tag-name")]
    pub tag_names: Vec<String>,
    #[arg(long = "tag-value")]
    pub tag_values: Vec<String>,
    /// Module for a new process. Default: the node's default module.
    #[arg(long)]
    pub module: Option<String>,
    /// Batch mode: evaluate this Lua, print the Output, exit (0 ok, 1 error).
    #[arg(long)]
    pub run: Option<String>,
    /// Batch mode: print the whole result object as JSON.
    #[arg(long)]
    pub json: bool,
    /// Batch mode: do not wait for the messages the eval sent to be delivered.
    #[arg(long)]
    pub no_wait: bool,
    /// Batch mode: how long to wait for deliveries, in seconds.
    #[arg(long, default_value_t = 10)]
    pub wait: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build, sign and inspect ANS-104 data items.
    #[command(subcommand)]
    Item(ItemCommand),
    /// Serve the node (MU, SU, CU) over AO's HTTP API.
    Node(NodeArgs),
}

#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Node data directory. Default: ~/.aos.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port (the URL is printed).
    #[arg(long, default_value = "127.0.0.1:8734")]
    pub listen: String,
    /// Seconds a client may take to send a request's headers (also how long an idle connection
    /// stays open) and the longest pause within a request body.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub http_timeout: u64,
    /// Connections served at once; more are answered 503.
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub max_connections: usize,
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
        Some(Command::Node(args)) => report(with_runtime(|rt| rt.block_on(node_cmd::run(args)))),
        None => report(with_runtime(|rt| shell(cli.shell, rt))),
    }
}

fn report(outcome: Result<ExitCode>) -> ExitCode {
    outcome.unwrap_or_else(|e| {
        eprintln!("aos: {e:#}");
        ExitCode::from(2)
    })
}

fn with_runtime(f: impl FnOnce(&tokio::runtime::Runtime) -> Result<ExitCode>) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    let code = f(&rt);
    rt.shutdown_timeout(Duration::from_secs(2));
    code
}

fn shell(args: ShellArgs, rt: &tokio::runtime::Runtime) -> Result<ExitCode> {
    anyhow::ensure!(
        args.tag_names.len() == args.tag_values.len(),
        "--tag-name and --tag-value come in pairs"
    );
    let opts = SessionOptions {
        name: args.name.clone(),
        data_dir: args.data_dir.clone(),
        wallet: args.wallet.clone(),
        url: args.url.clone(),
        module: args.module.clone(),
        cron: args.cron.clone(),
        tags: args
            .tag_names
            .iter()
            .cloned()
            .zip(args.tag_values.iter().cloned())
            .collect(),
    };
    // Read what --load and --blueprint name before connecting: a typo must not spawn a process.
    let mut preloads: Vec<String> = Vec::new();
    for file in &args.load {
        preloads.push(bundle::bundle(file)?.code);
    }
    for name in &args.blueprints {
        let src = blueprints::source(name).with_context(|| {
            format!(
                "no blueprint {name:?}; there are: {}",
                blueprints::names().join(", ")
            )
        })?;
        preloads.push(src.to_owned());
    }
    let session = rt.block_on(Session::open(&opts))?;
    // --load and --blueprint come first, in the order given: files, then blueprints.
    for code in &preloads {
        if let Some(code) = rt.block_on(preload(&session, code))? {
            return Ok(code);
        }
    }
    let batch_code = match args.run {
        Some(code) => Some(code),
        None if !std::io::stdin().is_terminal() => {
            let mut code = String::new();
            std::io::stdin()
                .read_to_string(&mut code)
                .context("reading stdin")?;
            Some(code)
        }
        None => None,
    };
    match batch_code {
        Some(code) => {
            let opts = BatchOptions {
                json: args.json,
                wait: (!args.no_wait).then(|| Duration::from_secs(args.wait)),
            };
            rt.block_on(batch::run(&session, &code, &opts))
        }
        None => repl::run(session, rt.handle()),
    }
}

/// Evaluates a --load/--blueprint chunk; an error ends the command with exit 1.
async fn preload(session: &Session, code: &str) -> Result<Option<ExitCode>> {
    let (_, result) = session.eval(code).await?;
    Ok(error_of(&result).map(|error| {
        eprintln!("{error}");
        ExitCode::from(1)
    }))
}
