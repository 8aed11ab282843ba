//! A session: one wallet talking to one process on one node. Finds the process by name (or
//! spawns it), and turns Lua code into signed `Eval` messages.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use aos::{Node, NodeConfig, NodeError};
use aos_units::message::{DataItem, ItemDraft, Signer, b64};
use aos_units::result::ProcessResult;
use aos_units::store::StoreError;
use aos_units::wallet::Wallet;

use crate::connection::{Connection, Crank, Endpoints, NodeInfo};
use crate::serve::Serving;

/// What the session is for, which decides how its process is found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Purpose {
    /// Your process: found by name or id, spawned by name on first use; lines become Evals.
    #[default]
    Use,
    /// Read-only (`--dry-run`): any process, nothing is sent.
    Read,
    /// `--watch`: any process by id, only its live feed.
    Watch,
    /// `--list`: no process at all.
    List,
}

/// How to reach a process.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// A process name (spawned on first use) or a 43-character process id.
    pub name: String,
    pub purpose: Purpose,
    pub data_dir: Option<PathBuf>,
    pub wallet: Option<PathBuf>,
    /// A running node's units; `None` opens the embedded node.
    pub remote: Option<Endpoints>,
    pub module: Option<String>,
    pub cron: Option<String>,
    pub tags: Vec<(String, String)>,
    /// The spawn's data (`--data FILE`).
    pub spawn_data: Option<Vec<u8>>,
    /// `Authority` tags of a new process; default: the node's address and every other node it
    /// knows (its network).
    pub authorities: Vec<String>,
    /// `Scheduler` of a new process; default: the node's address.
    pub scheduler: Option<String>,
}

#[derive(Debug)]
pub struct Session {
    pub conn: Connection,
    pub wallet: Wallet,
    pub info: NodeInfo,
    pub process: String,
    pub name: String,
    pub data_dir: PathBuf,
    pub spawned: bool,
    /// The embedded node's port for other shells on this data dir, while this one is open.
    serving: std::sync::Mutex<Option<Serving>>,
}

/// A random anchor (32 ASCII characters, as AO's clients send): two identical messages then still
/// get different ids, since ed25519 signatures are deterministic.
pub fn fresh_anchor() -> Result<[u8; 32]> {
    let mut random = [0u8; 24];
    getrandom::fill(&mut random)
        .map_err(|e| anyhow::anyhow!("no randomness for an anchor: {e}"))?;
    let text = b64::encode(random);
    let mut anchor = [0u8; 32];
    anchor.copy_from_slice(text.as_bytes());
    Ok(anchor)
}

/// The file in which `aos node` publishes its URL, so a shell on the same data dir can use it.
pub fn node_url_file(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("node.url")
}

pub fn data_dir(opts: &SessionOptions) -> Result<PathBuf> {
    match &opts.data_dir {
        Some(dir) => Ok(dir.clone()),
        None => NodeConfig::default_data_dir().context("no home directory: pass --data-dir"),
    }
}

/// Spawn flags only shape a new process; say so rather than drop them silently.
fn warn_spawn_flags_unused(opts: &SessionOptions) {
    let mut given = Vec::new();
    if opts.cron.is_some() {
        given.push("--cron");
    }
    if opts.module.is_some() {
        given.push("--module");
    }
    if !opts.tags.is_empty() {
        given.push("--tag-name/--tag-value");
    }
    if opts.spawn_data.is_some() {
        given.push("--data");
    }
    if !opts.authorities.is_empty() {
        given.push("--authority");
    }
    if opts.scheduler.is_some() {
        given.push("--scheduler");
    }
    if !given.is_empty() {
        eprintln!(
            "aos: {} exists already; {} only apply when a process is spawned",
            opts.name,
            given.join(", ")
        );
    }
}

