//! A node on 127.0.0.1:0 with its own data dir, and a client that signs its own items.

use aos::{Node, NodeConfig};
use aos_units::message::{DataItem, Ed25519Signer, ItemDraft, Signer, b64};
use serde_json::Value;

pub struct TestNode {
    pub url: String,
    pub node: Node,
    pub http: reqwest::Client,
    pub _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

impl TestNode {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tune: impl FnOnce(&mut NodeConfig)) -> Self {
        Self::start_in(tempfile::tempdir().unwrap(), tune).await
    }

    /// A node on the data dir `dir` (e.g. one a previous node left: a restart).
    pub async fn start_in(dir: tempfile::TempDir, tune: impl FnOnce(&mut NodeConfig)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener, dir, tune).await
    }

    /// A node served on `listener`, so a test can know its URL before it starts (peers).
    pub async fn start_on(
        listener: tokio::net::TcpListener,
        dir: tempfile::TempDir,
        tune: impl FnOnce(&mut NodeConfig),
    ) -> Self {
        Self::start_advertising(listener, dir, tune, None).await
    }

    /// [`Self::start_on`], announcing `advertised` (e.g. a proxy in front of it) as the node's
    /// URL in its Scheduler-Location record instead of its own.
    pub async fn start_advertising(
        listener: tokio::net::TcpListener,
        dir: tempfile::TempDir,
        tune: impl FnOnce(&mut NodeConfig),
        advertised: Option<&str>,
    ) -> Self {
        // RUST_LOG=aos_units=debug shows what the units do in the background.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
        let mut config = NodeConfig::new(dir.path());
        config.vm.cache_dir = Some(shared_cache_dir());
        tune(&mut config);
        let node = Node::open(config).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        node.info()
            .locations
            .join(advertised.unwrap_or(&url))
            .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(aos_units::http::serve(
            listener,
            node.messenger().clone(),
            node.info().clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        Self {
            url,
            node,
            http: reqwest::Client::new(),
            _dir: dir,
            stop: Some(stop),
            served: Some(served),
        }
    }

    pub async fn info(&self) -> Value {
        self.http
            .get(format!("{}/", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn post_item(&self, item: &DataItem) -> (u16, Value) {
        self.post_bytes(item.to_bytes()).await
    }

    pub async fn post_bytes(&self, bytes: Vec<u8>) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/mu", self.url))
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.request(reqwest::Method::GET, path, Vec::new()).await
    }

    /// The raw answer of `GET {url}{path}`: status and body bytes (a snapshot, or JSON to compare
    /// byte for byte).
    pub async fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.bytes().await.unwrap().to_vec())
    }

    /// Any method on any path, with a raw body; the answer must be JSON.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let response = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Spawns a process on the default module for `signer`; returns its id.
    pub async fn spawn(&self, signer: &Ed25519Signer, name: &str) -> String {
        self.spawn_tagged(signer, name, &[]).await
    }

    /// Spawns with extra tags (e.g. `Cron-Interval`).
    pub async fn spawn_tagged(
        &self,
        signer: &Ed25519Signer,
        name: &str,
        tags: &[(&str, &str)],
    ) -> String {
        let (status, body) = self.spawn_status(signer, name, tags).await;
        assert_eq!(status, 202, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Posts a spawn and returns the MU's answer, whatever it is.
    pub async fn spawn_status(
        &self,
        signer: &Ed25519Signer,
        name: &str,
        tags: &[(&str, &str)],
    ) -> (u16, Value) {
        let info = self.info().await;
        let mut draft = ItemDraft::new("")
            .tag("Data-Protocol", "ao")
            .tag("Variant", "ao.TN.1")
            .tag("Type", "Process")
            .tag("Name", name)
            .tag("Module", info["default_module"].as_str().unwrap())
            .tag("Scheduler", info["address"].as_str().unwrap());
        for (tag, value) in tags {
            draft = draft.tag(*tag, *value);
        }
        self.post_item(&signer.sign(draft).unwrap()).await
    }

    /// Posts an Eval and returns its result.
    pub async fn eval(&self, signer: &Ed25519Signer, process: &str, code: &str) -> Value {
        let id = self
            .send(signer, process, &[("Action", "Eval")], code)
            .await;
        self.result(&id, process).await
    }

    /// Posts a message; returns its id.
    pub async fn send(
        &self,
        signer: &Ed25519Signer,
        process: &str,
        tags: &[(&str, &str)],
        data: &str,
    ) -> String {
        let item = signer.sign(Self::draft(process, tags, data)).unwrap();
        let (status, body) = self.post_item(&item).await;
        assert_eq!(status, 202, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn result(&self, message: &str, process: &str) -> Value {
        let (status, body) = self
            .get(&format!("/cu/result/{message}?process-id={process}"))
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

impl TestNode {
    /// Waits until what `message` set off has been delivered and computed.
    pub async fn settle(&self, message: &str) {
        let done = self
            .node
            .messenger()
            .wait_cranked(message, std::time::Duration::from_secs(20))
            .await
            .unwrap();
        assert!(done, "crank of {message} did not finish");
    }
}

impl TestNode {
    /// Stops serving, shuts the node down gracefully and drops it, handing back its data dir.
    pub async fn shut_down(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.http = reqwest::Client::new();
        if let Some(served) = self.served.take() {
            served.await.unwrap();
        }
        self.node.shutdown().await.unwrap();
        let dir = tempfile::TempDir::new().unwrap();
        std::mem::replace(&mut self._dir, dir)
    }

    /// Stops serving and drops the node without a shutdown (what a crash leaves), handing back
    /// the data dir once the store is free.
    pub async fn crash(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let dir = tempfile::TempDir::new().unwrap();
        let data = std::mem::replace(&mut self._dir, dir);
        drop(self);
        for _ in 0..100 {
            if !aos::Node::is_locked(data.path()) {
                return data;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the crashed node did not let go of its store");
    }

    /// A message draft to `process`, with a fresh anchor (the caller signs it).
    pub fn draft(process: &str, tags: &[(&str, &str)], data: &str) -> ItemDraft {
        let mut draft = ItemDraft::new(data)
            .tag("Data-Protocol", "ao")
            .tag("Variant", "ao.TN.1")
            .tag("Type", "Message")
            .target(b64::decode_32(process).unwrap());
        for (name, value) in tags {
            draft = draft.tag(*name, *value);
        }
        // Signatures are deterministic: a unique anchor keeps two equal messages two messages.
        static SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut anchor = [b'0'; 32];
        anchor[..20].copy_from_slice(format!("{n:020}").as_bytes());
        draft.anchor = Some(anchor);
        draft
    }

    /// Evaluates `code` and fails the test if the result carries an Error; returns the Output.
    pub async fn eval_ok(&self, signer: &Ed25519Signer, process: &str, code: &str) -> String {
        let result = self.eval(signer, process, code).await;
        assert!(result["Error"].is_null(), "{result}");
        output(&result)
    }

    /// Evaluates `code` until its Output is `want` (what other processes send arrives later).
    pub async fn eventually(
        &self,
        signer: &Ed25519Signer,
        process: &str,
        code: &str,
        want: &str,
        timeout: std::time::Duration,
    ) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let got = self.eval_ok(signer, process, code).await;
            if got == want || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// One compiled-module cache for the whole test run.
pub fn shared_cache_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("aos-module-cache")
}

pub fn output(result: &Value) -> String {
    match &result["Output"] {
        Value::Object(map) => match map.get("data") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A signed request to start or stop `process`'s real-time cron (the body of `/mu/monitor`).
pub fn monitor_request(signer: &Ed25519Signer, process: &str) -> Vec<u8> {
    signer
        .sign(
            ItemDraft::new("")
                .tag("Data-Protocol", "ao")
                .tag("Type", "Message")
                .tag("Action", "Monitor")
                .target(b64::decode_32(process).unwrap()),
        )
        .unwrap()
        .to_bytes()
}

/// Handlers that count `Action = Hello` messages in the global `Got`.
pub const COUNT_HELLOS: &str = r#"
    Got = 0
    Handlers.add("hello", Handlers.utils.hasMatchingTag("Action", "Hello"), function() Got = Got + 1 end)
    return "ready"
"#;
