//! Bad input over HTTP gets a 4xx with a JSON `{error}` body, and the node keeps serving; a handler
//! that loops forever or eats memory fails only its own message.

use aos_units::message::{Ed25519Signer, ItemDraft, RsaSigner, Signer, b64};

use crate::support::{TestNode, output};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_refused_clearly_and_the_node_keeps_serving() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([12; 32]);
    let process = node.spawn(&me, "bad-input").await;

    // Garbage body.
    let (status, body) = node
        .post_bytes(b"definitely not a data item".to_vec())
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("not a data item"));

    // A well-formed item whose signature is all zeros.
    let good = me
        .sign(
            ItemDraft::new("1")
                .tag("Action", "Eval")
                .target(b64::decode_32(&process).unwrap()),
        )
        .unwrap();
    let mut unsigned = good.to_bytes();
    unsigned[2..66].fill(0);
    let (status, body) = node.post_bytes(unsigned).await;
    assert_eq!(status, 401, "{body}");

    // Arweave (RSA, type 1) items: one bit of the data flipped, then an owner that is no RSA key.
    let arweave = RsaSigner::from_jwk(include_bytes!(
        "../../units/tests/fixtures/arweave-test-wallet.json"
    ))
    .unwrap();
    let rsa_item = arweave
        .sign(
            ItemDraft::new("hello")
                .tag("Action", "Hello")
                .target(b64::decode_32(&process).unwrap()),
        )
        .unwrap();
    let mut tampered = rsa_item.to_bytes();
    *tampered.last_mut().unwrap() ^= 1;
    let (status, body) = node.post_bytes(tampered).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("signature rejected: signature does not verify"),
        "{body}"
    );
    let mut no_key = rsa_item.to_bytes();
    no_key[2 + 512..2 + 1024].fill(0);
    let (status, body) = node.post_bytes(no_key).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not a valid arweave RSA public key"),
        "{body}"
    );
    // The untouched item is accepted.
    let (status, body) = node.post_item(&rsa_item).await;
    assert_eq!(status, 202, "{body}");

    // A message to a process that does not exist.
    let stray = me
        .sign(ItemDraft::new("1").tag("Type", "Message").target([9; 32]))
        .unwrap();
    let (status, body) = node.post_item(&stray).await;
    assert_eq!(status, 404, "{body}");

    // A 10 MiB tag.
    let huge = vec![b'x'; 10 * 1024 * 1024];
    let mut item = vec![2u8, 0];
    item.extend([0u8; 96]);
    item.extend([0, 0]);
    item.extend(1u64.to_le_bytes());
    let mut tags = vec![2u8, 2, b'n'];
    let mut len = (huge.len() as u64) << 1;
    while len >= 0x80 {
        tags.push((len as u8) | 0x80);
        len >>= 7;
    }
    tags.push(len as u8);
    tags.extend(&huge);
    tags.push(0);
    item.extend((tags.len() as u64).to_le_bytes());
    item.extend(tags);
    let (status, body) = node.post_bytes(item).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("at most 3072"),
        "{body}"
    );

    // An unknown module.
    let info = node.info().await;
    let spawn = me
        .sign(
            ItemDraft::new("")
                .tag("Type", "Process")
                .tag("Module", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
                .tag("Scheduler", info["address"].as_str().unwrap()),
        )
        .unwrap();
    let (status, body) = node.post_item(&spawn).await;
    assert_eq!(status, 422, "{body}");

    // Duplicates, wrong ids, missing parameters, unknown routes, bad JSON.
    let (status, _) = node.post_item(&good).await;
    assert_eq!(status, 202);
    let (status, body) = node.post_item(&good).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        node.get(&format!("/cu/result/{}?process-id=nope", good.id()))
            .await
            .0,
        400
    );
    assert_eq!(node.get(&format!("/cu/result/{}", good.id())).await.0, 400);
    assert_eq!(node.get("/cu/result/nope?process-id=nope").await.0, 400);
    assert_eq!(
        node.get(&format!("/cu/results/{}", b64::encode([8u8; 32])))
            .await
            .0,
        404
    );
    assert_eq!(node.get("/no/such/route").await.0, 404);
    let response = node
        .http
        .post(format!("{}/cu/dry-run?process-id={process}", node.url))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // Still serving, state intact.
    assert_eq!(output(&node.eval(&me, &process, "1 + 2").await), "3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_or_greedy_handler_fails_its_message_and_the_process_keeps_its_state() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([17; 32]);
    // A low Compute-Limit: the default budget would take many seconds to spend on a loop.
    let process = node
        .spawn_tagged(&me, "greedy", &[("Compute-Limit", "1000000000")])
        .await;
    node.eval(&me, &process, "X = 1").await;

    let forever = node.eval(&me, &process, "X = 2 while true do end").await;
    let error = forever["Error"].as_str().unwrap_or_default();
    assert!(error.contains("fuel"), "{forever}");

    let greedy = node
        .eval(
            &me,
            &process,
            "X = 3 local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1024) .. i end",
        )
        .await;
    let error = greedy["Error"].as_str().unwrap_or_default();
    assert!(
        error.contains("memory") || error.contains("fuel"),
        "{greedy}"
    );

    // Neither left a trace, the process goes on, and so does the node.
    assert_eq!(output(&node.eval(&me, &process, "X").await), "1");
    assert_eq!(
        output(&node.eval(&me, &process, "#string.rep('y', 1000)").await),
        "1000"
    );
    let other = node.spawn(&me, "bystander").await;
    assert_eq!(output(&node.eval(&me, &other, "6 * 7").await), "42");
}
