//! The shell's link to a node: the embedded one (units called in-process) or a running `aos node`
//! over HTTP. Both answer the same questions with the same JSON.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use aos::Node;
use aos_units::cu::Order;
use aos_units::message::{DataItem, b64};
use aos_units::result::ProcessResult;
use aos_units::store::ProcessId;
use serde_json::Value;

/// What the shell needs to know about a node.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub address: String,
    pub default_module: String,
    /// Where it is: a data dir or a URL, for the banner.
    pub location: String,
}

/// Which results to page through: those of the process's log (by slot) or of its cron ticks
/// (by timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    Messages,
    Cron,
}

/// How the delivery of what a message sent went.
#[derive(Debug, Clone, Default)]
pub struct Crank {
    /// Everything was delivered (or given up on) before the wait ended.
    pub done: bool,
    /// `(target, reason)` of each delivery that could not be made.
    pub undeliverable: Vec<(String, String)>,
}

/// Where each unit of a remote node answers. One `aos node` serves them all under one URL; aos's
/// `--mu-url`, `--cu-url` and `--gateway-url` (or `MU_URL`, `CU_URL`, `GATEWAY_URL`) place them apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Node info (`GET /`) and the scheduler under `/su`: our gateway.
    pub node: String,
    pub mu: String,
    pub su: String,
    pub cu: String,
}

impl Endpoints {
    /// All three units of one `aos node` at `url`.
    pub fn of_node(url: &str) -> Self {
        let node = url.trim_end_matches('/').to_owned();
        Self {
            mu: format!("{node}/mu"),
            su: format!("{node}/su"),
            cu: format!("{node}/cu"),
            node,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Connection {
    Embedded {
        node: Node,
        data_dir: String,
    },
    Remote {
        urls: Endpoints,
        http: reqwest::Client,
    },
}

impl Connection {
    pub fn embedded(node: Node, data_dir: String) -> Self {
        Self::Embedded { node, data_dir }
    }

    pub fn remote(url: &str) -> Self {
        Self::remote_units(Endpoints::of_node(url))
    }

    pub fn remote_units(urls: Endpoints) -> Self {
        Self::Remote {
            urls,
            http: reqwest::Client::new(),
        }
    }

    pub async fn info(&self) -> Result<NodeInfo> {
        match self {
            Self::Embedded { node, data_dir } => Ok(NodeInfo {
                address: node.info().address.clone(),
                default_module: node.info().default_module.clone(),
                location: format!("embedded node, data dir {data_dir}"),
            }),
            Self::Remote { urls, .. } => {
                let base = &urls.node;
                let info = self.get_json(&format!("{base}/")).await?;
                let field = |name: &str| {
                    info.get(name)
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            anyhow!("{base}/ does not look like an aos node (no {name})")
                        })
                };
                Ok(NodeInfo {
                    address: field("address")?,
                    default_module: field("default_module")?,
                    location: base.clone(),
                })
            }
        }
    }

    /// The addresses of the nodes the node knows (its own and its peers', from their signed
    /// Scheduler-Location records), sorted: the network a new process trusts by default. Empty
    /// if the node cannot say (a gateway that is not an aos node).
    pub async fn network_nodes(&self) -> Vec<String> {
        let mut nodes: Vec<String> = match self {
            Self::Embedded { node, .. } => node
                .info()
                .locations
                .records()
                .into_iter()
                .map(|r| r.address)
                .collect(),
            Self::Remote { urls, http } => {
                let query = serde_json::json!({"query": "query { transactions(tags: [{ name: \"Type\", values: [\"Scheduler-Location\"] }]) { edges { node { owner { address } } } } }"});
                let answer = match http
                    .post(format!("{}/graphql", urls.node))
                    .json(&query)
                    .send()
                    .await
                {
                    Ok(answer) => answer.json::<Value>().await.unwrap_or(Value::Null),
                    Err(_) => Value::Null,
                };
                answer["data"]["transactions"]["edges"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["node"]["owner"]["address"].as_str())
                    .filter(|a| aos_units::message::b64::decode_32(a).is_some())
                    .map(str::to_owned)
                    .collect()
            }
        };
        nodes.sort();
        nodes.dedup();
        nodes
    }

    /// Sends a signed item; returns once it is scheduled (durable).
    pub async fn submit(&self, item: &DataItem) -> Result<String> {
        match self {
            Self::Embedded { node, .. } => Ok(node.messenger().submit_item(item).await?.id),
            Self::Remote { urls, http } => {
                let base = &urls.mu;
                let response = http
                    .post(base)
                    .header("content-type", "application/octet-stream")
                    .body(item.to_bytes())
                    .send()
                    .await
                    .with_context(|| format!("cannot reach {base}"))?;
                let value = Self::json_of(response).await?;
                value
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| anyhow!("the messenger answered without an id: {value}"))
            }
        }
    }

