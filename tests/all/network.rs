//! Scale-out foundations (issue 14, items 1 and 2) against real nodes on loopback: a process's log
//! read through another node's SU API is the log the store holds, a page altered on the way is
//! refused, and nodes learn each other's scheduler URL from signed Scheduler-Location records.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aos_units::location::{LocationError, SchedulerLocation};
use aos_units::message::{Ed25519Signer, Signer, b64};
use aos_units::schedule::{LocalSource, LogEntry, RemoteSource, ScheduleSource, SourceError};
use aos_units::store::ProcessId;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::TestNode;

pub(crate) type Answer = Pin<Box<dyn Future<Output = (u16, Vec<u8>)> + Send>>;
/// What a tampering proxy does to a log page.
type Alteration = fn(&mut Value);
pub(crate) type Handler = Arc<dyn Fn(String, String, Vec<u8>) -> Answer + Send + Sync>;

/// An HTTP/1.1 server on 127.0.0.1 that answers each request (method, path with query, body)
/// with `handler`'s JSON, one request per connection.
pub(crate) async fn fake_server(handler: Handler) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                    if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                        break at + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
                let mut words = head.split_whitespace();
                let method = words.next().unwrap_or_default().to_owned();
                let path = words.next().unwrap_or_default().to_owned();
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                while buffer.len() < head_end + length {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                }
                let body = buffer[head_end..].to_vec();
                let (status, reply) = handler(method, path, body).await;
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    reply.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&reply).await;
            });
        }
    });
    url
}

/// A proxy to `node`'s SU that passes `alter` every log page it relays.
async fn tampering_proxy(node: &TestNode, alter: Alteration) -> String {
    let target = node.url.clone();
    let url = fake_server(Arc::new(move |_, path, _| {
        let target = target.clone();
        Box::pin(async move {
            let response = reqwest::get(format!("{target}{path}")).await.unwrap();
            let status = response.status().as_u16();
            let mut body: Value = response.json().await.unwrap();
            if body.get("page_info").is_some() {
                alter(&mut body);
            }
            (status, serde_json::to_vec(&body).unwrap())
        })
    }))
    .await;
    format!("{url}/su")
}

/// Every entry of `process`'s log through `source`, `limit` at a time.
async fn read_all(source: &dyn ScheduleSource, process: &ProcessId, limit: usize) -> Vec<LogEntry> {
    let mut entries = Vec::new();
    loop {
        let page = source
            .page(process, entries.len() as u64, u64::MAX, limit)
            .await
            .unwrap();
        assert!(page.entries.len() <= limit);
        entries.extend(page.entries);
        if !page.has_next {
            return entries;
        }
    }
}

