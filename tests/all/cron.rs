//! Cron over HTTP: a monitored process ticks in real time and what its ticks send is delivered;
//! unmonitoring stops the real-time ticks.

use std::time::{Duration, Instant};

use aos_units::message::Ed25519Signer;
use reqwest::Method;

use crate::support::{TestNode, monitor_request, output};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitored_process_ticks_and_its_sends_are_delivered() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([51; 32]);
    let clock = node
        .spawn_tagged(
            &me,
            "clock",
            &[
                // The node's minimum interval.
                ("Cron-Interval", "1-second"),
                ("Cron-Tag-Action", "Cron"),
            ],
        )
        .await;
    let sink = node.spawn(&me, "sink").await;
    let on_tick = format!(
        r#"Handlers.add("cron", Handlers.utils.hasMatchingTag("Action", "Cron"), function(msg)
             Send({{ Target = "{sink}", Action = "Tock", Data = tostring(msg.Timestamp) }})
           end)
           return "ok""#
    );
    assert_eq!(output(&node.eval(&me, &clock, &on_tick).await), "ok");
    let count = r#"Tocks = Tocks or 0
        Handlers.add("tock", Handlers.utils.hasMatchingTag("Action", "Tock"), function() Tocks = Tocks + 1 end)
        return "ok""#;
    assert_eq!(output(&node.eval(&me, &sink, count).await), "ok");

    let (status, body) = node
        .request(
            Method::POST,
            &format!("/mu/monitor/{clock}"),
            monitor_request(&me, &clock),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let started = Instant::now();
    let mut asked = 0;
    let tocks = loop {
        asked += 1;
        // Each read differs, or the scheduler would refuse it as a duplicate.
        let read = format!("return Tocks -- {asked}");
        let tocks: u64 = output(&node.eval(&me, &sink, &read).await).parse().unwrap();
        if tocks >= 2 || started.elapsed() > Duration::from_secs(20) {
            break tocks;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(tocks >= 2, "only {tocks} tocks arrived");

    let (status, page) = node.get(&format!("/cu/cron/{clock}?limit=1000")).await;
    assert_eq!(status, 200, "{page}");
    let edges = page["edges"].as_array().unwrap();
    assert!(edges.len() >= 2, "{page}");
    let cursors: Vec<u64> = edges
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        cursors.windows(2).all(|w| w[1] - w[0] == 1_000),
        "{cursors:?}"
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], false);

    let (status, body) = node
        .request(
            Method::DELETE,
            &format!("/mu/monitor/{clock}"),
            monitor_request(&me, &clock),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Let a tick that was running finish, then nothing moves the clock any more.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, before) = node.get(&format!("/cu/cron/{clock}?limit=1000")).await;
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let (_, after) = node.get(&format!("/cu/cron/{clock}?limit=1000")).await;
    assert_eq!(
        before["edges"].as_array().unwrap().len(),
        after["edges"].as_array().unwrap().len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_requests_are_checked() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([52; 32]);
    let plain = node.spawn(&me, "plain").await;
    let path = format!("/mu/monitor/{plain}");
    let (status, body) = node
        .request(Method::POST, &path, monitor_request(&me, &plain))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("Cron-Interval"));
    let (status, body) = node
        .request(Method::POST, &path, b"not an item".to_vec())
        .await;
    assert_eq!(status, 400, "{body}");
    let mut tampered = monitor_request(&me, &plain);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let (status, body) = node.request(Method::POST, &path, tampered).await;
    assert!(status == 400 || status == 401, "{status} {body}");
    let (status, body) = node
        .request(
            Method::POST,
            "/mu/monitor/nope",
            monitor_request(&me, &plain),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = node
        .spawn_status(&me, "bad-cron", &[("Cron-Interval", "every-day")])
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("every-day"));
}