    /// Starts (`on`) or stops real-time cron ticks of `process`; `request` is a signed item.
    pub async fn monitor(&self, process: &str, request: &DataItem, on: bool) -> Result<()> {
        match self {
            Self::Embedded { node, .. } => {
                let id = ProcessId::parse(process).context("process id")?;
                let mu = node.messenger();
                if on {
                    mu.monitor(&id, request).await?;
                } else {
                    mu.unmonitor(&id, request).await?;
                }
                Ok(())
            }
            Self::Remote { urls, http } => {
                let base = &urls.mu;
                let method = if on {
                    reqwest::Method::POST
                } else {
                    reqwest::Method::DELETE
                };
                let response = http
                    .request(method, format!("{base}/monitor/{process}"))
                    .header("content-type", "application/octet-stream")
                    .body(request.to_bytes())
                    .send()
                    .await
                    .with_context(|| format!("cannot reach {base}"))?;
                Self::json_of(response).await.map(|_| ())
            }
        }
    }

    pub async fn result(&self, message: &str, process: &str) -> Result<ProcessResult> {
        match self {
            Self::Embedded { node, .. } => {
                let (m, p) = ids(message, process)?;
                Ok(node.messenger().compute().result_of(&m, &p).await?)
            }
            Self::Remote { urls, .. } => {
                let base = &urls.cu;
                let value = self
                    .get_json(&format!("{base}/result/{message}?process-id={process}"))
                    .await?;
                Ok(ProcessResult::from_value(value)?)
            }
        }
    }

    pub async fn dry_run(&self, process: &str, message: &Value) -> Result<ProcessResult> {
        match self {
            Self::Embedded { node, .. } => {
                let p = ProcessId::parse(process).context("process id")?;
                Ok(node
                    .messenger()
                    .compute()
                    .dry_run(&p, message.clone())
                    .await?)
            }
            Self::Remote { urls, http } => {
                let base = &urls.cu;
                let response = http
                    .post(format!("{base}/dry-run?process-id={process}"))
                    .json(message)
                    .send()
                    .await
                    .with_context(|| format!("cannot reach {base}"))?;
                Ok(ProcessResult::from_value(Self::json_of(response).await?)?)
            }
        }
    }

    /// Results after key `after` (from the start when `None`), ascending, up to 1000.
    pub async fn results_after(
        &self,
        process: &str,
        after: Option<u64>,
        feed: Feed,
    ) -> Result<Vec<(u64, ProcessResult)>> {
        self.results_page(process, after, feed, Order::Ascending, 1000)
            .await
    }

    /// The key (slot or tick timestamp) of the newest result of `feed`, if there is one.
    pub async fn newest_key(&self, process: &str, feed: Feed) -> Result<Option<u64>> {
        let newest = self
            .results_page(process, None, feed, Order::Descending, 1)
            .await?;
        Ok(newest.first().map(|(key, _)| *key))
    }

