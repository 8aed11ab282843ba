//! Where schedulers are: signed `Scheduler-Location` records, as AO has them, and the registry
//! of the ones this node believes.
//!
//! A process's scheduler is a wallet address (its spawn's `Scheduler` tag); the scheduler's key
//! signs an item tagged `Data-Protocol=ao`, `Variant=ao.TN.1`, `Type=Scheduler-Location`,
//! `Url` (its SU's base URL) and `Time-To-Live` (ms), with empty data. AO publishes it to
//! Arweave and clients (AO's scheduler-utils, aoconnect) find it on a gateway's GraphQL
//! (`transactions(owners: [address], tags: [Data-Protocol=ao, Type=Scheduler-Location])`, newest
//! block first). With no Arweave between our nodes, each node serves its record and the ones it
//! learnt on `/graphql` (`http::location`), and pulls its peers' (`aos node --peer URL`) at start
//! and every [`NetworkConfig::refresh`]: peers pull, as AO's clients do; nobody pushes.
//!
//! A block height orders AO's records and starts their TTL; ours carry a signed `Timestamp` tag
//! (ms) instead, so a record without one is refused. A record is believed when its signature
//! verifies, its signer is the address it was looked up for, it is newer than the one held and
//! its `Timestamp + Time-To-Live` is still ahead. Nothing here reaches process state.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde_json::{Value, json};
use thiserror::Error;

use crate::message::{DataItem, Ed25519Signer, ItemDraft, Signer, b64};
use crate::schedule::item_from_graphql_node;
use crate::tasks::Tasks;

/// HyperBEAM's default lifetime of a location record: one hour.
pub const DEFAULT_TTL_MS: u64 = 60 * 60 * 1000;

/// What a node does about the network.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// Root URLs of other nodes whose records to pull (`aos node --peer URL`, repeatable).
    pub peers: Vec<String>,
    /// `Time-To-Live` of this node's own record; it is signed afresh at half of it.
    pub ttl_ms: u64,
    /// How often each peer's record is pulled again.
    pub refresh: Duration,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            peers: Vec::new(),
            ttl_ms: DEFAULT_TTL_MS,
            refresh: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LocationError {
    #[error("not a signed item: {0}")]
    Item(String),
    #[error("not a Scheduler-Location record: {0}")]
    NotALocation(String),
    #[error("the record for {expected} is signed by {signer}")]
    WrongSigner { expected: String, signer: String },
    #[error(
        "the record for {address} (Timestamp {offered}) is not newer than the one held ({held})"
    )]
    Older {
        address: String,
        held: u64,
        offered: u64,
    },
    #[error("the record for {address} expired at {expired_at}")]
    Expired { address: String, expired_at: u64 },
    #[error("peer {url}: {why}")]
    Peer { url: String, why: String },
}

/// One verified `Scheduler-Location` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerLocation {
    /// The signer: the scheduler this record locates.
    pub address: String,
    pub url: String,
    pub ttl_ms: u64,
    /// When it was signed (ms), by the signer's clock.
    pub timestamp: u64,
    item: DataItem,
}

impl SchedulerLocation {
    /// Signs a record saying the scheduler of `signer` is at `url` from `timestamp` for `ttl_ms`.
    pub fn sign(
        signer: &impl Signer,
        url: &str,
        ttl_ms: u64,
        timestamp: u64,
    ) -> Result<Self, LocationError> {
        let draft = ItemDraft::new(Vec::new())
            .tag("Data-Protocol", "ao")
            .tag("Variant", "ao.TN.1")
            .tag("Type", "Scheduler-Location")
            .tag("Url", url)
            .tag("Time-To-Live", ttl_ms.to_string())
            .tag("Timestamp", timestamp.to_string());
        let item = signer
            .sign(draft)
            .map_err(|e| LocationError::Item(e.to_string()))?;
        Self::from_item(item)
    }

