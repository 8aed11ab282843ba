//! `aos` is the composition root: it wires the messenger, scheduler and compute units of `aos-units`
//! into one node — embedded in the shell, or served over HTTP by `aos node` — and owns node
//! configuration (data directory, node key, default module, limits).
//!
//! It holds no unit logic of its own and knows nothing of the terminal.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use thiserror::Error;

pub use aos_units as units;
pub use aos_vm as vm;

use aos_units::cron::CronLimits;
use aos_units::cu::{ComputeUnit, CuConfig, CuError};
use aos_units::http::NodeInfo;
use aos_units::location::Locations;
use aos_units::mu::{CrankLimits, Messenger};
use aos_units::store::{Store, StoreError, Writer};
use aos_units::su::Scheduler;
use aos_units::tasks::Tasks;
use aos_units::wallet::{Wallet, WalletError};

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NodeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("node key: {0}")]
    Wallet(#[from] WalletError),
    #[error("vm: {0}")]
    Vm(String),
    #[error(transparent)]
    Compute(#[from] CuError),
}

/// Everything a node needs to start.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Holds `node.redb` and the node's own key `node-wallet.json`.
    pub data_dir: PathBuf,
    pub vm: aos_vm::VmConfig,
    pub cu: CuConfig,
    pub crank: CrankLimits,
    /// The shortest `Cron-Interval` a spawn may ask for, and how many cron results are kept.
    pub cron: CronLimits,
    /// Peers to learn scheduler locations from, and this node's own record's lifetime.
    pub network: aos_units::location::NetworkConfig,
}

impl NodeConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            vm: aos_vm::VmConfig::default(),
            cu: CuConfig::default(),
            crank: CrankLimits::default(),
            cron: CronLimits::default(),
            network: Default::default(),
        }
    }

    /// `~/.aos`.
    pub fn default_data_dir() -> Option<PathBuf> {
        std::env::home_dir().map(|home| home.join(".aos"))
    }

    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("node.redb")
    }
}

/// The three units in one process. Must be created inside a tokio runtime.
#[derive(Debug, Clone)]
pub struct Node {
    mu: Messenger,
    info: NodeInfo,
    guard: Arc<Guard>,
}

/// The node's background tasks, stopped by [`Node::shutdown`] or, failing that, when the last
/// clone of the node is dropped.
#[derive(Debug)]
struct Guard {
    tasks: Tasks,
    shut_down: AtomicBool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.shut_down.load(Ordering::SeqCst) {
            tracing::warn!("node dropped without a shutdown: its background tasks are aborted");
            self.tasks.abort();
        }
    }
}

impl Node {
    /// Opens the store (failing with [`StoreError::Locked`] if another process holds it), loads or
    /// creates the node key, registers the default module and starts delivering what is pending.
    pub fn open(config: NodeConfig) -> Result<Self, NodeError> {
        let store = Store::open(&config.store_path())?;
        let key = Wallet::load_or_create(&config.data_dir.join("node-wallet.json"))?;
        let vm = aos_vm::Vm::new(config.vm.clone()).map_err(|e| NodeError::Vm(e.to_string()))?;
        let writer = Writer::start(store.clone());
        let tasks = Tasks::new();
        // The node runs the periodic checkpoints itself, among its own tasks, so a shutdown
        // stops them with the rest.
        let cu_config = CuConfig {
            cron_results_kept: config.cron.results_kept,
            checkpoint_interval: None,
            ..config.cu.clone()
        };
        let cu = ComputeUnit::new(store.clone(), writer.clone(), vm, cu_config);
        // The built-in module stays known by the sha256 of its wasm instead of becoming a module
        // item signed by this node: a hash is the same on every node with the same build, so
        // processes spawned on one node's default module run on any other, and every store
        // written before module items keeps its processes' module ids. A signed item would give
        // each node key its own id for the same wasm. `/graphql` and `ao.env.Module` present it
        // with tags all the same (`aos_units::module::builtin_tags`, `Module-Format` =
        // `aos_vm::AOS_FORMAT`), as a gateway presents a module item.
        let default_module = cu.add_module(aos_vm::DEFAULT_MODULE)?;
        let su = Scheduler::new(store, writer, key.address(), default_module.clone())
            .with_cron_limits(config.cron.clone());
        let signer = key.ed25519_signer()?.clone();
        let mu = Messenger::start_in(su, cu, signer.clone(), config.crank.clone(), tasks.clone());
        if let Some(period) = config.cu.checkpoint_interval {
            let cu = mu.compute().clone();
            // A round under way when the node stops ends there: the shutdown checkpoints the rest.
            let stop = tasks.stop_signal();
            tasks.every(period, move || {
                let (cu, stop) = (cu.clone(), stop.clone());
                async move {
                    if let Err(e) = cu.checkpoint_all_until(&stop).await {
                        tracing::warn!("periodic checkpoint: {e}");
                    }
                }
            });
        }
        let locations = Locations::with_tasks(signer, config.network.clone(), tasks.clone());
        mu.join_network(locations.clone());
        let info = NodeInfo {
            address: key.address(),
            default_module,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            locations,
        };
        let guard = Arc::new(Guard {
            tasks,
            shut_down: AtomicBool::new(false),
        });
        Ok(Self { mu, info, guard })
    }

    pub fn messenger(&self) -> &Messenger {
        &self.mu
    }

    pub fn info(&self) -> &NodeInfo {
        &self.info
    }

    /// Stops every background task (the cranker and its deliveries, monitored crons, location
    /// renewal and peer pulls, periodic checkpoints) and waits until they have ended, then
    /// checkpoints every hot process and closes the store's writer; call before dropping the
    /// node on a graceful stop. Nothing is written afterwards: what was still to be delivered
    /// waits in the outbox for the next start. Once every clone of the node is dropped, the
    /// store is released (and marked cleanly closed, so the next open need not check it).
    pub async fn shutdown(&self) -> Result<(), NodeError> {
        self.guard.shut_down.store(true, Ordering::SeqCst);
        self.guard.tasks.stop().await;
        // What the stopped tasks evaluated is committed before the checkpoints cover it.
        self.mu.compute().settle().await;
        let checkpointed = self.mu.compute().checkpoint_all().await;
        self.mu.scheduler().writer().close().await;
        checkpointed?;
        Ok(())
    }

    /// Whether `path` holds a store that another process has open.
    pub fn is_locked(data_dir: &Path) -> bool {
        matches!(
            Store::open(&data_dir.join("node.redb")),
            Err(StoreError::Locked(_))
        )
    }
}
