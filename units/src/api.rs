//! The JSON bodies of the HTTP API (DESIGN.md §6), one type each: `http/` serialises its answers
//! with them and the shell's remote client reads them back with the same types, so a field is
//! named in one place. The shapes are AO's where AO has the route (snake_case on the SU,
//! camelCase on the CU, `{id, message}` from the MU), ours otherwise; `ProcessResult`
//! (`crate::result`) is the CU's result body. Fields are declared in the order the wire has them.
//!
//! Types only: nothing here knows warp, the store or the units.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::message::Tag;
use crate::result::ProcessResult;

pub use crate::mu::Submitted;

/// Any 4xx/5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
}

/// `GET /`: who the node is. A node whose store takes no writes answers 503 with `error` set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The node's address: its scheduler id.
    pub address: String,
    pub default_module: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `POST /mu` (202): the item is scheduled (or, a module item, stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub id: String,
    pub message: String,
}

impl Accepted {
    pub fn new(id: String) -> Self {
        Self {
            id,
            message: "Processing DataItem".to_owned(),
        }
    }
}

/// `POST`/`DELETE /mu/monitor/{process}` (200): the id of the signed request and what was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Monitoring {
    pub id: String,
    pub message: String,
}

impl Monitoring {
    pub fn new(id: String, started: bool) -> Self {
        let message = if started {
            "Cron initiated"
        } else {
            "Cron stopped"
        };
        Self {
            id,
            message: message.to_owned(),
        }
    }
}

/// `GET /mu/crank/{message}` (ours): whether what the message set off has been delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrankStatus {
    /// Everything was delivered or given up on.
    pub done: bool,
    /// Deliveries given up on, and why.
    #[serde(default)]
    pub undeliverable: Vec<Undelivered>,
    /// Deliveries still waiting in the outbox.
    #[serde(default)]
    pub pending: Vec<PendingDelivery>,
}

/// A delivery that could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undelivered {
    pub reason: String,
    pub target: String,
}

/// A delivery still waiting; `reason` and `attempts` once its lane has failed (a peer down).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDelivery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub target: String,
}

/// An item's signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub address: String,
    /// The public key, base64url.
    pub key: String,
}

/// A signed item in the SU's JSON form. `data` is the data as text when it is UTF-8, else
/// base64url; `anchor` likewise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub anchor: Option<String>,
    pub data: String,
    pub id: String,
    pub owner: Owner,
    pub signature: String,
    pub tags: Vec<Tag>,
    pub target: Option<String>,
}

/// An assignment in the SU's JSON form: AO's tags (`Process`, `Epoch`, `Nonce` = the slot,
/// `Hash-Chain`, `Block-Height`, `Timestamp`, `Message`). Our assignments are not items of
/// their own, so `id` is null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentJson {
    pub id: Option<String>,
    pub tags: Vec<Tag>,
}

impl AssignmentJson {
    pub fn tag(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.value.as_str())
    }

    /// The slot (`Nonce`).
    pub fn slot(&self) -> Option<u64> {
        self.tag("Nonce")?.parse().ok()
    }
}

/// `GET /su/{message}?process-id=…`, and each node of a log page: a message and its assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledMessage {
    pub assignment: AssignmentJson,
    /// Null only when the store lost the item's bytes.
    pub message: Option<Item>,
}

/// `GET /su/{process}?from&to&limit`: a page of the log, in slot order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    pub page_info: LogPageInfo,
    pub edges: Vec<LogEdge>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPageInfo {
    pub has_next_page: bool,
}

/// One log entry; `cursor` is its slot as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEdge {
    pub cursor: String,
    pub node: ScheduledMessage,
}

/// `GET /su/processes/{process}`: the process as spawned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessInfo {
    pub anchor: Option<String>,
    /// Always 0: there is no Arweave block under our log.
    pub block: u64,
    pub data: String,
    pub module: String,
    pub owner: Owner,
    pub process_id: String,
    pub scheduler: String,
    pub signature: String,
    pub tags: Vec<Tag>,
    pub timestamp: u64,
}