    /// Reads a record from a signed item, checking its signature and tags.
    pub fn from_item(item: DataItem) -> Result<Self, LocationError> {
        item.verify()
            .map_err(|e| LocationError::Item(e.to_string()))?;
        let tag = |name: &str| {
            item.tag(name)
                .ok_or_else(|| LocationError::NotALocation(format!("no {name} tag")))
        };
        if tag("Data-Protocol")? != "ao" || tag("Type")? != "Scheduler-Location" {
            return Err(LocationError::NotALocation(
                "wants Data-Protocol=ao and Type=Scheduler-Location".into(),
            ));
        }
        let number = |name: &str| {
            tag(name)?
                .parse::<u64>()
                .map_err(|_| LocationError::NotALocation(format!("{name} is not a number")))
        };
        let url = tag("Url")?.to_owned();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(LocationError::NotALocation(format!(
                "Url {url:?} is not http(s)"
            )));
        }
        Ok(Self {
            address: item.owner_address(),
            url,
            ttl_ms: number("Time-To-Live")?,
            timestamp: number("Timestamp")?,
            item,
        })
    }

    pub fn item(&self) -> &DataItem {
        &self.item
    }

    pub fn expires_at(&self) -> u64 {
        self.timestamp.saturating_add(self.ttl_ms)
    }

    /// The record as a gateway's GraphQL `transactions` node, with what a reader needs to verify
    /// it (id, signature, owner key, anchor, recipient, tags; the data is empty).
    pub fn graphql_node(&self) -> Value {
        let item = &self.item;
        json!({
            "id": item.id(),
            "signature": b64::encode(item.signature()),
            "owner": {"address": self.address, "key": b64::encode(item.owner())},
            "anchor": item.anchor().map(b64::encode).unwrap_or_default(),
            "recipient": item.target().map(b64::encode).unwrap_or_default(),
            "tags": item.tags(),
            "data": {"size": "0", "type": null},
            "block": null,
        })
    }
}

/// The records this node believes, by scheduler address; its own among them once it has
/// announced itself. Cheap to clone.
#[derive(Clone)]
pub struct Locations {
    inner: Arc<Inner>,
}

struct Inner {
    signer: Ed25519Signer,
    config: NetworkConfig,
    records: Mutex<BTreeMap<String, SchedulerLocation>>,
    http: reqwest::Client,
    /// Where renewing this node's record and following peers run.
    tasks: Tasks,
}

impl std::fmt::Debug for Locations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locations")
            .field("address", &self.inner.signer.address())
            .field("peers", &self.inner.config.peers)
            .finish_non_exhaustive()
    }
}

