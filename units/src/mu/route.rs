//! Routing: which SU an item belongs to, and getting it there.
//!
//! A spawn belongs to the scheduler its `Scheduler` tag names (this node when it names none); any
//! other item to its target process's scheduler. A process this node's store holds is scheduled
//! here. For any other, the messenger asks each peer it has a Scheduler-Location record for
//! (`GET {su}/processes/{id}` and slot 0 of `GET {su}/{id}`, through [`RemoteSource`], which
//! checks the spawn's signature): the first peer holding the spawn tells its scheduler, which the
//! signed `Scheduler` tag must agree with. What it learns is cached for the node's lifetime (a
//! process never changes scheduler). The scheduler's record gives its SU's URL
//! ([`Locations::url_of`]); the signed item goes there unchanged ([`Remote::forward`]).
//!
//! What a peer says only decides where to send: the owning SU verifies and schedules, and a CU
//! believes nothing it has not checked against the log (`crate::schedule`).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use thiserror::Error;

use super::remote::{ForwardError, Remote, RemoteAck};
use super::{Messenger, MuError, Submitted};
use crate::cu::Locate;
use crate::location::Locations;
use crate::message::DataItem;
use crate::schedule::{RemoteSource, ScheduleSource, SourceError};
use crate::store::ProcessId;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RouteError {
    #[error("scheduler {0} is not known to this node (no live Scheduler-Location record)")]
    UnknownScheduler(String),
    #[error("process {process} is scheduled by {scheduler} at {url}")]
    Elsewhere {
        process: String,
        scheduler: String,
        url: String,
    },
    #[error("cannot tell where process {process} is scheduled: {why}")]
    Unlocated { process: String, why: String },
    #[error(transparent)]
    Forward(#[from] ForwardError),
}

/// Where an item goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Here,
    There { scheduler: String, url: String },
}

/// The messenger's routing state.
#[derive(Debug, Default)]
pub(super) struct Router {
    locations: OnceLock<Locations>,
    pub(super) remote: Remote,
    /// Process → scheduler address, for processes found on peers.
    schedulers: Mutex<BTreeMap<[u8; 32], String>>,
}

impl Messenger {
    /// Lets the messenger route by `locations` (the node's Scheduler-Location registry). Without
    /// it (an embedded node) everything is scheduled here. Only the first call counts.
    pub fn join_network(&self, locations: Locations) {
        let _ = self.inner.route.locations.set(locations);
        // The CU computes other nodes' processes from their owners' logs, found the same way.
        let locator = Locator(Arc::downgrade(&self.inner));
        self.inner.cu.locate_with(Arc::new(locator));
    }

    /// Where `item` belongs.
    pub async fn route_of(&self, item: &DataItem) -> Result<Route, MuError> {
        let me = self.address();
        let scheduler = if item.tag("Type") == Some("Process") {
            match item.tag("Scheduler") {
                Some(named) if named != me => named.to_owned(),
                _ => return Ok(Route::Here),
            }
        } else {
            let Some(target) = item.target() else {
                return Ok(Route::Here);
            };
            let process = ProcessId(*target);
            if self.inner.su.store().process(&process)?.is_some() {
                return Ok(Route::Here);
            }
            match self.locate(&process).await? {
                Some(scheduler) if scheduler != me => scheduler,
                // Nobody has it: the local SU says so in its own words.
                _ => return Ok(Route::Here),
            }
        };
        match self.url_of(&scheduler) {
            Some(url) => Ok(Route::There { scheduler, url }),
            None => Err(RouteError::UnknownScheduler(scheduler).into()),
        }
    }

    /// The SU URL of the scheduler of `process` if this node knows it is another node's, without
    /// asking anyone (an SU's redirect must not set off lookups of its own).
    pub fn known_owner_url(&self, process: &ProcessId) -> Option<String> {
        let scheduler = self
            .inner
            .route
            .schedulers
            .lock()
            .expect("schedulers lock")
            .get(&process.0)
            .cloned()?;
        (scheduler != self.address())
            .then(|| self.url_of(&scheduler))
            .flatten()
    }

    /// The SU URL of the scheduler of `process` when that is another node, asking the peers if
    /// need be. `None` when it is scheduled here, or nobody can say.
    pub async fn owner_url(&self, process: &ProcessId) -> Option<String> {
        self.owner_of(process).await.ok().flatten()
    }

    /// [`Self::owner_url`], saying why when it cannot tell: peers that did not answer, or an
    /// owner without a live location record.
    pub async fn owner_of(&self, process: &ProcessId) -> Result<Option<String>, MuError> {
        if self.inner.su.store().process(process)?.is_some() {
            return Ok(None);
        }
        match self.locate(process).await? {
            Some(scheduler) if scheduler != self.address() => match self.url_of(&scheduler) {
                Some(url) => Ok(Some(url)),
                None => Err(RouteError::UnknownScheduler(scheduler).into()),
            },
            _ => Ok(None),
        }
    }

