//! Attacks an outside tester made on `aos node` over HTTP (issue 17), each performed against a
//! real node on a loopback port: the defence must hold and the node must keep serving.

use std::time::{Duration, Instant};

use aos::{Node, NodeConfig};
use aos_units::http::{HttpLimits, PAGE_BYTES};
use aos_units::message::{Ed25519Signer, b64};
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{TestNode, monitor_request, shared_cache_dir};

/// A node served under `limits`, for the connection attacks.
struct LimitedNode {
    url: String,
    addr: String,
    _node: Node,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn limited_node(limits: HttpLimits) -> LimitedNode {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path());
    config.vm.cache_dir = Some(shared_cache_dir());
    let node = Node::open(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(aos_units::http::serve_with(
        listener,
        node.messenger().clone(),
        node.info().clone(),
        limits,
        async move {
            let _ = stopped.await;
        },
    ));
    LimitedNode {
        url: format!("http://{addr}"),
        addr,
        _node: node,
        _dir: dir,
        _stop: stop,
    }
}

/// Sends `request` as it is on a fresh connection and reads the answer to the end: its status
/// and its body, which must be JSON.
async fn raw(addr: &str, request: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_answer(&mut stream).await
}

async fn read_answer(stream: &mut TcpStream) -> (u16, Value) {
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the node answers")
        .unwrap();
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, body)
}

