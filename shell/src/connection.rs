//! The shell's link to a node: the embedded one (units called in-process) or a running `aos node`
//! over HTTP. Both answer the same questions with the same JSON.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use aos::Node;
use aos_units::api;
use aos_units::cu::Order;
use aos_units::message::{DataItem, b64};
use aos_units::result::ProcessResult;
use aos_units::store::ProcessId;
use serde::de::DeserializeOwned;
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
                let info: api::NodeInfo = self
                    .get(&format!("{base}/"))
                    .await
                    .with_context(|| format!("{base}/ does not look like an aos node"))?;
                Ok(NodeInfo {
                    address: info.address,
                    default_module: info.default_module,
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
                let accepted: api::Accepted = Self::answer_of(response)
                    .await
                    .context("the messenger's answer")?;
                Ok(accepted.id)
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
                Self::answer_of::<api::Monitoring>(response)
                    .await
                    .map(|_| ())
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
                self.get(&format!("{base}/result/{message}?process-id={process}"))
                    .await
            }
        }
    }

    pub async fn dry_run(&self, process: &str, message: &api::DryRun) -> Result<ProcessResult> {
        match self {
            Self::Embedded { node, .. } => {
                let p = ProcessId::parse(process).context("process id")?;
                Ok(node
                    .messenger()
                    .compute()
                    .dry_run(&p, message.to_value())
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
                Self::answer_of(response).await
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
                let page: api::ResultsPage = self
                    .get(&format!(
                        "{base}/{path}/{process}?from={from}&limit={limit}&sort={sort}"
                    ))
                    .await?;
                page.edges
                    .into_iter()
                    .map(|edge| {
                        let key = edge.key().ok_or_else(|| {
                            anyhow!("a result page edge has no numeric cursor: {}", edge.cursor)
                        })?;
                        Ok((key, edge.node))
                    })
                    .collect()
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
                let list: Vec<api::ProcessSummary> = Self::answer_of(list).await?;
                Ok(list.into_iter().last().map(|p| p.process_id))
            }
        }
    }

    /// The processes `owner` spawned on this node, oldest first, as `(name, id)`.
    pub async fn processes_of(&self, owner: &str) -> Result<Vec<(String, String)>> {
        match self {
            Self::Embedded { node, .. } => Ok(node
                .messenger()
                .scheduler()
                .processes_of(owner, None)?
                .into_iter()
                .map(|p| {
                    let name = p.tags.iter().find(|t| t.name == "Name");
                    (name.map(|t| t.value.clone()).unwrap_or_default(), p.id)
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
                let list: Vec<api::ProcessSummary> = Self::answer_of(list).await?;
                Ok(list
                    .into_iter()
                    .map(|p| (p.name().to_owned(), p.process_id))
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
                let found: api::ScheduledMessage = self
                    .get(&format!("{base}/{message}?process-id={process}"))
                    .await?;
                Ok(found.assignment.slot())
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
                    let state: api::CrankStatus =
                        self.get(&format!("{base}/crank/{message}")).await?;
                    if state.done {
                        let undeliverable = state
                            .undeliverable
                            .into_iter()
                            .map(|u| (u.target, u.reason))
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

    async fn get<T: DeserializeOwned>(&self, url: &str) -> Result<T> {
        let Self::Remote { http, .. } = self else {
            bail!("not a remote connection");
        };
        let response = http
            .get(url)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        Self::answer_of(response).await
    }

    /// A 2xx answer as a `T`; any other as its `{error}`.
    async fn answer_of<T: DeserializeOwned>(response: reqwest::Response) -> Result<T> {
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .with_context(|| format!("the node answered {status} without JSON"))?;
        if !status.is_success() {
            let message = serde_json::from_value::<api::ApiError>(body.clone())
                .map_or_else(|_| body.to_string(), |e| e.error);
            bail!("{message} ({status})");
        }
        serde_json::from_value(body.clone())
            .with_context(|| format!("the node's answer is not what was asked for: {body}"))
    }
}

fn ids(message: &str, process: &str) -> Result<([u8; 32], ProcessId)> {
    Ok((
        b64::decode_32(message).context("message id")?,
        ProcessId::parse(process).context("process id")?,
    ))
}
