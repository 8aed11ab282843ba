//! A session: one wallet talking to one process on one node. Finds the process by name (or
//! spawns it), and turns Lua code into signed `Eval` messages.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use aos::{Node, NodeConfig, NodeError};
use aos_units::message::{DataItem, ItemDraft, Signer, b64};
use aos_units::store::StoreError;
use aos_units::wallet::Wallet;
use serde_json::{Value, json};

use crate::connection::{Connection, Crank, NodeInfo};

/// How to reach a process.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// A process name (spawned on first use) or a 43-character process id.
    pub name: String,
    pub data_dir: Option<PathBuf>,
    pub wallet: Option<PathBuf>,
    pub url: Option<String>,
    pub module: Option<String>,
    pub cron: Option<String>,
    pub tags: Vec<(String, String)>,
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
        let wallet_path = match &opts.wallet {
            Some(path) => path.clone(),
            None => data_dir.join("wallet.json"),
        };
        let wallet = Wallet::load_or_create(&wallet_path)?;
        let conn = connect(opts, &data_dir).await?;
        let info = conn.info().await?;
        let mut session = Self {
            conn,
            wallet,
            info,
            process: String::new(),
            name: opts.name.clone(),
            data_dir,
            spawned: false,
        };
        session.process = session.find_or_spawn(opts).await?;
        Ok(session)
    }

    async fn find_or_spawn(&mut self, opts: &SessionOptions) -> Result<String> {
        if opts.name.len() == 43 && b64::decode_32(&opts.name).is_some() {
            warn_spawn_flags_unused(opts);
            return Ok(opts.name.clone());
        }
        let owner = self.wallet.address();
        if let Some(id) = self.conn.find_process(&owner, &opts.name).await? {
            warn_spawn_flags_unused(opts);
            return Ok(id);
        }
        let mut draft = ItemDraft::new("")
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
            .tag("Scheduler", self.info.address.clone())
            .tag("Authority", self.info.address.clone());
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
    pub async fn eval(&self, code: &str) -> Result<(String, Value)> {
        let item = self.eval_item(code)?;
        let id = self.conn.submit(&item).await?;
        let result = self.conn.result(&id, &self.process).await?;
        Ok((id, result))
    }

    /// Evaluates `code` read-only: nothing is stored, the state does not change.
    pub async fn dry_eval(&self, code: &str) -> Result<Value> {
        let message = json!({
            "Target": self.process,
            "Owner": self.wallet.address(),
            "From": self.wallet.address(),
            "Tags": [{"name": "Action", "value": "Eval"}],
            "Data": code,
        });
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

/// `--url`, else the embedded node; if another process holds the store, the node it published.
async fn connect(opts: &SessionOptions, data_dir: &std::path::Path) -> Result<Connection> {
    if let Some(url) = &opts.url {
        return Ok(Connection::remote(url));
    }
    match Node::open(NodeConfig::new(data_dir)) {
        Ok(node) => Ok(Connection::embedded(node, data_dir.display().to_string())),
        Err(NodeError::Store(StoreError::Locked(_))) => {
            let url_file = node_url_file(data_dir);
            match std::fs::read_to_string(&url_file) {
                Ok(url) => Ok(Connection::remote(url.trim())),
                Err(_) => bail!(
                    "the data dir {} is in use by another aos process that serves no URL; \
                     stop it or pass --url",
                    data_dir.display()
                ),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// The text an `Output` shows: `data` as text, tables as JSON.
pub fn output_text(result: &Value) -> String {
    let output = result.get("Output").unwrap_or(&Value::Null);
    let data = match output {
        Value::Object(map) => map.get("data").unwrap_or(&Value::Null),
        other => other,
    };
    match data {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Object(map) if map.contains_key("output") => match &map["output"] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        },
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// The prompt a result carries, if any.
pub fn prompt_of(result: &Value) -> Option<String> {
    result
        .get("Output")
        .and_then(|o| o.get("prompt"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The error a result carries, if any.
pub fn error_of(result: &Value) -> Option<String> {
    match result.get("Error") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.is_empty() => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => Some(other.to_string()),
    }
}