/// A node with one process whose log holds its spawn and five messages, one of them binary.
async fn node_with_a_log() -> (TestNode, ProcessId, Vec<String>) {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([42; 32]);
    let process = node.spawn(&me, "net").await;
    let mut ids = vec![process.clone()];
    for n in 0..4 {
        ids.push(
            node.send(&me, &process, &[("Action", "Note")], &format!("note {n}"))
                .await,
        );
    }
    let mut draft = TestNode::draft(&process, &[("Action", "Blob")], "");
    draft.data = vec![0xff, 0x00, 0xfe, 0x80];
    let (status, body) = node.post_item(&me.sign(draft).unwrap()).await;
    assert_eq!(status, 202, "{body}");
    ids.push(body["id"].as_str().unwrap().to_owned());
    (node, ProcessId::parse(&process).unwrap(), ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_read_from_another_nodes_su_is_the_log_its_store_holds() {
    let (node, process, ids) = node_with_a_log().await;
    let local = LocalSource::new(node.node.messenger().scheduler().store().clone());
    let remote = RemoteSource::new(format!("{}/su", node.url));
    let here = read_all(&local, &process, 4).await;
    assert_eq!(here.len(), 6);
    // Pages of two: has_next carries the reader over page boundaries.
    let there = read_all(&remote, &process, 2).await;
    assert_eq!(there, here);
    assert_eq!(
        remote.process(&process).await.unwrap(),
        local.process(&process).await.unwrap()
    );
    let blob = b64::decode_32(&ids[5]).unwrap();
    assert_eq!(
        remote.message(&process, &blob).await.unwrap(),
        local.message(&process, &blob).await.unwrap()
    );
    // A fresh reader may start mid-log: the slots before are verified on the way.
    let fresh = RemoteSource::new(format!("{}/su", node.url));
    assert_eq!(
        fresh.page(&process, 3, 4, 10).await.unwrap(),
        local.page(&process, 3, 4, 10).await.unwrap()
    );
    let unknown = ProcessId([9; 32]);
    assert!(matches!(
        remote.process(&unknown).await,
        Err(SourceError::UnknownProcess(_))
    ));
}

fn edges(page: &mut Value) -> &mut Vec<Value> {
    page["edges"].as_array_mut().unwrap()
}

fn assignment_tag<'a>(edge: &'a mut Value, name: &str) -> &'a mut Value {
    let tags = edge["node"]["assignment"]["tags"].as_array_mut().unwrap();
    let tag = tags.iter_mut().find(|t| t["name"] == name).unwrap();
    &mut tag["value"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_altered_on_the_way_is_refused() {
    let (node, process, _) = node_with_a_log().await;
    let cases: [(&str, Alteration); 4] = [
        ("an item's data", |page| {
            if let Some(edge) = edges(page).get_mut(2) {
                edge["node"]["message"]["data"] = json!("note 1000");
            }
        }),
        (
            "two messages swapped, slots and Message tags kept in order",
            |page| {
                let edges = edges(page);
                if edges.len() > 2 {
                    let (one, two) = (
                        edges[1]["node"]["message"].take(),
                        edges[2]["node"]["message"].take(),
                    );
                    let (m1, m2) = (
                        assignment_tag(&mut edges[1], "Message").take(),
                        assignment_tag(&mut edges[2], "Message").take(),
                    );
                    edges[1]["node"]["message"] = two;
                    edges[2]["node"]["message"] = one;
                    *assignment_tag(&mut edges[1], "Message") = m2;
                    *assignment_tag(&mut edges[2], "Message") = m1;
                }
            },
        ),
        ("a message dropped", |page| {
            if edges(page).len() > 2 {
                edges(page).remove(1);
            }
        }),
        ("a forged Hash-Chain link", |page| {
            if let Some(edge) = edges(page).get_mut(3) {
                *assignment_tag(edge, "Hash-Chain") = json!("A".repeat(43));
            }
        }),
    ];
    for (what, alter) in cases {
        let remote = RemoteSource::new(tampering_proxy(&node, alter).await);
        let got = remote.page(&process, 0, u64::MAX, 10).await;
        let refused = match what {
            "an item's data" => matches!(got, Err(SourceError::BadItem { slot: 2, .. })),
            "a message dropped" => matches!(got, Err(SourceError::BadPage(_))),
            _ => matches!(got, Err(SourceError::HashChain { .. })),
        };
        assert!(refused, "{what}: {got:?}");
    }
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_that_peer_each_other_learn_each_others_url() {
    let a_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a_url = format!("http://{}", a_listener.local_addr().unwrap());
    let b_url = format!("http://{}", b_listener.local_addr().unwrap());
    let peer = |url: &str| {
        let url = url.to_owned();
        move |config: &mut aos::NodeConfig| {
            config.network.peers = vec![url];
            config.network.refresh = Duration::from_millis(200);
        }
    };
    let a = TestNode::start_on(a_listener, tempfile::tempdir().unwrap(), peer(&b_url)).await;
    let b = TestNode::start_on(b_listener, tempfile::tempdir().unwrap(), peer(&a_url)).await;
    let (a_address, b_address) = (a.node.info().address.clone(), b.node.info().address.clone());
    let a_knows = || a.node.info().locations.url_of(&b_address);
    let b_knows = || b.node.info().locations.url_of(&a_address);
    wait_for("A learns B", || a_knows().is_some()).await;
    wait_for("B learns A", || b_knows().is_some()).await;
    assert_eq!(a_knows(), Some(format!("{b_url}/su")));
    assert_eq!(b_knows(), Some(format!("{a_url}/su")));
    // What AO's scheduler-utils asks a gateway, asked of A about B: B's record, as B signed it.
    let query = r#"query GetSchedulerLocation ($owner: String!) {
      transactions (owners: [$owner] tags: [{ name: "Data-Protocol", values: ["ao"] }, { name: "Type", values: ["Scheduler-Location"] }] sort: HEIGHT_DESC first: 1) {
        edges { node { tags { name value } } } } }"#;
    let body = json!({"query": query, "variables": {"owner": b_address}});
    let (status, answer) = a
        .request(
            reqwest::Method::POST,
            "/graphql",
            body.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let edges = answer["data"]["transactions"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1, "{answer}");
    let tags = &edges[0]["node"]["tags"];
    let tag = |name: &str| {
        tags.as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["value"].clone())
    };
    assert_eq!(tag("Type"), Some(json!("Scheduler-Location")));
    assert_eq!(tag("Url"), Some(json!(format!("{b_url}/su"))));
    assert_eq!(tag("Time-To-Live"), Some(json!("3600000")));
    // Other queries still reach the gateway's handler.
    let module = a.info().await["default_module"].clone();
    let ids = json!({"query": "query GetTransactions ($transactionIds: [ID!]!) { transactions(ids: $transactionIds) { edges { node { id } } } }", "variables": {"transactionIds": [module]}});
    let (_, answer) = a
        .request(
            reqwest::Method::POST,
            "/graphql",
            ids.to_string().into_bytes(),
        )
        .await;
    assert_eq!(
        answer["data"]["transactions"]["edges"][0]["node"]["id"],
        module
    );
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_older_expired_and_altered_records_from_a_peer_are_refused() {
    let node = TestNode::start().await;
    let peer = Ed25519Signer::from_secret([5; 32]);
    let stranger = Ed25519Signer::from_secret([6; 32]);
    // What the fake peer serves on /graphql; it says it is `peer` on GET /.
    let served = Arc::new(Mutex::new(Value::Null));
    let url = {
        let served = served.clone();
        let address = peer.address();
        fake_server(Arc::new(move |method, path, _| {
            let answer = if method == "GET" && path == "/" {
                json!({"address": address, "default_module": "", "version": ""})
            } else {
                let node = served.lock().unwrap().clone();
                json!({"data": {"transactions": {"edges": [{"node": node}]}}})
            };
            Box::pin(async move { (200, serde_json::to_vec(&answer).unwrap()) })
        }))
        .await
    };
    let serve = |record: &SchedulerLocation| *served.lock().unwrap() = record.graphql_node();
    let locations = &node.node.info().locations;
    let now = now_ms();
    let hour = 3_600_000;
    let good = SchedulerLocation::sign(&peer, "http://peer.test/su", hour, now).unwrap();
    serve(&good);
    locations.pull(&url).await.unwrap();
    assert_eq!(
        locations.url_of(&peer.address()).as_deref(),
        Some("http://peer.test/su")
    );

    let forged = SchedulerLocation::sign(&stranger, "http://evil.test/su", hour, now + 1).unwrap();
    serve(&forged);
    let got = locations.pull(&url).await;
    assert!(
        matches!(got, Err(LocationError::WrongSigner { .. })),
        "{got:?}"
    );

    let older = SchedulerLocation::sign(&peer, "http://old.test/su", hour, now - 1000).unwrap();
    serve(&older);
    let got = locations.pull(&url).await;
    assert!(matches!(got, Err(LocationError::Older { .. })), "{got:?}");

    let expired =
        SchedulerLocation::sign(&peer, "http://gone.test/su", hour, now - 2 * hour).unwrap();
    serve(&expired);
    let got = locations.pull(&url).await;
    assert!(matches!(got, Err(LocationError::Expired { .. })), "{got:?}");

    let newer = SchedulerLocation::sign(&peer, "http://peer.test/su", hour, now + 5).unwrap();
    let mut altered = newer.graphql_node();
    for tag in altered["tags"].as_array_mut().unwrap() {
        if tag["name"] == "Url" {
            tag["value"] = json!("http://evil.test/su");
        }
    }
    *served.lock().unwrap() = altered;
    let got = locations.pull(&url).await;
    assert!(matches!(got, Err(LocationError::Item(_))), "{got:?}");

    assert_eq!(
        locations.url_of(&peer.address()).as_deref(),
        Some("http://peer.test/su")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_seeded_with_a_trusted_link_verifies_from_there() {
    let (node, process, _) = node_with_a_log().await;
    let local = LocalSource::new(node.node.messenger().scheduler().store().clone());
    let log = read_all(&local, &process, 10).await;
    let at = |slot: usize| {
        let a = &log[slot].assignment;
        (b64::decode_32(&a.hash_chain).unwrap(), a.timestamp)
    };
    let su = format!("{}/su", node.url);
    // Seeded at slot 2: slots 3.. are checked against the seed, the spawn alone.
    let seeded = RemoteSource::new(su.clone());
    let (link, timestamp) = at(2);
    seeded.trust(&process, 2, link, timestamp);
    assert_eq!(
        seeded.page(&process, 3, u64::MAX, 10).await.unwrap(),
        local.page(&process, 3, u64::MAX, 10).await.unwrap()
    );
    let record = seeded.process(&process).await.unwrap();
    assert_eq!(record, local.process(&process).await.unwrap());
    // A seed the log does not continue from is a broken chain, not a page.
    let wrong = RemoteSource::new(su.clone());
    wrong.trust(&process, 2, [7; 32], timestamp);
    assert!(matches!(
        wrong.page(&process, 3, u64::MAX, 10).await,
        Err(SourceError::HashChain { slot: 3, .. })
    ));
    // A page before the seed is verified from slot 0 instead.
    assert_eq!(
        wrong.page(&process, 1, 2, 10).await.unwrap(),
        local.page(&process, 1, 2, 10).await.unwrap()
    );
}