/// Wall-clock ms: records are stamped and expire by it; it never reaches a process.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Locations {
    /// A registry that signs this node's record with `signer` (the node key).
    pub fn new(signer: Ed25519Signer, config: NetworkConfig) -> Self {
        Self::with_tasks(signer, config, Tasks::new())
    }

    /// [`Self::new`], its background work ([`Self::join`]) in `tasks`.
    pub fn with_tasks(signer: Ed25519Signer, config: NetworkConfig, tasks: Tasks) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                signer,
                config,
                records: Mutex::new(BTreeMap::new()),
                http,
                tasks,
            }),
        }
    }

    pub fn address(&self) -> String {
        self.inner.signer.address()
    }

    pub fn config(&self) -> &NetworkConfig {
        &self.inner.config
    }

    /// Believes `record` if it verifies against `expected` (the address it was looked up for),
    /// has not expired at `now` and is newer than the one held. `Ok(false)`: it is the one held.
    pub fn offer(
        &self,
        record: SchedulerLocation,
        expected: Option<&str>,
        now: u64,
    ) -> Result<bool, LocationError> {
        if let Some(expected) = expected
            && record.address != expected
        {
            return Err(LocationError::WrongSigner {
                expected: expected.to_owned(),
                signer: record.address,
            });
        }
        if record.expires_at() <= now {
            return Err(LocationError::Expired {
                expired_at: record.expires_at(),
                address: record.address,
            });
        }
        let mut records = self.inner.records.lock().expect("locations lock");
        if let Some(held) = records.get(&record.address) {
            if held.item.id_bytes() == record.item.id_bytes() {
                return Ok(false);
            }
            if held.timestamp >= record.timestamp {
                return Err(LocationError::Older {
                    address: record.address,
                    held: held.timestamp,
                    offered: record.timestamp,
                });
            }
        }
        records.insert(record.address.clone(), record);
        Ok(true)
    }

    /// The unexpired record of the scheduler `address` at `now`.
    pub fn record_at(&self, address: &str, now: u64) -> Option<SchedulerLocation> {
        let records = self.inner.records.lock().expect("locations lock");
        records
            .get(address)
            .filter(|r| r.expires_at() > now)
            .cloned()
    }

    /// The SU URL of the scheduler `address`, if a live record says where it is.
    pub fn url_of(&self, address: &str) -> Option<String> {
        self.record_at(address, now_ms()).map(|r| r.url)
    }

    /// Every unexpired record, newest first.
    pub fn records(&self) -> Vec<SchedulerLocation> {
        let now = now_ms();
        let records = self.inner.records.lock().expect("locations lock");
        let mut live: Vec<_> = records
            .values()
            .filter(|r| r.expires_at() > now)
            .cloned()
            .collect();
        live.sort_by(|a, b| {
            b.timestamp
                .cmp(&a.timestamp)
                .then(a.address.cmp(&b.address))
        });
        live
    }

    /// Signs and holds this node's record: its SU is at `su_url`.
    pub fn announce(&self, su_url: &str) -> Result<SchedulerLocation, LocationError> {
        let address = self.address();
        // Newer than the record held even if the clock stepped back.
        let held = self.record_at(&address, 0).map_or(0, |r| r.timestamp + 1);
        let record = SchedulerLocation::sign(
            &self.inner.signer,
            su_url,
            self.inner.config.ttl_ms,
            now_ms().max(held),
        )?;
        self.offer(record.clone(), Some(&address), now_ms())?;
        Ok(record)
    }

    /// Announces this node (served at `node_url`, its SU under `/su`), keeps its record fresh and
    /// pulls every configured peer's record now and every `refresh`. Needs a tokio runtime; the
    /// tasks end when the registry's task set stops or its last clone is dropped.
    pub fn join(&self, node_url: &str) -> Result<SchedulerLocation, LocationError> {
        let su_url = format!("{}/su", node_url.trim_end_matches('/'));
        let record = self.announce(&su_url)?;
        let weak = Arc::downgrade(&self.inner);
        let renew = Duration::from_millis((self.inner.config.ttl_ms / 2).max(1000));
        let tasks = &self.inner.tasks;
        tasks.spawn_cancellable(Self::renew_periodically(weak.clone(), su_url, renew));
        for peer in &self.inner.config.peers {
            tasks.spawn_cancellable(Self::follow(weak.clone(), peer.clone()));
        }
        Ok(record)
    }

    async fn renew_periodically(unit: Weak<Inner>, su_url: String, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            let Some(inner) = unit.upgrade() else { return };
            if let Err(e) = (Locations { inner }).announce(&su_url) {
                tracing::warn!("renewing this node's Scheduler-Location: {e}");
            }
        }
    }

    /// Pulls `peer`'s record until this registry is gone: every `refresh` once it works, sooner
    /// (backing off) while the peer cannot be reached.
    async fn follow(unit: Weak<Inner>, peer: String) {
        let mut backoff = Duration::from_millis(200);
        loop {
            let Some(inner) = unit.upgrade() else { return };
            let locations = Locations { inner };
            let refresh = locations.inner.config.refresh;
            let wait = match locations.pull(&peer).await {
                Ok(_) => {
                    backoff = Duration::from_millis(200);
                    refresh
                }
                Err(e) => {
                    tracing::warn!("peer {peer}: {e}");
                    backoff = (backoff * 2).min(refresh);
                    backoff
                }
            };
            drop(locations);
            tokio::time::sleep(wait).await;
        }
    }

    /// Asks the node at `peer` (its root URL) who it is (`GET /`: `address`) and for that
    /// address's record (`POST /graphql`, the query AO's scheduler-utils makes, plus the fields
    /// that let us verify the signature), and believes it if it checks out.
    pub async fn pull(&self, peer: &str) -> Result<SchedulerLocation, LocationError> {
        let peer = peer.trim_end_matches('/');
        let fail = |why: String| LocationError::Peer {
            url: peer.to_owned(),
            why,
        };
        let info: Value = self
            .inner
            .http
            .get(format!("{peer}/"))
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?
            .json()
            .await
            .map_err(|e| fail(format!("node info: {e}")))?;
        let address = info["address"]
            .as_str()
            .ok_or_else(|| fail("node info has no address".into()))?
            .to_owned();
        let answer: Value = self
            .inner
            .http
            .post(format!("{peer}/graphql"))
            .json(&json!({"query": LOCATION_QUERY, "variables": {"owner": address}}))
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?
            .json()
            .await
            .map_err(|e| fail(format!("graphql: {e}")))?;
        let node = &answer["data"]["transactions"]["edges"][0]["node"];
        if node.is_null() {
            return Err(fail(format!("no Scheduler-Location record for {address}")));
        }
        let item = item_from_graphql_node(node).map_err(LocationError::Item)?;
        let record = SchedulerLocation::from_item(item)?;
        self.offer(record.clone(), Some(&address), now_ms())?;
        Ok(record)
    }
}