    async fn results_page(
        &self,
        process: &str,
        after: Option<u64>,
        feed: Feed,
        order: Order,
        limit: usize,
    ) -> Result<Vec<(u64, ProcessResult)>> {
        match self {
            Self::Embedded { node, .. } => {
                let p = ProcessId::parse(process).context("process id")?;
                let from = after.map_or(0, |a| a + 1);
                let cu = node.messenger().compute();
                Ok(match feed {
                    Feed::Messages => cu.results(&p, from, u64::MAX, limit, order).await?,
                    Feed::Cron => cu.cron_results(&p, from, u64::MAX, limit, order).await?,
                })
            }
            Self::Remote { urls, .. } => {
                let base = &urls.cu;
                let from = after.map(|a| a.to_string()).unwrap_or_default();
                let path = match feed {
                    Feed::Messages => "results",
                    Feed::Cron => "cron",
                };
                let sort = match order {
                    Order::Ascending => "ASC",
                    Order::Descending => "DESC",
                };
                let page = self
                    .get_json(&format!(
                        "{base}/{path}/{process}?from={from}&limit={limit}&sort={sort}"
                    ))
                    .await?;
                let mut out = Vec::new();
                for edge in page
                    .get("edges")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let slot = edge
                        .get("cursor")
                        .and_then(Value::as_str)
                        .and_then(|c| c.parse().ok())
                        .ok_or_else(|| anyhow!("a result page edge has no numeric cursor"))?;
                    let node = edge.get("node").cloned().unwrap_or(Value::Null);
                    out.push((slot, ProcessResult::from_value(node)?));
                }
                Ok(out)
            }
        }
    }

    /// The newest process called `name` that `owner` spawned.
    pub async fn find_process(&self, owner: &str, name: &str) -> Result<Option<String>> {
        match self {
            Self::Embedded { node, .. } => {
                Ok(node.messenger().scheduler().find_process(owner, name)?)
            }
            Self::Remote { urls, http } => {
                let base = &urls.su;
                let list = http
                    .get(format!("{base}/processes"))
                    .query(&[("owner", owner), ("name", name)])
                    .send()
                    .await
                    .with_context(|| format!("cannot reach {base}"))?;
                let list = Self::json_of(list).await?;
                Ok(list
                    .as_array()
                    .and_then(|l| l.last())
                    .and_then(|p| p.get("process_id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned))
            }
        }
    }

    /// The processes `owner` spawned on this node, oldest first, as `(name, id)`.
    pub async fn processes_of(&self, owner: &str) -> Result<Vec<(String, String)>> {
        let name_of = |tags: &[(String, String)]| {
            tags.iter()
                .find(|(name, _)| name == "Name")
                .map(|(_, value)| value.clone())
                .unwrap_or_default()
        };
        match self {
            Self::Embedded { node, .. } => Ok(node
                .messenger()
                .scheduler()
                .processes_of(owner, None)?
                .into_iter()
                .map(|p| {
                    let tags: Vec<(String, String)> = p
                        .tags
                        .iter()
                        .map(|t| (t.name.clone(), t.value.clone()))
                        .collect();
                    (name_of(&tags), p.id)
                })
                .collect()),
            Self::Remote { urls, http } => {
                let base = &urls.su;
                let list = http
                    .get(format!("{base}/processes"))
                    .query(&[("owner", owner)])
                    .send()
                    .await
                    .with_context(|| format!("cannot reach {base}"))?;
                let list = Self::json_of(list).await?;
                let text = |v: &Value, field: &str| {
                    v.get(field)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                Ok(list
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        let tags: Vec<(String, String)> = p
                            .get("tags")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .map(|t| (text(t, "name"), text(t, "value")))
                            .collect();
                        (name_of(&tags), text(p, "process_id"))
                    })
                    .collect())
            }
        }
    }

    /// The slot `message` holds in `process`'s log, once scheduled.
    pub async fn slot_of(&self, message: &str, process: &str) -> Result<Option<u64>> {
        match self {
            Self::Embedded { node, .. } => {
                let (m, p) = ids(message, process)?;
                Ok(node.messenger().scheduler().store().slot_of(&m, &p)?)
            }
            Self::Remote { urls, .. } => {
                let base = &urls.su;
                let found = self
                    .get_json(&format!("{base}/{message}?process-id={process}"))
                    .await?;
                Ok(found
                    .pointer("/assignment/tags")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some("Nonce"))
                    .and_then(|t| t.get("value").and_then(Value::as_str))
                    .and_then(|v| v.parse().ok()))
            }
        }
    }

    /// Waits until what `message` set off has been delivered and computed (bounded).
    pub async fn wait_cranked(&self, message: &str, timeout: Duration) -> Result<Crank> {
        match self {
            Self::Embedded { node, .. } => {
                let outcome = node.messenger().crank_outcome(message, timeout).await?;
                Ok(match outcome {
                    Some(lost) => Crank {
                        done: true,
                        undeliverable: lost
                            .iter()
                            .map(|u| (u.target(), u.reason.clone()))
                            .collect(),
                    },
                    None => Crank::default(),
                })
            }
            Self::Remote { urls, .. } => {
                let base = &urls.mu;
                let deadline = tokio::time::Instant::now() + timeout;
                loop {
                    let state = self.get_json(&format!("{base}/crank/{message}")).await?;
                    if state.get("done").and_then(Value::as_bool) == Some(true) {
                        let text = |u: &Value, field: &str| {
                            u.get(field)
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned()
                        };
                        let undeliverable = state
                            .get("undeliverable")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .map(|u| (text(u, "target"), text(u, "reason")))
                            .collect();
                        return Ok(Crank {
                            done: true,
                            undeliverable,
                        });
                    }
                    if tokio::time::Instant::now() >= deadline {
                        return Ok(Crank::default());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn get_json(&self, url: &str) -> Result<Value> {
        let Self::Remote { http, .. } = self else {
            bail!("not a remote connection");
        };
        let response = http
            .get(url)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        Self::json_of(response).await
    }

    async fn json_of(response: reqwest::Response) -> Result<Value> {
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .with_context(|| format!("the node answered {status} without JSON"))?;
        if !status.is_success() {
            let message = body
                .get("error")
                .and_then(Value::as_str)
                .map_or_else(|| body.to_string(), str::to_owned);
            bail!("{message} ({status})");
        }
        Ok(body)
    }
}

fn ids(message: &str, process: &str) -> Result<([u8; 32], ProcessId)> {
    Ok((
        b64::decode_32(message).context("message id")?,
        ProcessId::parse(process).context("process id")?,
    ))
}