impl Session {
    pub async fn open(opts: &SessionOptions) -> Result<Self> {
        let data_dir = data_dir(opts)?;
        let wallet = match &opts.wallet {
            // Only the default wallet is created on first use: a mistyped path must not quietly
            // become a new identity with no processes.
            Some(path) if !path.exists() => bail!(
                "no wallet at {}: check the path (nothing was created; without --wallet, \
                 aos uses {} and creates it on first use)",
                path.display(),
                data_dir.join("wallet.json").display()
            ),
            Some(path) => Wallet::load(path)?,
            None => Wallet::load_or_create(&data_dir.join("wallet.json"))?,
        };
        let (conn, serving) = connect(opts, &data_dir).await?;
        let info = conn.info().await?;
        let mut session = Self {
            conn,
            wallet,
            info,
            process: String::new(),
            name: opts.name.clone(),
            data_dir,
            spawned: false,
            serving: std::sync::Mutex::new(serving),
        };
        let found = match opts.purpose {
            Purpose::List => Ok(String::new()),
            Purpose::Watch => session.process_by_id(&opts.name),
            Purpose::Use | Purpose::Read => session.find_or_spawn(opts).await,
        };
        match found {
            Ok(process) => session.process = process,
            Err(e) => {
                session.close().await;
                return Err(e);
            }
        }
        Ok(session)
    }

    fn process_by_id(&self, id: &str) -> Result<String> {
        anyhow::ensure!(
            is_process_id(id),
            "--watch takes a 43-character process id, not {id:?}"
        );
        Ok(id.to_owned())
    }

    /// Stops serving other shells and checkpoints the embedded node, so the next start of this
    /// data dir restores instead of replaying.
    pub async fn close(&self) {
        let serving = self
            .serving
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(serving) = serving {
            serving.stop().await;
        }
        if let Connection::Embedded { node, .. } = &self.conn
            && let Err(e) = node.shutdown().await
        {
            eprintln!("aos: checkpoint on exit failed: {e}");
        }
    }

    /// An id you did not spawn is someone else's process: typing into it would put messages from
    /// you in its Inbox, not run code. Read-only use is fine.
    async fn check_owned(&self, id: &str, opts: &SessionOptions) -> Result<()> {
        if opts.purpose == Purpose::Read {
            return Ok(());
        }
        let me = self.wallet.address();
        let mine = self.conn.processes_of(&me).await?;
        if mine.iter().any(|(_, p)| p == id) {
            return Ok(());
        }
        bail!(
            "process {id} is not yours (your wallet is {me}): what you type would land in its \
             Inbox as messages from you, not run in it. To follow it read-only: aos --watch={id}"
        )
    }

    async fn find_or_spawn(&mut self, opts: &SessionOptions) -> Result<String> {
        if is_process_id(&opts.name) {
            self.check_owned(&opts.name, opts).await?;
            warn_spawn_flags_unused(opts);
            return Ok(opts.name.clone());
        }
        let owner = self.wallet.address();
        if let Some(id) = self.conn.find_process(&owner, &opts.name).await? {
            warn_spawn_flags_unused(opts);
            return Ok(id);
        }
        anyhow::ensure!(
            opts.purpose == Purpose::Use,
            "no process called {:?} for your wallet; --dry-run does not spawn one",
            opts.name
        );
        let mut draft = ItemDraft::new(opts.spawn_data.clone().unwrap_or_default())
            .anchor(fresh_anchor()?)
            .tag("Data-Protocol", "ao")
            .tag("Variant", "ao.TN.1")
            .tag("Type", "Process")
            .tag("Name", opts.name.clone())
            .tag(
                "Module",
                opts.module
                    .clone()
                    .unwrap_or_else(|| self.info.default_module.clone()),
            )
            .tag(
                "Scheduler",
                opts.scheduler
                    .clone()
                    .unwrap_or_else(|| self.info.address.clone()),
            );
        if opts.authorities.is_empty() {
            // The node, then every other node of its network: what they forward from their
            // processes is then believed to come from those processes (`msg.From`).
            draft = draft.tag("Authority", self.info.address.clone());
            for node in self.conn.network_nodes().await {
                if node != self.info.address {
                    draft = draft.tag("Authority", node);
                }
            }
        }
        for authority in &opts.authorities {
            draft = draft.tag("Authority", authority.clone());
        }
        if let Some(interval) = &opts.cron {
            // As aos does: ticks arrive as Action=Cron unless the user's tags say otherwise.
            draft = draft.tag("Cron-Interval", interval.clone());
            if !opts.tags.iter().any(|(name, _)| name == "Cron-Tag-Action") {
                draft = draft.tag("Cron-Tag-Action", "Cron");
            }
        }
        for (name, value) in &opts.tags {
            draft = draft.tag(name.clone(), value.clone());
        }
        let item = self.wallet.sign(draft)?;
        let id = self.conn.submit(&item).await?;
        // The spawn's own evaluation sets the process up (Owner, Name, prompt).
        self.conn.result(&id, &id).await?;
        self.spawned = true;
        Ok(id)
    }

