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
    let node = Node::open(config)?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    let url_file = node_url_file(&data_dir);
    std::fs::write(&url_file, &url).with_context(|| format!("writing {}", url_file.display()))?;
    println!("aos node {} listening on {url}", node.info().address);
    println!("default module {}", node.info().default_module);
    let timeout = std::time::Duration::from_secs(args.http_timeout.max(1));
    let limits = aos_units::http::HttpLimits {
        header_timeout: timeout,
        body_timeout: timeout,
        max_connections: args.max_connections.max(1),
    };
    aos_units::http::serve_with(
        listener,
        node.messenger().clone(),
        node.info().clone(),
        limits,
        shutdown_signal(),
    )
    .await;
    let _ = std::fs::remove_file(&url_file);
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