/// Whether the node closes `stream` within `within` (a read sees the end or a reset).
async fn closed_by_node(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    matches!(
        tokio::time::timeout(within, stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

// Item 9: a 1 ms Cron-Interval would cost a core and gigabytes of results a day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_interval_below_the_node_minimum_is_refused() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([91; 32]);
    let (status, body) = node
        .spawn_status(&me, "fast", &[("Cron-Interval", "1-millisecond")])
        .await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("1-millisecond") && error.contains("minimum"),
        "{error}"
    );
    let (status, body) = node
        .spawn_status(&me, "slow", &[("Cron-Interval", "1-second")])
        .await;
    assert_eq!(status, 202, "{body}");

    // The minimum is the node's to set (`aos node --min-cron-interval`).
    let lenient = TestNode::start_with(|config| config.cron.min_interval_ms = 100).await;
    let (status, body) = lenient
        .spawn_status(&me, "fast", &[("Cron-Interval", "200-milliseconds")])
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = lenient
        .spawn_status(&me, "faster", &[("Cron-Interval", "50-milliseconds")])
        .await;
    assert_eq!(status, 400, "{body}");
}

// Item 10: anyone could stop an owner's cron.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_may_monitor_or_unmonitor() {
    let node = TestNode::start().await;
    let owner = Ed25519Signer::from_secret([92; 32]);
    let stranger = Ed25519Signer::from_secret([93; 32]);
    let clock = node
        .spawn_tagged(&owner, "clock", &[("Cron-Interval", "1-hour")])
        .await;
    let path = format!("/mu/monitor/{clock}");
    let monitored = |node: &TestNode| {
        node.node
            .messenger()
            .monitored()
            .iter()
            .any(|p| p.to_string() == clock)
    };

    for method in [Method::POST, Method::DELETE] {
        let (status, body) = node
            .request(method.clone(), &path, monitor_request(&stranger, &clock))
            .await;
        assert_eq!(status, 403, "{method} by a stranger: {body}");
        assert!(body["error"].as_str().unwrap().contains("owner"), "{body}");
    }
    assert!(!monitored(&node));
    let (status, body) = node
        .request(Method::POST, &path, monitor_request(&owner, &clock))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = node
        .request(Method::DELETE, &path, monitor_request(&stranger, &clock))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(monitored(&node), "a stranger stopped the owner's cron");
    let (status, body) = node
        .request(Method::DELETE, &path, monitor_request(&owner, &clock))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(!monitored(&node));

    // A process that does not exist, and one without a cron.
    let nobody = b64::encode([7u8; 32]);
    let (status, body) = node
        .request(
            Method::DELETE,
            &format!("/mu/monitor/{nobody}"),
            monitor_request(&owner, &nobody),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let plain = node.spawn(&owner, "plain").await;
    let (status, body) = node
        .request(
            Method::DELETE,
            &format!("/mu/monitor/{plain}"),
            monitor_request(&owner, &plain),
        )
        .await;
    assert_eq!(status, 422, "{body}");
}

// Item 11: six 15 MB messages made one 94 MB page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn su_pages_are_capped_by_bytes() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([94; 32]);
    let process = node.spawn(&me, "big").await;
    let mib = 1024 * 1024;
    let sizes = [3 * mib, 3 * mib, 3 * mib, PAGE_BYTES + mib, 10];
    for (i, size) in sizes.iter().enumerate() {
        let data = format!("{i}").repeat(*size);
        node.send(&me, &process, &[("Action", "Store")], &data)
            .await;
    }
    // Slots: 0 = the spawn, 1..=5 the messages above.
    let mut pages = Vec::new();
    let mut from = 0;
    loop {
        let (status, bytes) = node.get_bytes(&format!("/su/{process}?from={from}")).await;
        assert_eq!(status, 200);
        let page: Value = serde_json::from_slice(&bytes).unwrap();
        let slots: Vec<u64> = page["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["cursor"].as_str().unwrap().parse().unwrap())
            .collect();
        assert!(
            bytes.len() <= PAGE_BYTES + 4096 || slots.len() == 1,
            "a page of {} bytes with {} messages",
            bytes.len(),
            slots.len()
        );
        pages.push(slots.clone());
        if page["page_info"]["has_next_page"] != true {
            break;
        }
        from = slots.last().unwrap() + 1;
    }
    assert_eq!(pages, vec![vec![0, 1, 2], vec![3], vec![4], vec![5]]);
}

// Item 13: idle and half-open connections stayed open for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_and_requests_still_served() {
    let node = limited_node(HttpLimits {
        header_timeout: Duration::from_millis(500),
        ..HttpLimits::default()
    })
    .await;
    let mut idle = Vec::new();
    for i in 0..60 {
        let mut stream = TcpStream::connect(&node.addr).await.unwrap();
        if i % 3 == 0 {
            // Half a request line, then nothing.
            stream.write_all(b"GET /su HTTP/1.1\r\nHo").await.unwrap();
        }
        idle.push(stream);
    }
    let info: Value = reqwest::get(format!("{}/", node.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(info["address"].is_string(), "{info}");
    let started = Instant::now();
    for (i, stream) in idle.iter_mut().enumerate() {
        assert!(
            closed_by_node(stream, Duration::from_secs(5)).await,
            "idle connection {i} still open after {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_get_503_and_the_node_recovers() {
    let node = limited_node(HttpLimits {
        header_timeout: Duration::from_millis(800),
        max_connections: 4,
        ..HttpLimits::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(&node.addr).await.unwrap());
    }
    // Let the node accept them all before the next one comes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, body) = raw(
        &node.addr,
        b"GET / HTTP/1.1\r\nHost: n\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("at most 4"),
        "{body}"
    );
    for stream in &mut idle {
        assert!(closed_by_node(stream, Duration::from_secs(5)).await);
    }
    // The node frees a connection's place just after closing it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, body) = raw(
        &node.addr,
        b"GET / HTTP/1.1\r\nHost: n\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_gets_408_json() {
    let node = limited_node(HttpLimits {
        body_timeout: Duration::from_millis(300),
        ..HttpLimits::default()
    })
    .await;
    let mut stream = TcpStream::connect(&node.addr).await.unwrap();
    stream
        .write_all(b"POST /mu HTTP/1.1\r\nHost: n\r\nContent-Length: 1000\r\n\r\nonly a little")
        .await
        .unwrap();
    let (status, body) = read_answer(&mut stream).await;
    assert_eq!(status, 408, "{body}");
    assert!(body["error"].as_str().unwrap().contains("body"), "{body}");
}

// Item 17: a chunked POST /mu was told 405, and warp's own refusals were not all JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_layer_answers_every_error_in_json() {
    let node = TestNode::start().await;
    let addr = node.url.trim_start_matches("http://").to_owned();
    let (status, body) = raw(
        &addr,
        b"POST /mu HTTP/1.1\r\nHost: n\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(status, 411, "{body}");
    assert!(body["error"].is_string(), "{body}");
    for (method, path, expected) in [
        (Method::PUT, "/mu", 405),
        (Method::GET, "/nowhere/at/all", 404),
        (Method::GET, "/su/x?limit=lots", 400),
        (Method::GET, "/cu/results/x?limit=-1", 400),
    ] {
        let (status, body) = node.request(method.clone(), path, Vec::new()).await;
        assert_eq!(status, expected, "{method} {path}: {body}");
        assert!(body["error"].is_string(), "{method} {path}: {body}");
    }
}

// Item 17: the SU refused an empty `from=` that the CU took as absent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_cursors_mean_absent_on_su_and_cu() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([95; 32]);
    let process = node.spawn(&me, "cursors").await;
    let id = node
        .send(&me, &process, &[("Action", "Eval")], "return 1")
        .await;
    node.settle(&id).await;
    let (status, page) = node.get(&format!("/su/{process}?from=&to=&limit=")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["edges"].as_array().unwrap().len(), 2, "{page}");
    let (status, page) = node
        .get(&format!("/cu/results/{process}?from=&to=&limit="))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(!page["edges"].as_array().unwrap().is_empty(), "{page}");
    let (status, body) = node.get(&format!("/su/{process}?from=one")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("one"), "{body}");
}
