//! The flow an outside client uses: sign a spawn, POST it to /mu, POST Eval messages, read
//! /cu/result — exactly as AO's clients do.

use aos_units::message::Ed25519Signer;

use crate::support::{TestNode, output};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_eval_and_read_results_over_http() {
    let node = TestNode::start().await;
    let info = node.info().await;
    assert_eq!(info["address"].as_str().unwrap().len(), 43);
    assert_eq!(info["default_module"].as_str().unwrap().len(), 43);
    assert_eq!(
        info["address"],
        node.node.info().address,
        "HTTP and embedded agree"
    );

    let me = Ed25519Signer::from_secret([11; 32]);
    let process = node.spawn(&me, "flow").await;
    let result = node.eval(&me, &process, "1 + 1").await;
    assert_eq!(output(&result), "2", "{result}");
    assert!(result["GasUsed"].as_u64().unwrap() > 0, "{result}");

    // State persists between messages.
    node.eval(&me, &process, "Counter = 41").await;
    let result = node.eval(&me, &process, "Counter + 1").await;
    assert_eq!(output(&result), "42");

    // The scheduler's log pages hold the spawn at slot 0 and every message after it.
    let (status, page) = node.get(&format!("/su/{process}")).await;
    assert_eq!(status, 200, "{page}");
    let edges = page["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 4);
    assert_eq!(edges[0]["cursor"], "0");
    assert_eq!(edges[0]["node"]["message"]["id"], process);
    assert_eq!(page["page_info"]["has_next_page"], false);
    let (_, page) = node.get(&format!("/su/{process}?from=1&limit=2")).await;
    assert_eq!(page["edges"].as_array().unwrap().len(), 2);
    assert_eq!(page["page_info"]["has_next_page"], true);

    // Results come in AO's camelCase pages, after the `from` cursor.
    let (status, results) = node
        .get(&format!("/cu/results/{process}?from=1&limit=10"))
        .await;
    assert_eq!(status, 200, "{results}");
    let edges = results["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    assert_eq!(output(&edges[1]["node"]), "42");
    let (_, desc) = node
        .get(&format!("/cu/results/{process}?sort=DESC&limit=1"))
        .await;
    assert_eq!(desc["edges"][0]["cursor"], "3");
    assert_eq!(desc["pageInfo"]["hasNextPage"], true);
    let (_, desc) = node
        .get(&format!("/cu/results/{process}?sort=desc&limit=3&to=3"))
        .await;
    let cursors: Vec<&str> = desc["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].as_str().unwrap())
        .collect();
    assert_eq!(cursors, ["3", "2", "1"]);
    assert_eq!(desc["pageInfo"]["hasNextPage"], true, "slot 0 is left");
    let (_, all) = node.get(&format!("/cu/results/{process}?limit=4")).await;
    assert_eq!(all["edges"].as_array().unwrap().len(), 4);
    assert_eq!(all["pageInfo"]["hasNextPage"], false);

    // A dry-run reads state and changes nothing.
    let body = serde_json::json!({"Owner": me.address(), "Tags": [{"name": "Action", "value": "Eval"}], "Data": "Counter"});
    let response = node
        .http
        .post(format!("{}/cu/dry-run?process-id={process}", node.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let dry: serde_json::Value = response.json().await.unwrap();
    assert_eq!(output(&dry), "41", "{dry}");
    let (_, page) = node.get(&format!("/su/{process}")).await;
    assert_eq!(
        page["edges"].as_array().unwrap().len(),
        4,
        "dry-run scheduled nothing"
    );

    // A Lua error is part of the result, and the process keeps its state.
    let failed = node.eval(&me, &process, "Counter = 0; error('boom')").await;
    assert!(
        failed["Error"].as_str().unwrap().contains("boom"),
        "{failed}"
    );
    assert_eq!(output(&node.eval(&me, &process, "Counter").await), "41");

    // Unit info endpoints answer.
    for path in ["/mu", "/su", "/cu", "/su/timestamp"] {
        assert_eq!(node.get(path).await.0, 200, "{path}");
    }
    let (status, state) = node.get_bytes(&format!("/cu/state/{process}")).await;
    assert_eq!(status, 200);
    assert!(!state.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_graphql_answers_for_modules_and_items_the_node_holds() {
    let node = TestNode::start().await;
    let me = aos_units::message::Ed25519Signer::from_secret([17; 32]);
    let info = node.info().await;
    let module = info["default_module"].as_str().unwrap().to_owned();
    let process = node.spawn(&me, "gql").await;
    let query = |ids: Vec<String>| {
        serde_json::json!({
            "query": "query GetTransactions ($transactionIds: [ID!]!) { transactions(ids: $transactionIds) { edges { node { owner { address } tags { name value } } } } }",
            "variables": {"transactionIds": ids},
        })
        .to_string()
        .into_bytes()
    };
    let tag = |node: &serde_json::Value, name: &str| {
        node["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["value"].as_str().unwrap().to_owned())
    };
    let (status, body) = node
        .request(
            reqwest::Method::POST,
            "/graphql",
            query(vec![module.clone()]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let found = &body["data"]["transactions"]["edges"][0]["node"];
    // What aoconnect's spawn checks before it sends anything.
    assert_eq!(tag(found, "Data-Protocol").as_deref(), Some("ao"));
    assert_eq!(tag(found, "Type").as_deref(), Some("Module"));
    for required in ["Module-Format", "Input-Encoding", "Output-Encoding"] {
        assert!(tag(found, required).is_some(), "{required} missing: {body}");
    }
    let (_, body) = node
        .request(
            reqwest::Method::POST,
            "/graphql",
            query(vec![process.clone()]),
        )
        .await;
    let found = &body["data"]["transactions"]["edges"][0]["node"];
    assert_eq!(tag(found, "Name").as_deref(), Some("gql"));
    assert_eq!(found["owner"]["address"], me.address());
    let (_, body) = node
        .request(
            reqwest::Method::POST,
            "/graphql",
            query(vec!["B".repeat(43)]),
        )
        .await;
    assert_eq!(body["data"]["transactions"]["edges"], serde_json::json!([]));
    let (status, body) = node
        .request(reqwest::Method::POST, "/graphql", b"{not json".to_vec())
        .await;
    assert_eq!(status, 400, "{body}");
}
