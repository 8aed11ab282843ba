//! Command-line arguments and dispatch. Parsing lives here; each verb's work lives in its module.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::batch::{self, BatchOptions};
use crate::connection::Endpoints;
use crate::session::{Purpose, Session, SessionOptions};
use crate::style::Style;
use crate::{blueprints, bundle, item_cmd, live, module_cmd, node_cmd, repl};

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
    // A process id may start with `-` (base64url): taken as the process, not as an option.
    #[arg(default_value = "default", allow_hyphen_values = true, value_parser = process_arg)]
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
    /// The node's root URL (info and scheduler), as aos's gateway; with --mu-url/--cu-url
    /// the units may sit apart.
    #[arg(long, env = "GATEWAY_URL", value_name = "URL")]
    pub gateway_url: Option<String>,
    /// The messenger unit's URL (e.g. http://127.0.0.1:8734/mu).
    #[arg(long, env = "MU_URL", value_name = "URL")]
    pub mu_url: Option<String>,
    /// The compute unit's URL (e.g. http://127.0.0.1:8734/cu).
    #[arg(long, env = "CU_URL", value_name = "URL")]
    pub cu_url: Option<String>,
    /// List your processes on the node (name and id) and exit.
    #[arg(long)]
    pub list: bool,
    /// Follow the live feed of any process, read-only, until Ctrl-C.
    #[arg(long, value_name = "PROCESS_ID", allow_hyphen_values = true)]
    pub watch: Option<String>,
    /// With --run: evaluate read-only (a dry-run), nothing is stored.
    #[arg(long)]
    pub dry_run: bool,
    /// Data of a new process's spawn message, read from FILE.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Start real-time cron ticks (like .monitor) when the shell starts.
    #[arg(long)]
    pub monitor: bool,
    /// Write the bundled blueprints into DIR (default: the current directory) and exit.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = ".")]
    pub get_blueprints: Option<PathBuf>,
    /// Accepted for aos compatibility: every process here has SQLite.
    #[arg(long)]
    pub sqlite: bool,
    /// Authority of a new process (repeatable or comma-separated). Default: the node and every
    /// other node it knows (its peers' Scheduler-Location records).
    #[arg(
        long,
        value_name = "ADDRESS",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    pub authority: Vec<String>,
    /// Scheduler of a new process. Default: the node.
    #[arg(long, value_name = "ADDRESS", allow_hyphen_values = true)]
    pub scheduler: Option<String>,
    /// aos's mainnet (HyperBEAM) mode: needs Arweave's network, not available here.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub mainnet: Option<String>,
    /// aos's HyperBEAM mode: needs Arweave's network, not available here.
    #[arg(long)]
    pub hb: bool,
    /// aos's relay mode: needs Arweave's network, not available here.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub relay: Option<String>,
    /// aos's top-up of AO credit: needs Arweave's network, not available here.
    #[arg(long)]
    pub topup: bool,
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
    #[arg(long = "tag-value", allow_hyphen_values = true)]
    pub tag_values: Vec<String>,
    /// Module for a new process. Default: the node's default module.
    #[arg(long, allow_hyphen_values = true)]
    pub module: Option<String>,
    /// Batch mode: evaluate this Lua, print the Output, exit (0 ok, 1 error).
    #[arg(long, allow_hyphen_values = true)]
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
    /// Add modules (AO module items) to a node.
    #[command(subcommand)]
    Module(module_cmd::ModuleCommand),
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
    /// The shortest Cron-Interval a spawn may ask for, in milliseconds.
    #[arg(long, default_value_t = aos_units::cron::DEFAULT_MIN_INTERVAL_MS, value_name = "MS")]
    pub min_cron_interval: u64,
    /// Another node's root URL to learn scheduler locations from (repeatable): its signed
    /// Scheduler-Location record is pulled at start and every 30 s.
    #[arg(long = "peer", value_name = "URL")]
    pub peers: Vec<String>,
    /// The root URL other nodes and clients reach this node at, when that is not the address it
    /// listens on (a proxy, another interface): its Scheduler-Location record names this URL's
    /// `/su`. Default: the listening address.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// The most fuel one message may burn (a spawn's Compute-Limit may ask for less).
    #[arg(long, default_value_t = aos::vm::VmConfig::default().fuel_per_message, value_name = "FUEL")]
    pub compute_limit: u64,
    /// The most memory one process may use, e.g. 512-mb (a spawn's Memory-Limit may ask for
    /// less; at most 4-gb on wasm32 modules). Default: 256-mb.
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    pub memory_limit: Option<u64>,
    /// The memory the node keeps in hot (instantiated) processes, e.g. 2-gb; beyond it the least
    /// recently used are checkpointed and evicted. Default: a quarter of the machine's memory.
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    pub hot_memory: Option<u64>,
}