    /// A signed `Eval` of `code` to this session's process.
    pub fn eval_item(&self, code: &str) -> Result<DataItem> {
        let target = b64::decode_32(&self.process).context("process id")?;
        Ok(self.wallet.sign(
            ItemDraft::new(code.as_bytes().to_vec())
                .anchor(fresh_anchor()?)
                .tag("Data-Protocol", "ao")
                .tag("Variant", "ao.TN.1")
                .tag("Type", "Message")
                .tag("Action", "Eval")
                .target(target),
        )?)
    }

    /// Sends `code` as an Eval and waits for its result.
    pub async fn eval(&self, code: &str) -> Result<(String, ProcessResult)> {
        let item = self.eval_item(code)?;
        let id = self.conn.submit(&item).await?;
        let result = self.conn.result(&id, &self.process).await?;
        Ok((id, result))
    }

    /// Evaluates `code` read-only: nothing is stored, the state does not change.
    pub async fn dry_eval(&self, code: &str) -> Result<ProcessResult> {
        let message = aos_units::api::DryRun {
            target: Some(self.process.clone()),
            owner: Some(self.wallet.address()),
            from: Some(self.wallet.address()),
            tags: Some(vec![aos_units::message::Tag {
                name: "Action".into(),
                value: "Eval".into(),
            }]),
            data: Some(code.into()),
            ..Default::default()
        };
        self.conn.dry_run(&self.process, &message).await
    }

    /// Starts or stops real-time cron ticks of this session's process.
    pub async fn monitor(&self, on: bool) -> Result<()> {
        let target = b64::decode_32(&self.process).context("process id")?;
        let request = self.wallet.sign(
            ItemDraft::new("")
                .anchor(fresh_anchor()?)
                .tag("Data-Protocol", "ao")
                .tag("Variant", "ao.TN.1")
                .tag("Type", "Message")
                .tag("Action", if on { "Monitor" } else { "Unmonitor" })
                .target(target),
        )?;
        self.conn.monitor(&self.process, &request, on).await
    }

    pub async fn wait_cranked(&self, message: &str, timeout: Duration) -> Result<Crank> {
        self.conn.wait_cranked(message, timeout).await
    }
}

pub fn is_process_id(text: &str) -> bool {
    text.len() == 43 && b64::decode_32(text).is_some()
}

/// `--url`, else the embedded node (served to other shells on the data dir); if another process
/// holds the store, the node it published.
pub(crate) async fn connect(
    opts: &SessionOptions,
    data_dir: &std::path::Path,
) -> Result<(Connection, Option<Serving>)> {
    if let Some(urls) = &opts.remote {
        return Ok((Connection::remote_units(urls.clone()), None));
    }
    match Node::open(NodeConfig::new(data_dir)) {
        Ok(node) => {
            let serving = Serving::start(&node, data_dir).await?;
            Ok((
                Connection::embedded(node, data_dir.display().to_string()),
                Some(serving),
            ))
        }
        Err(NodeError::Store(StoreError::Locked(_))) => {
            let url_file = node_url_file(data_dir);
            match std::fs::read_to_string(&url_file) {
                Ok(url) => Ok((Connection::remote(url.trim()), None)),
                Err(_) => bail!(
                    "the data dir {} is in use by another aos process that serves no URL \
                     (an older aos?); stop it or pass --url",
                    data_dir.display()
                ),
            }
        }
        Err(e) => Err(e.into()),
    }
}