/// AO scheduler-utils' `GetSchedulerLocation`, asking for the fields a signature check needs.
const LOCATION_QUERY: &str = r#"query GetSchedulerLocation ($owner: String!) {
  transactions(
    owners: [$owner]
    tags: [
      { name: "Data-Protocol", values: ["ao"] },
      { name: "Type", values: ["Scheduler-Location"] }
    ]
    sort: HEIGHT_DESC
    first: 1
  ) {
    edges { node { id signature anchor recipient owner { address key } tags { name value } data { size } } }
  }
}"#;

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn registry() -> Locations {
        Locations::new(
            Ed25519Signer::from_secret([1; 32]),
            NetworkConfig::default(),
        )
    }

    #[test]
    fn newest_valid_record_wins_and_others_are_refused() {
        let locations = registry();
        let peer = Ed25519Signer::from_secret([2; 32]);
        let stranger = Ed25519Signer::from_secret([3; 32]);
        let at = |t, url: &str| SchedulerLocation::sign(&peer, url, 60_000, t).unwrap();
        assert!(
            locations
                .offer(at(NOW, "http://b/su"), Some(&peer.address()), NOW)
                .unwrap()
        );
        // The same record again changes nothing; an older one is refused.
        assert!(
            !locations
                .offer(at(NOW, "http://b/su"), Some(&peer.address()), NOW)
                .unwrap()
        );
        let older = locations.offer(at(NOW - 1, "http://old/su"), Some(&peer.address()), NOW);
        assert!(
            matches!(older, Err(LocationError::Older { .. })),
            "{older:?}"
        );
        // Another key's record, offered as this scheduler's, is refused.
        let forged = SchedulerLocation::sign(&stranger, "http://evil/su", 60_000, NOW + 1).unwrap();
        let refused = locations.offer(forged, Some(&peer.address()), NOW);
        assert!(
            matches!(refused, Err(LocationError::WrongSigner { .. })),
            "{refused:?}"
        );
        // An expired one is refused, and a held one stops being found once it expires.
        let expired = locations.offer(at(NOW - 60_000, "http://x/su"), None, NOW);
        assert!(
            matches!(expired, Err(LocationError::Expired { .. })),
            "{expired:?}"
        );
        assert_eq!(
            locations.record_at(&peer.address(), NOW).map(|r| r.url),
            Some("http://b/su".into())
        );
        assert_eq!(locations.record_at(&peer.address(), NOW + 60_000), None);
        // A newer one replaces it.
        assert!(
            locations
                .offer(at(NOW + 5, "http://new/su"), Some(&peer.address()), NOW)
                .unwrap()
        );
        assert_eq!(
            locations.record_at(&peer.address(), NOW).map(|r| r.url),
            Some("http://new/su".into())
        );
    }

    #[test]
    fn a_record_survives_its_graphql_form_and_an_altered_one_does_not() {
        let peer = Ed25519Signer::from_secret([2; 32]);
        let record = SchedulerLocation::sign(&peer, "http://b/su", 60_000, NOW).unwrap();
        let node = record.graphql_node();
        let back = SchedulerLocation::from_item(item_from_graphql_node(&node).unwrap()).unwrap();
        assert_eq!(back, record);
        let mut altered = node.clone();
        altered["tags"][3]["value"] = json!("http://evil/su");
        assert!(item_from_graphql_node(&altered).is_err());
    }
}
