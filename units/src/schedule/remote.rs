//! Another node's scheduler as a schedule source, over AO's SU API: `GET {su}/{process}?from&to`
//! pages (`page_info.has_next_page`, `edges[].node.{message, assignment}`), `GET
//! {su}/processes/{process}` and `GET {su}/{message}?process-id=`.
//!
//! Nothing is believed until checked: each item is rebuilt from the page and its signature
//! verified (`wire`), its id must be the assignment's `Message`, slots must follow one another
//! from `from`, timestamps must not go back, and every `Hash-Chain` must be the link this source
//! computes from slot 0 (`su::first_link`/`next_link`). The links verified so far are kept per
//! process (32 bytes a slot), so a page anywhere in the log is checked against the prefix before
//! it, and an item swapped at a slot already seen is caught. Our pages carry no signed assignment
//! (AO's assignments by id are `null` here), so the chain is what binds the order.
//!
//! A caller that already trusts a link (a compute unit's own checkpoint of the process) seeds
//! the chain there ([`RemoteSource::trust`]) and is served the log after it without the log
//! before it; a page before the seed (other than the spawn, which checks alone) drops the seed
//! and verifies from slot 0 again.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;

use super::wire::{assignment_from_json, item_from_message_json};
use super::{LogEntry, LogPage, ScheduleSource, SourceError, SourceFuture};
use crate::message::{DataItem, b64};
use crate::store::{Assignment, ProcessId, ProcessRecord};
use crate::su::{first_link, next_link};

/// Slots asked for per request while catching up to a page's start.
const CATCH_UP: usize = 500;

/// What has been verified of one process's log: slot `start + n`'s link is `links[n]` (`start`
/// is 0 unless the chain was seeded with a trusted link).
#[derive(Debug, Default)]
struct Verified {
    start: u64,
    links: Vec<[u8; 32]>,
    last_timestamp: u64,
}

impl Verified {
    /// Slots verified so far end before this one.
    fn end(&self) -> u64 {
        self.start + self.links.len() as u64
    }

    fn link(&self, slot: u64) -> Option<&[u8; 32]> {
        let index = slot.checked_sub(self.start)?;
        self.links.get(usize::try_from(index).ok()?)
    }
}

/// A remote scheduler, e.g. `RemoteSource::new("http://127.0.0.1:8734/su")`.
#[derive(Debug)]
pub struct RemoteSource {
    su_url: String,
    http: reqwest::Client,
    verified: Mutex<HashMap<ProcessId, Verified>>,
    /// One page at a time, so the verified prefix only ever grows at its end.
    turn: tokio::sync::Mutex<()>,
    /// The entry [`Self::find`] read and verified last, per process: a CU asked for a message's
    /// result looks up its slot and then asks for that very slot to evaluate it, which this
    /// answers without asking (and verifying) the scheduler again.
    found: Mutex<HashMap<ProcessId, LogEntry>>,
}

impl RemoteSource {
    /// `su_url` is the scheduler's base URL (a node's is `{node}/su`; a `Scheduler-Location`'s
    /// `Url`).
    pub fn new(su_url: impl Into<String>) -> Self {
        Self::with_client(su_url, reqwest::Client::new())
    }

    pub fn with_client(su_url: impl Into<String>, http: reqwest::Client) -> Self {
        Self {
            su_url: su_url.into().trim_end_matches('/').to_owned(),
            http,
            verified: Mutex::new(HashMap::new()),
            turn: tokio::sync::Mutex::new(()),
            found: Mutex::new(HashMap::new()),
        }
    }

    pub fn url(&self) -> &str {
        &self.su_url
    }

    /// Takes `link` as the verified hash-chain link of `process`'s slot `slot`, assigned at
    /// `timestamp`, so later pages are checked from there instead of from slot 0. Only before
    /// anything of that process was verified (a chain already known is not replaced).
    pub fn trust(&self, process: &ProcessId, slot: u64, link: [u8; 32], timestamp: u64) {
        let mut all = self.verified.lock().expect("verified lock");
        all.entry(*process).or_insert_with(|| Verified {
            start: slot,
            links: vec![link],
            last_timestamp: timestamp,
        });
    }

    fn known(&self, process: &ProcessId) -> u64 {
        let verified = self.verified.lock().expect("verified lock");
        verified.get(process).map_or(0, Verified::end)
    }

    /// Drops a seeded chain that starts after `from`, so a page there is verified from slot 0.
    fn unseed_before(&self, process: &ProcessId, from: u64) {
        let mut all = self.verified.lock().expect("verified lock");
        if all.get(process).is_some_and(|v| v.start > from) {
            all.remove(process);
        }
    }