/// A size in AO's notation (`512-mb`, `2-gb`, or bytes), as `Memory-Limit` takes it.
fn parse_size(text: &str) -> Result<u64, String> {
    match aos::vm::parse_memory_limit(text) {
        Some(bytes) if bytes > 0 => Ok(bytes),
        _ => Err(format!(
            "{text:?} is not a size: expected bytes or N-UNIT with UNIT one of kb, mb, gb, tb"
        )),
    }
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
    #[arg(long, allow_hyphen_values = true)]
    pub target: Option<String>,
    /// Anchor: 32 bytes, given as 32 characters of text or as 43 characters of base64url.
    #[arg(long, allow_hyphen_values = true)]
    pub anchor: Option<String>,
    /// A tag as NAME=VALUE; repeat for more (order is kept).
    #[arg(long = "tag", value_name = "NAME=VALUE", allow_hyphen_values = true)]
    pub tags: Vec<String>,
    /// The item's data as text.
    #[arg(long, conflicts_with = "data_file", allow_hyphen_values = true)]
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
        Some(Command::Module(command)) => {
            report(with_runtime(|rt| rt.block_on(module_cmd::run(command))))
        }
        None => report(with_runtime(|rt| shell(cli.shell, rt))),
    }
}

/// A name or process id; something else that starts with `-` is an option nobody knows.
fn process_arg(value: &str) -> std::result::Result<String, String> {
    let is_id = value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if value.starts_with('-') && !is_id {
        return Err(format!(
            "unknown option '{value}' (a process id that starts with '-' is 43 characters long)"
        ));
    }
    Ok(value.to_owned())
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

/// aos flags whose work needs Arweave's network: refused by name, with what to do instead.
fn refuse_arweave_flags(args: &ShellArgs) -> Result<()> {
    let given = [
        ("--mainnet", args.mainnet.is_some()),
        ("--hb", args.hb),
        ("--relay", args.relay.is_some()),
        ("--topup", args.topup),
    ];
    if let Some((flag, _)) = given.iter().find(|(_, on)| *on) {
        anyhow::bail!(
            "{flag} needs Arweave's network (AO mainnet), which aos-rs does not reach; \
             processes live on your own node: the embedded one, or --url for an `aos node`"
        );
    }
    Ok(())
}

/// `--url`, or aos's `--gateway-url`/`--mu-url`/`--cu-url` (and their env vars): where the units
/// answer; `None` is the embedded node.
fn endpoints(args: &ShellArgs) -> Result<Option<Endpoints>> {
    let Some(node) = args.url.as_ref().or(args.gateway_url.as_ref()) else {
        anyhow::ensure!(
            args.mu_url.is_none() && args.cu_url.is_none(),
            "--mu-url/--cu-url (or MU_URL/CU_URL) need --gateway-url or --url too: the node \
             whose root answers info and whose /su is the scheduler"
        );
        return Ok(None);
    };
    let mut urls = Endpoints::of_node(node);
    if let Some(mu) = &args.mu_url {
        urls.mu = mu.trim_end_matches('/').to_owned();
    }
    if let Some(cu) = &args.cu_url {
        urls.cu = cu.trim_end_matches('/').to_owned();
    }
    Ok(Some(urls))
}

/// `--get-blueprints [DIR]`: one `NAME.lua` per bundled blueprint.
fn write_blueprints(dir: &std::path::Path) -> Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for name in blueprints::names() {
        let path = dir.join(format!("{name}.lua"));
        let source = blueprints::source(name).unwrap_or_default();
        std::fs::write(&path, source).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn shell(args: ShellArgs, rt: &tokio::runtime::Runtime) -> Result<ExitCode> {
    refuse_arweave_flags(&args)?;
    if let Some(dir) = &args.get_blueprints {
        return write_blueprints(dir);
    }
    anyhow::ensure!(
        args.tag_names.len() == args.tag_values.len(),
        "--tag-name and --tag-value come in pairs"
    );
    let spawn_data = match &args.data {
        Some(file) => {
            Some(std::fs::read(file).with_context(|| format!("reading {}", file.display()))?)
        }
        None => None,
    };
    let purpose = session_purpose(&args);
    let opts = SessionOptions {
        name: args.watch.clone().unwrap_or_else(|| args.name.clone()),
        purpose,
        data_dir: args.data_dir.clone(),
        wallet: args.wallet.clone(),
        remote: endpoints(&args)?,
        module: args.module.clone(),
        cron: args.cron.clone(),
        tags: args
            .tag_names
            .iter()
            .cloned()
            .zip(args.tag_values.iter().cloned())
            .collect(),
        spawn_data,
        authorities: args.authority.clone(),
        scheduler: args.scheduler.clone(),
    };
    // Read what --load and --blueprint name before connecting: a typo must not spawn a process.
    let mut preloads: Vec<(String, String)> = Vec::new();
    for file in &args.load {
        preloads.push((
            format!("loaded {}", file.display()),
            bundle::bundle(file)?.code,
        ));
    }
    for name in &args.blueprints {
        let src = blueprints::source(name).with_context(|| {
            format!(
                "no blueprint {name:?}; there are: {}",
                blueprints::names().join(", ")
            )
        })?;
        preloads.push((format!("blueprint {name} loaded"), src.to_owned()));
    }
    let batch_code = match &args.run {
        Some(code) => Some(code.clone()),
        None if purpose == Purpose::Use && !std::io::stdin().is_terminal() => {
            let mut code = String::new();
            std::io::stdin()
                .read_to_string(&mut code)
                .context("reading stdin")?;
            Some(code)
        }
        None => None,
    };
    anyhow::ensure!(
        !args.dry_run || batch_code.is_some(),
        "--dry-run goes with --run CODE (in the REPL, .dryrun toggles it)"
    );
    let session = std::sync::Arc::new(rt.block_on(Session::open(&opts))?);
    let outcome = drive(&session, &args, &preloads, batch_code, rt);
    rt.block_on(session.close());
    outcome
}

/// Runs what the flags ask for on an open session (which the caller closes).
fn drive(
    session: &std::sync::Arc<Session>,
    args: &ShellArgs,
    preloads: &[(String, String)],
    batch_code: Option<String>,
    rt: &tokio::runtime::Runtime,
) -> Result<ExitCode> {
    match session_purpose(args) {
        Purpose::List => {
            let mine = rt.block_on(session.conn.processes_of(&session.wallet.address()))?;
            for (name, id) in mine {
                println!("{name}\t{id}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        Purpose::Watch => {
            rt.block_on(live::watch(session, Style::detect()))?;
            return Ok(ExitCode::SUCCESS);
        }
        Purpose::Read | Purpose::Use => {}
    }
    let interactive = batch_code.is_none();
    // --load and --blueprint come first, in the order given: files, then blueprints.
    for (done, code) in preloads {
        if let Some(code) = rt.block_on(preload(session, code))? {
            return Ok(code);
        }
        if interactive {
            println!("{done}");
        }
    }
    if args.monitor {
        rt.block_on(session.monitor(true))?;
        if interactive {
            println!("monitoring: cron ticks run as they fall due");
        }
    }
    match batch_code {
        Some(code) => {
            let opts = BatchOptions {
                json: args.json,
                wait: (!args.no_wait).then(|| Duration::from_secs(args.wait)),
                dry_run: args.dry_run,
            };
            rt.block_on(batch::run(session, &code, &opts))
        }
        None => repl::run(session, rt.handle()),
    }
}

fn session_purpose(args: &ShellArgs) -> Purpose {
    if args.list {
        Purpose::List
    } else if args.watch.is_some() {
        Purpose::Watch
    } else if args.dry_run {
        Purpose::Read
    } else {
        Purpose::Use
    }
}

/// Evaluates a --load/--blueprint chunk; an error ends the command with exit 1.
async fn preload(session: &Session, code: &str) -> Result<Option<ExitCode>> {
    let (_, result) = session.eval(code).await?;
    Ok(result.error_text().map(|error| {
        eprintln!("{error}");
        ExitCode::from(1)
    }))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command, ItemCommand};

    /// Base64url ids start with `-` one time in 64: a flag that takes an id, an address or
    /// free text must take one that does, or `--scheduler -x…` fails at random.
    #[test]
    fn values_that_start_with_a_hyphen_are_taken_as_values() {
        let id = format!("-{}", "a".repeat(42));
        let cli = Cli::try_parse_from([
            "aos",
            "p",
            "--scheduler",
            &id,
            "--authority",
            &id,
            "--watch",
            &id,
            "--module",
            &id,
            "--tag-name",
            "N",
            "--tag-value",
            "-1",
            "--run",
            "-1",
        ])
        .unwrap();
        let shell = cli.shell;
        assert_eq!(shell.scheduler.as_deref(), Some(id.as_str()));
        assert_eq!(shell.authority, vec![id.clone()]);
        assert_eq!(shell.watch.as_deref(), Some(id.as_str()));
        assert_eq!(shell.module.as_deref(), Some(id.as_str()));
        assert_eq!(shell.tag_values, vec!["-1".to_owned()]);
        assert_eq!(shell.run.as_deref(), Some("-1"));

        let cli = Cli::try_parse_from([
            "aos", "item", "sign", "--target", &id, "--anchor", &id, "--tag", "-x=1", "--data",
            "-d", "-o", "out",
        ])
        .unwrap();
        let Some(Command::Item(ItemCommand::Sign(sign))) = cli.command else {
            panic!("not item sign");
        };
        assert_eq!(sign.target.as_deref(), Some(id.as_str()));
        assert_eq!(sign.anchor.as_deref(), Some(id.as_str()));
        assert_eq!(sign.tags, vec!["-x=1".to_owned()]);
        assert_eq!(sign.data.as_deref(), Some("-d"));
    }
}
