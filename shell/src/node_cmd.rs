//! `aos node`: serves the units over HTTP until SIGINT/SIGTERM, then checkpoints and closes.

use std::process::ExitCode;

use anyhow::{Context, Result};
use aos::{Node, NodeConfig};

use crate::cli::NodeArgs;
use crate::session::node_url_file;

pub async fn run(args: NodeArgs) -> Result<ExitCode> {
    // The units report what goes wrong in the background (a delivery that cannot be made, a
    // failed tick) through `tracing`; a node prints it on stderr. RUST_LOG overrides the level.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => NodeConfig::default_data_dir().context("no home directory: pass --data-dir")?,
    };
    let mut config = NodeConfig::new(&data_dir);
    config.cron.min_interval_ms = args.min_cron_interval;
    config.network.peers = args.peers;
    config.vm.fuel_per_message = args.compute_limit.max(1);
    if let Some(bytes) = args.memory_limit {
        config.vm.memory_limit = bytes;
    }
    if let Some(bytes) = args.hot_memory {
        config.cu.hot_memory = bytes;
    }
    let node = Node::open(config)?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    let url_file = node_url_file(&data_dir);
    std::fs::write(&url_file, &url).with_context(|| format!("writing {}", url_file.display()))?;
    // Peers and clients are told where to find the node, which may not be where it listens.
    let public_url = args.public_url.as_deref().unwrap_or(&url);
    node.info()
        .locations
        .join(public_url)
        .with_context(|| format!("announcing the node at {public_url}"))?;
    println!("aos node {} listening on {url}", node.info().address);
    if public_url != url {
        println!("published as {public_url}");
    }
    println!("default module {}", node.info().default_module);
    let timeout = std::time::Duration::from_secs(args.http_timeout.max(1));
    let limits = aos_units::http::HttpLimits {
        header_timeout: timeout,
        body_timeout: timeout,
        max_connections: args.max_connections.max(1),
    };
    let broken = std::sync::Arc::new(std::sync::Mutex::new(None));
    let stop = {
        let broken = broken.clone();
        let health = node.messenger().scheduler().writer().health();
        async move {
            tokio::select! {
                _ = shutdown_signal() => {}
                why = store_broken(health) => *broken.lock().expect("broken lock") = Some(why),
            }
        }
    };
    aos_units::http::serve_with(
        listener,
        node.messenger().clone(),
        node.info().clone(),
        limits,
        stop,
    )
    .await;
    let _ = std::fs::remove_file(&url_file);
    if let Some(why) = broken.lock().expect("broken lock").take() {
        // A store redb gave up on takes no writes until it is opened again: exit, so a
        // supervisor restarts the node (nothing acknowledged is lost: acks follow commits).
        eprintln!(
            "aos node: the store has taken no writes for {}s ({why}); exiting so it can be reopened",
            STORE_GRACE.as_secs()
        );
        return Ok(ExitCode::from(3));
    }
    node.shutdown().await?;
    close_store(node, &data_dir).await;
    println!("aos node stopped");
    Ok(ExitCode::SUCCESS)
}

/// Waits until every handle on the store is gone (`shutdown` closed its writer), so redb marks the
/// file cleanly closed: the next start then opens it at once instead of checking all of it.
async fn close_store(node: Node, data_dir: &std::path::Path) {
    drop(node);
    // Background work of the units lets go of its handles as it ends.
    for _ in 0..100 {
        if !Node::is_locked(data_dir) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    eprintln!("aos node: the store is still open at exit; the next start will check it");
}

/// How long writes may keep failing before the node gives up and exits.
const STORE_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Resolves once the store has failed every write (and the writer's probes) for [`STORE_GRACE`].
async fn store_broken(mut health: tokio::sync::watch::Receiver<Option<String>>) -> String {
    loop {
        let why = match health.wait_for(Option::is_some).await {
            Ok(why) => Some(why.clone().unwrap_or_default()),
            Err(_) => None,
        };
        // The writer is gone: nothing more to watch.
        let Some(why) = why else {
            return std::future::pending().await;
        };
        let recovered = tokio::time::timeout(STORE_GRACE, health.wait_for(Option::is_none))
            .await
            .is_ok();
        if !recovered {
            return why;
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