    async fn get(&self, path: &str) -> Result<Option<Value>, SourceError> {
        let url = format!("{}{path}", self.su_url);
        let unreachable = |e: reqwest::Error| SourceError::Unreachable {
            url: url.clone(),
            why: e.to_string(),
        };
        let response = self.http.get(&url).send().await.map_err(unreachable)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = response.bytes().await.map_err(unreachable)?;
        if !status.is_success() {
            return Err(SourceError::Status {
                url,
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned(),
            });
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| SourceError::BadPage(format!("{url}: not JSON: {e}")))
    }

    /// One page as the scheduler sent it, each item rebuilt and its signature checked.
    async fn fetch(
        &self,
        process: &ProcessId,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<(Vec<(Assignment, DataItem)>, bool), SourceError> {
        let path = format!("/{process}?from={from}&to={to}&limit={limit}");
        let page = self
            .get(&path)
            .await?
            .ok_or_else(|| SourceError::UnknownProcess(process.to_string()))?;
        let has_next = page["page_info"]["has_next_page"]
            .as_bool()
            .ok_or_else(|| SourceError::BadPage("no page_info.has_next_page".into()))?;
        let edges = page["edges"]
            .as_array()
            .ok_or_else(|| SourceError::BadPage("no edges".into()))?;
        if edges.len() > limit {
            return Err(SourceError::BadPage(format!(
                "{} edges for a limit of {limit}",
                edges.len()
            )));
        }
        let mut out = Vec::with_capacity(edges.len());
        for edge in edges {
            let assignment =
                assignment_from_json(&edge["node"]["assignment"]).map_err(SourceError::BadPage)?;
            let item = item_from_message_json(&edge["node"]["message"]).map_err(|why| {
                SourceError::BadItem {
                    process: process.to_string(),
                    slot: assignment.slot,
                    why,
                }
            })?;
            out.push((assignment, item));
        }
        Ok((out, has_next))
    }

    /// Checks a page that starts at `from` against the verified prefix, extending it.
    fn verify(
        &self,
        process: &ProcessId,
        from: u64,
        to: u64,
        edges: &[(Assignment, DataItem)],
    ) -> Result<(), SourceError> {
        let mut all = self.verified.lock().expect("verified lock");
        let verified = all.entry(*process).or_default();
        let name = process.to_string();
        let mut previous_timestamp = None;
        for (offset, (assignment, item)) in edges.iter().enumerate() {
            let slot = from + offset as u64;
            if assignment.slot != slot || slot > to {
                return Err(SourceError::BadPage(format!(
                    "slot {} where slot {slot} was due (asked for {from}..={to})",
                    assignment.slot
                )));
            }
            if assignment.process != name {
                return Err(SourceError::BadPage(format!(
                    "slot {slot} belongs to process {}",
                    assignment.process
                )));
            }
            let id = item.id_bytes();
            if assignment.message != b64::encode(id) {
                return Err(SourceError::BadPage(format!(
                    "slot {slot} assigns {} but carries item {}",
                    assignment.message,
                    item.id()
                )));
            }
            if slot == 0 && (id != process.0 || item.tag("Type") != Some("Process")) {
                return Err(SourceError::BadPage(
                    "slot 0 is not the process's spawn".into(),
                ));
            }
            let link = match slot {
                0 => first_link(process),
                _ => {
                    let previous = verified.link(slot - 1).ok_or_else(|| {
                        SourceError::BadPage(format!("slot {slot} is past the verified log"))
                    })?;
                    next_link(previous, &id)
                }
            };
            let seen = verified.link(slot).copied();
            if b64::encode(link) != assignment.hash_chain || seen.is_some_and(|s| s != link) {
                return Err(SourceError::HashChain {
                    process: name,
                    slot,
                });
            }
            // Only a slot that extends the verified log extends it (the spawn of a seeded
            // chain checks alone, and stays outside it).
            let extends = slot == verified.end();
            let floor =
                previous_timestamp.unwrap_or(if extends { verified.last_timestamp } else { 0 });
            if assignment.timestamp < floor {
                return Err(SourceError::BadPage(format!(
                    "slot {slot}'s timestamp goes back in time"
                )));
            }
            previous_timestamp = Some(assignment.timestamp);
            if extends {
                verified.links.push(link);
                verified.last_timestamp = assignment.timestamp;
            }
        }
        Ok(())
    }

    async fn read_page(
        &self,
        process: &ProcessId,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<LogPage, SourceError> {
        let limit = limit.clamp(1, 1000);
        if from == to {
            let mut found = self.found.lock().expect("found lock");
            if found
                .get(process)
                .is_some_and(|e| e.assignment.slot == from)
            {
                let entry = found.remove(process).expect("checked above");
                return Ok(LogPage {
                    entries: vec![entry],
                    has_next: false,
                });
            }
        }
        let _turn = self.turn.lock().await;
        if from > 0 || to > 0 {
            self.unseed_before(process, from);
        }
        // A page past the verified prefix can only be checked once the slots before it are.
        while self.known(process) < from {
            let known = self.known(process);
            let (edges, _) = self
                .fetch(process, known, from - 1, CATCH_UP.min(limit.max(100)))
                .await?;
            if edges.is_empty() {
                // The log ends before `from`.
                return Ok(LogPage {
                    entries: Vec::new(),
                    has_next: false,
                });
            }
            self.verify(process, known, from - 1, &edges)?;
        }
        let (edges, has_next) = self.fetch(process, from, to, limit).await?;
        if edges.is_empty() && has_next {
            return Err(SourceError::BadPage(
                "an empty page that says more follows".into(),
            ));
        }
        self.verify(process, from, to, &edges)?;
        Ok(LogPage {
            entries: edges
                .into_iter()
                .map(|(assignment, item)| LogEntry {
                    assignment,
                    message: item.to_bytes(),
                })
                .collect(),
            has_next,
        })
    }

    async fn read_process(&self, process: &ProcessId) -> Result<ProcessRecord, SourceError> {
        let unknown = || SourceError::UnknownProcess(process.to_string());
        let info = self
            .get(&format!("/processes/{process}"))
            .await?
            .ok_or_else(unknown)?;
        let page = self.read_page(process, 0, 0, 1).await?;
        let spawn = page.entries.first().ok_or_else(unknown)?;
        let item = DataItem::from_bytes(&spawn.message)
            .map_err(|e| SourceError::BadPage(format!("spawn: {e}")))?;
        let field = |name: &str| {
            info[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| SourceError::BadPage(format!("the process has no {name}")))
        };
        let scheduler = field("scheduler")?;
        // The SU's default module stands in only for a spawn that names none; what the spawn
        // names (signed) must be what the SU says.
        let module = field("module")?;
        for (tag, said) in [("Scheduler", &scheduler), ("Module", &module)] {
            if item.tag(tag).is_some_and(|named| named != said) {
                return Err(SourceError::BadPage(format!(
                    "the spawn's {tag} tag is not the scheduler's {said}"
                )));
            }
        }
        // As the SU has it: a spawn the scheduler carried for a process belongs to that process.
        let owner = match item.tag("From-Process") {
            Some(parent) if item.owner_address() == scheduler => parent.to_owned(),
            _ => item.owner_address(),
        };
        let (next_slot, last_timestamp, last_hash_chain) = {
            let all = self.verified.lock().expect("verified lock");
            let verified = all.get(process).ok_or_else(unknown)?;
            let last = verified.links.last().map(b64::encode).unwrap_or_default();
            (verified.end(), verified.last_timestamp, last)
        };
        Ok(ProcessRecord {
            id: process.to_string(),
            owner,
            module,
            scheduler,
            tags: item.tags().to_vec(),
            timestamp: spawn.assignment.timestamp,
            next_slot,
            last_timestamp,
            last_hash_chain,
        })
    }

    /// The verified slot of `message` and its entry: the scheduler's answer by id only says
    /// where to look, the slot is then read and checked like any page.
    async fn find(&self, process: &ProcessId, message: &[u8; 32]) -> Result<LogEntry, SourceError> {
        let id = b64::encode(message);
        let unknown = || SourceError::UnknownMessage(id.clone(), process.to_string());
        let answer = self
            .get(&format!("/{id}?process-id={process}"))
            .await?
            .ok_or_else(unknown)?;
        let slot = assignment_from_json(&answer["assignment"])
            .map_err(SourceError::BadPage)?
            .slot;
        let page = self.read_page(process, slot, slot, 1).await?;
        let entry = page.entries.into_iter().next().ok_or_else(unknown)?;
        if entry.assignment.message != id {
            return Err(SourceError::BadPage(format!(
                "message {id} is said to be at slot {slot}, which holds {}",
                entry.assignment.message
            )));
        }
        self.found
            .lock()
            .expect("found lock")
            .insert(*process, entry.clone());
        Ok(entry)
    }
}

impl ScheduleSource for RemoteSource {
    fn process<'a>(&'a self, process: &'a ProcessId) -> SourceFuture<'a, ProcessRecord> {
        Box::pin(self.read_process(process))
    }

    fn page<'a>(
        &'a self,
        process: &'a ProcessId,
        from: u64,
        to: u64,
        limit: usize,
    ) -> SourceFuture<'a, LogPage> {
        Box::pin(self.read_page(process, from, to, limit))
    }

    fn message<'a>(
        &'a self,
        process: &'a ProcessId,
        message: &'a [u8; 32],
    ) -> SourceFuture<'a, Vec<u8>> {
        Box::pin(async move { Ok(self.find(process, message).await?.message) })
    }

    fn slot_of<'a>(
        &'a self,
        process: &'a ProcessId,
        message: &'a [u8; 32],
    ) -> SourceFuture<'a, u64> {
        Box::pin(async move { Ok(self.find(process, message).await?.assignment.slot) })
    }
}