    /// Every peer's answer to `GET {su}/processes?owner&name` (only their own processes), for a
    /// client that looks its processes up by name on any node.
    pub async fn processes_on_peers(
        &self,
        owner: &str,
        name: Option<&str>,
    ) -> Vec<crate::api::ProcessSummary> {
        let Some(locations) = self.inner.route.locations.get() else {
            return Vec::new();
        };
        let me = self.address();
        let mut out = Vec::new();
        for record in locations.records() {
            if record.address == me {
                continue;
            }
            let mut query = vec![("owner", owner), ("local", "true")];
            if let Some(name) = name {
                query.push(("name", name));
            }
            let Ok(url) =
                reqwest::Url::parse_with_params(&format!("{}/processes", record.url), &query)
            else {
                continue;
            };
            let answer = self.inner.route.remote.http.get(url).send().await;
            let list = match answer {
                Ok(answer) if answer.status().is_success() => answer.json().await.ok(),
                Ok(answer) => {
                    tracing::warn!(peer = %record.url, status = %answer.status(), "processes lookup");
                    None
                }
                Err(e) => {
                    tracing::warn!(peer = %record.url, "processes lookup: {e}");
                    None
                }
            };
            if let Some(list) = list {
                out.extend::<Vec<crate::api::ProcessSummary>>(list);
            }
        }
        out
    }

    fn url_of(&self, scheduler: &str) -> Option<String> {
        self.inner.route.locations.get()?.url_of(scheduler)
    }

    /// The scheduler of a process this node does not hold, from the peers. `Ok(None)`: every
    /// peer answered and none holds it.
    async fn locate(&self, process: &ProcessId) -> Result<Option<String>, MuError> {
        let cached = self
            .inner
            .route
            .schedulers
            .lock()
            .expect("schedulers lock")
            .get(&process.0)
            .cloned();
        if cached.is_some() {
            return Ok(cached);
        }
        let Some(locations) = self.inner.route.locations.get() else {
            return Ok(None);
        };
        let me = self.address();
        let mut failures = Vec::new();
        for record in locations.records() {
            if record.address == me {
                continue;
            }
            let source =
                RemoteSource::with_client(&record.url, self.inner.route.remote.http.clone());
            match source.process(process).await {
                Ok(found) => {
                    self.inner
                        .route
                        .schedulers
                        .lock()
                        .expect("schedulers lock")
                        .insert(process.0, found.scheduler.clone());
                    return Ok(Some(found.scheduler));
                }
                Err(SourceError::UnknownProcess(_)) => {}
                Err(e) => failures.push(format!("{}: {e}", record.url)),
            }
        }
        if failures.is_empty() {
            Ok(None)
        } else {
            Err(RouteError::Unlocated {
                process: process.to_string(),
                why: failures.join("; "),
            }
            .into())
        }
    }

    /// Hands `item` to the SU at `url`; `Ok` once that SU committed it.
    pub(super) async fn forward(
        &self,
        url: &str,
        item: &DataItem,
    ) -> Result<RemoteAck, RouteError> {
        Ok(self
            .inner
            .route
            .remote
            .forward(url, &item.to_bytes())
            .await?)
    }

    /// A client's item for another node's process: verified here, acknowledged once the owner
    /// acknowledged it, with the owner's id and slot.
    pub(super) async fn submit_elsewhere(
        &self,
        item: &DataItem,
        url: &str,
    ) -> Result<Submitted, MuError> {
        item.verify().map_err(MuError::BadSignature)?;
        let ack = match self.forward(url, item).await {
            Ok(ack) => ack,
            Err(RouteError::Forward(ForwardError::Duplicate { .. })) => {
                return Err(crate::su::ScheduleError::Duplicate(item.id()).into());
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Submitted {
            id: ack.id,
            process: ack.process,
            slot: ack.slot,
        })
    }

    /// What an SU's `POST` takes: an item this node schedules. One for another node's process
    /// is refused with where it belongs (the SU answers 307), never forwarded again.
    pub async fn submit_to_scheduler(&self, bytes: &[u8]) -> Result<Submitted, MuError> {
        let item = DataItem::from_bytes(bytes).map_err(MuError::Malformed)?;
        if let Some(target) = item.target()
            && item.tag("Type") != Some("Process")
        {
            let process = ProcessId(*target);
            if self.inner.su.store().process(&process)?.is_none()
                && let Some(url) = self.known_owner_url(&process)
            {
                return Err(RouteError::Elsewhere {
                    process: process.to_string(),
                    scheduler: String::new(),
                    url,
                }
                .into());
            }
        } else if let Some(named) = item.tag("Scheduler")
            && named != self.address()
            && let Some(url) = self.url_of(named)
        {
            return Err(RouteError::Elsewhere {
                process: item.id(),
                scheduler: named.to_owned(),
                url,
            }
            .into());
        }
        self.submit_item(&item).await
    }
}

/// The compute unit's way to the owner of a process: this messenger's routing, held weakly (the
/// messenger holds the compute unit).
struct Locator(Weak<super::Inner>);

impl Locate for Locator {
    fn scheduler_url<'a>(
        &'a self,
        process: &'a ProcessId,
    ) -> Pin<Box<dyn Future<Output = Result<Option<String>, String>> + Send + 'a>> {
        Box::pin(async move {
            let Some(inner) = self.0.upgrade() else {
                return Ok(None);
            };
            let mu = Messenger { inner };
            mu.owner_of(process).await.map_err(|e| e.to_string())
        })
    }

    fn client(&self) -> reqwest::Client {
        self.0
            .upgrade()
            .map(|inner| inner.route.remote.http.clone())
            .unwrap_or_default()
    }
}
