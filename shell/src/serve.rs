//! While a shell holds a data dir's store, its embedded node also answers on a local port and
//! publishes the URL in the data dir (the file `aos node` writes), so a second `aos` on the same
//! data dir talks to this node instead of failing on the locked store.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use aos::Node;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::session::node_url_file;

#[derive(Debug)]
pub struct Serving {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    url_file: PathBuf,
}

impl Serving {
    /// Serves `node` on 127.0.0.1 (a port the OS picks) and writes the URL file.
    pub async fn start(node: &Node, data_dir: &Path) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot open a local port for other shells")?;
        let url = format!("http://{}", listener.local_addr()?);
        let url_file = node_url_file(data_dir);
        std::fs::write(&url_file, &url)
            .with_context(|| format!("writing {}", url_file.display()))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(aos_units::http::serve(
            listener,
            node.messenger().clone(),
            node.info().clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(Self {
            stop,
            task,
            url_file,
        })
    }

    /// Removes the URL file first, so no new shell picks a node that is going away.
    pub async fn stop(self) {
        let _ = std::fs::remove_file(&self.url_file);
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.task).await;
    }
}