/// One entry of `GET /su/processes?owner&name` (ours): a process an address spawned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSummary {
    pub module: String,
    /// The spawner's address.
    pub owner: String,
    pub process_id: String,
    pub scheduler: String,
    pub tags: Vec<Tag>,
    pub timestamp: u64,
}

impl ProcessSummary {
    /// Its `Name` tag, or "".
    pub fn name(&self) -> &str {
        self.tags
            .iter()
            .find(|t| t.name == "Name")
            .map_or("", |t| t.value.as_str())
    }
}

/// `GET /cu/results/{process}` and `/cu/cron/{process}`: a page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultsPage {
    pub edges: Vec<ResultEdge>,
    #[serde(rename = "pageInfo")]
    pub page_info: ResultsPageInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultsPageInfo {
    #[serde(rename = "hasNextPage")]
    pub has_next_page: bool,
}

/// One result; `cursor` is its slot (or, for cron, its tick's timestamp) as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultEdge {
    pub cursor: String,
    pub node: ProcessResult,
}

impl ResultEdge {
    /// The cursor as the number it is.
    pub fn key(&self) -> Option<u64> {
        self.cursor.parse().ok()
    }
}

/// `POST /cu/dry-run?process-id=…`: the message to evaluate, unsigned, in the message JSON's
/// words (DESIGN.md §3). Fields the CU fills in itself (timestamp, block height) may be left
/// out; anything else given is passed on as it is. The answer is a `ProcessResult`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DryRun {
    #[serde(rename = "Id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "Target", default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(rename = "Owner", default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(rename = "From", default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(rename = "Anchor", default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    #[serde(rename = "Tags", default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// Text from aoconnect and the shell; other JSON is passed on as it is.
    #[serde(rename = "Data", default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DryRun {
    /// The message JSON the CU evaluates.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a dry-run message serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde_json::json;

    /// `value` is `expected` on the wire, and reads back as itself.
    fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
        value: T,
        expected: &str,
    ) {
        assert_eq!(serde_json::to_string(&value).unwrap(), expected);
        assert_eq!(serde_json::from_str::<T>(expected).unwrap(), value);
    }

    fn tag(name: &str, value: &str) -> Tag {
        Tag {
            name: name.into(),
            value: value.into(),
        }
    }

    fn item() -> Item {
        Item {
            anchor: None,
            data: "1 + 1".into(),
            id: "I".into(),
            owner: Owner {
                address: "A".into(),
                key: "K".into(),
            },
            signature: "S".into(),
            tags: vec![tag("Action", "Eval")],
            target: Some("P".into()),
        }
    }

    const ITEM: &str = r#"{"anchor":null,"data":"1 + 1","id":"I","owner":{"address":"A","key":"K"},"signature":"S","tags":[{"name":"Action","value":"Eval"}],"target":"P"}"#;

    #[test]
    fn errors_and_node_info() {
        check(ApiError { error: "no".into() }, r#"{"error":"no"}"#);
        let mut info = NodeInfo {
            address: "A".into(),
            default_module: "M".into(),
            version: "0.1.0".into(),
            error: None,
        };
        check(
            info.clone(),
            r#"{"address":"A","default_module":"M","version":"0.1.0"}"#,
        );
        info.error = Some("disk".into());
        check(
            info,
            r#"{"address":"A","default_module":"M","version":"0.1.0","error":"disk"}"#,
        );
    }

    #[test]
    fn messenger_answers() {
        check(
            Accepted::new("I".into()),
            r#"{"id":"I","message":"Processing DataItem"}"#,
        );
        check(
            Monitoring::new("I".into(), true),
            r#"{"id":"I","message":"Cron initiated"}"#,
        );
        check(
            Monitoring::new("I".into(), false),
            r#"{"id":"I","message":"Cron stopped"}"#,
        );
        check(
            CrankStatus {
                done: false,
                undeliverable: vec![Undelivered {
                    reason: "refused".into(),
                    target: "T".into(),
                }],
                pending: vec![
                    PendingDelivery {
                        attempts: Some(2),
                        reason: Some("down".into()),
                        target: "U".into(),
                    },
                    PendingDelivery {
                        attempts: None,
                        reason: None,
                        target: "V".into(),
                    },
                ],
            },
            r#"{"done":false,"undeliverable":[{"reason":"refused","target":"T"}],"pending":[{"attempts":2,"reason":"down","target":"U"},{"target":"V"}]}"#,
        );
        check(
            Submitted {
                id: "I".into(),
                process: "P".into(),
                slot: 3,
            },
            r#"{"id":"I","process":"P","slot":3}"#,
        );
    }

    #[test]
    fn scheduler_answers() {
        check(item(), ITEM);
        let assignment = AssignmentJson {
            id: None,
            tags: vec![tag("Process", "P"), tag("Nonce", "7")],
        };
        assert_eq!(assignment.slot(), Some(7));
        let scheduled = ScheduledMessage {
            assignment,
            message: Some(item()),
        };
        let scheduled_json = format!(
            r#"{{"assignment":{{"id":null,"tags":[{{"name":"Process","value":"P"}},{{"name":"Nonce","value":"7"}}]}},"message":{ITEM}}}"#
        );
        check(scheduled.clone(), &scheduled_json);
        check(
            LogPage {
                page_info: LogPageInfo {
                    has_next_page: true,
                },
                edges: vec![LogEdge {
                    cursor: "7".into(),
                    node: scheduled,
                }],
            },
            &format!(
                r#"{{"page_info":{{"has_next_page":true}},"edges":[{{"cursor":"7","node":{scheduled_json}}}]}}"#
            ),
        );
        check(
            ProcessInfo {
                anchor: Some("x".into()),
                block: 0,
                data: "".into(),
                module: "M".into(),
                owner: Owner {
                    address: "A".into(),
                    key: "K".into(),
                },
                process_id: "P".into(),
                scheduler: "S".into(),
                signature: "G".into(),
                tags: vec![tag("Type", "Process")],
                timestamp: 5,
            },
            r#"{"anchor":"x","block":0,"data":"","module":"M","owner":{"address":"A","key":"K"},"process_id":"P","scheduler":"S","signature":"G","tags":[{"name":"Type","value":"Process"}],"timestamp":5}"#,
        );
        let summary = ProcessSummary {
            module: "M".into(),
            owner: "A".into(),
            process_id: "P".into(),
            scheduler: "S".into(),
            tags: vec![tag("Name", "far")],
            timestamp: 5,
        };
        assert_eq!(summary.name(), "far");
        check(
            vec![summary],
            r#"[{"module":"M","owner":"A","process_id":"P","scheduler":"S","tags":[{"name":"Name","value":"far"}],"timestamp":5}]"#,
        );
    }

    #[test]
    fn compute_answers_and_the_dry_run_request() {
        let result = ProcessResult::from_value(json!({"Output": "2", "GasUsed": 3})).unwrap();
        let page = ResultsPage {
            edges: vec![ResultEdge {
                cursor: "4".into(),
                node: result,
            }],
            page_info: ResultsPageInfo {
                has_next_page: false,
            },
        };
        assert_eq!(page.edges[0].key(), Some(4));
        check(
            page,
            r#"{"edges":[{"cursor":"4","node":{"Output":"2","Messages":[],"Spawns":[],"Assignments":[],"GasUsed":3}}],"pageInfo":{"hasNextPage":false}}"#,
        );
        let mut extra = Map::new();
        extra.insert("Timestamp".into(), json!(9));
        check(
            DryRun {
                target: Some("P".into()),
                owner: Some("A".into()),
                from: Some("A".into()),
                tags: Some(vec![tag("Action", "Eval")]),
                data: Some(json!("1")),
                extra,
                ..DryRun::default()
            },
            r#"{"Target":"P","Owner":"A","From":"A","Tags":[{"name":"Action","value":"Eval"}],"Data":"1","Timestamp":9}"#,
        );
    }
}
