//! The blueprints in `lua/blueprints/` speak aos's protocols between real processes on a node.

use aos_units::message::Ed25519Signer;
use serde_json::Value;

use crate::support::{TestNode, output};

fn blueprint(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/lua/blueprints/{name}.lua",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Evaluates `code` on `process` and fails the test on an Error.
async fn eval_ok(node: &TestNode, me: &Ed25519Signer, process: &str, code: &str) -> String {
    let result = node.eval(me, process, code).await;
    assert!(result["Error"].is_null(), "{code}: {result}");
    output(&result)
}

/// Evaluates `code` on `from` (which sends messages) and waits until they are delivered.
async fn eval_and_settle(node: &TestNode, me: &Ed25519Signer, from: &str, code: &str) {
    let id = node.send(me, from, &[("Action", "Eval")], code).await;
    let result = node.result(&id, from).await;
    assert!(result["Error"].is_null(), "{code}: {result}");
    node.settle(&id).await;
}

fn without_colours(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_transfer_between_two_processes_delivers_both_notices() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([31; 32]);
    let token = node.spawn(&me, "token").await;
    let alice = node.spawn(&me, "alice").await;
    let bob = node.spawn(&me, "bob").await;
    assert_eq!(
        eval_ok(&node, &me, &token, &blueprint("token")).await,
        "token ready: PNTS"
    );
    eval_ok(
        &node,
        &me,
        &token,
        &format!(r#"Balances["{alice}"] = "500""#),
    )
    .await;
    eval_and_settle(
        &node,
        &me,
        &alice,
        &format!(r#"Send({{ Target = "{token}", Action = "Transfer", Recipient = "{bob}", Quantity = "123", ["X-Memo"] = "rent" }})"#),
    )
    .await;
    // Nobody handles the notices: they land in each Inbox, as in aos.
    let debit = eval_ok(
        &node,
        &me,
        &alice,
        "local m = Inbox[#Inbox] return m.Action .. ' ' .. m.Quantity .. ' ' .. m.Recipient .. ' ' .. m['X-Memo']",
    )
    .await;
    assert_eq!(debit, format!("Debit-Notice 123 {bob} rent"));
    let credit = eval_ok(
        &node,
        &me,
        &bob,
        "local m = Inbox[#Inbox] return m.Action .. ' ' .. m.Quantity .. ' ' .. m.Sender .. ' ' .. m.From",
    )
    .await;
    assert_eq!(credit, format!("Credit-Notice 123 {alice} {token}"));
    let balances = eval_ok(
        &node,
        &me,
        &token,
        &format!(r#"Balances["{alice}"] .. " " .. Balances["{bob}"]"#),
    )
    .await;
    assert_eq!(balances, "377 123");
    // Info answers the current aos fields.
    eval_and_settle(
        &node,
        &me,
        &alice,
        &format!(r#"Send({{ Target = "{token}", Action = "Info" }})"#),
    )
    .await;
    let info = eval_ok(
        &node,
        &me,
        &alice,
        "local m = Inbox[#Inbox] return m.Name .. '|' .. m.Ticker .. '|' .. m.Denomination .. '|' .. m.Logo",
    )
    .await;
    assert_eq!(
        info,
        "token|PNTS|12|SBCCXwwecBlDqRLUjb8dYABExTJXLieawf7m2aBJ-KY"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_for_one_token_assigned_to_another_does_not_debit_there() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([32; 32]);
    let t1 = node.spawn(&me, "t1").await;
    let t2 = node.spawn(&me, "t2").await;
    let source = blueprint("token");
    let holder = me.address();
    for token in [&t1, &t2] {
        eval_ok(&node, &me, token, &source).await;
        eval_ok(
            &node,
            &me,
            token,
            &format!(r#"Balances["{holder}"] = "100""#),
        )
        .await;
    }
    // Signed by the holder for T1 …
    let transfer = node
        .send(
            &me,
            &t1,
            &[
                ("Action", "Transfer"),
                ("Recipient", "bob-address-0000000000000000000000000000000"),
                ("Quantity", "60"),
            ],
            "",
        )
        .await;
    node.settle(&transfer).await;
    // … then assigned to T2 as well.
    eval_and_settle(
        &node,
        &me,
        &t1,
        &format!(r#"Assign({{ Processes = {{ "{t2}" }}, Message = "{transfer}" }})"#),
    )
    .await;
    let mut t2_saw_it = false;
    for _ in 0..100 {
        let (status, body) = node
            .get(&format!("/cu/result/{transfer}?process-id={t2}"))
            .await;
        if status == 200 {
            let text = without_colours(&output(&body));
            assert!(text.contains("Assignment is not trusted!"), "{body}");
            t2_saw_it = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(t2_saw_it, "T2 never computed the assignment");
    let t1_balance = eval_ok(&node, &me, &t1, &format!(r#"Balances["{holder}"]"#)).await;
    let t2_balance = eval_ok(&node, &me, &t2, &format!(r#"Balances["{holder}"]"#)).await;
    assert_eq!((t1_balance.as_str(), t2_balance.as_str()), ("40", "100"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chatroom_broadcast_reaches_every_registered_process() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([33; 32]);
    let room = node.spawn(&me, "room").await;
    let ann = node.spawn(&me, "ann").await;
    let ben = node.spawn(&me, "ben").await;
    assert_eq!(
        eval_ok(&node, &me, &room, &blueprint("chatroom")).await,
        "chatroom ready"
    );
    for member in [&ann, &ben] {
        eval_ok(&node, &me, member, &blueprint("chat")).await;
        eval_and_settle(&node, &me, member, &format!(r#"Join("{room}")"#)).await;
        let reply = eval_ok(&node, &me, member, "Inbox[#Inbox].Data").await;
        assert_eq!(reply, "Registered.");
    }
    eval_and_settle(&node, &me, &ann, r#"Say("hello room")"#).await;
    let members = eval_ok(&node, &me, &room, "table.concat(Members, ',')").await;
    assert_eq!(members, format!("{ann},{ben}"));
    // ann's chat client took the notice and the room answered her "Broadcasted."; ben's client
    // took his notice (it remembers the room it last heard from).
    // (Other code than the check above: the same Eval signed twice is the same message.)
    let ann_last = eval_ok(&node, &me, &ann, "return Inbox[#Inbox].Data").await;
    assert_eq!(ann_last, "Broadcasted.");
    let heard = eval_ok(&node, &me, &ben, "DevChat.LastReceive.Room").await;
    assert_eq!(heard, room);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staking_and_voting_answer_over_the_node() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([34; 32]);
    let dao = node.spawn(&me, "dao").await;
    for name in ["token", "staking", "voting"] {
        eval_ok(&node, &me, &dao, &blueprint(name)).await;
    }
    let holder = me.address();
    eval_ok(
        &node,
        &me,
        &dao,
        &format!(r#"Balances["{holder}"] = "100""#),
    )
    .await;
    let stake = node
        .send(&me, &dao, &[("Action", "Stake"), ("Quantity", "60")], "")
        .await;
    let staked = node.result(&stake, &dao).await;
    assert!(staked["Error"].is_null(), "{staked}");
    let vote = node
        .send(
            &me,
            &dao,
            &[
                ("Action", "Vote"),
                ("Target", "proposal-1"),
                ("Side", "yay"),
                ("Deadline", "100000"),
            ],
            "",
        )
        .await;
    let voted = node.result(&vote, &dao).await;
    assert!(voted["Error"].is_null(), "{voted}");
    let state = eval_ok(
        &node,
        &me,
        &dao,
        &format!(r#"Balances["{holder}"] .. " " .. Stakers["{holder}"].amount .. " " .. Votes["proposal-1"].yay"#),
    )
    .await;
    assert_eq!(state, "40 60 60");
    let stakers = node.send(&me, &dao, &[("Action", "Stakers")], "").await;
    let answer = node.result(&stakers, &dao).await;
    let data = answer["Messages"][0]["Data"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(data).unwrap();
    assert_eq!(parsed[&holder]["amount"], "60");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_send_is_a_patch_in_the_result() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([35; 32]);
    let process = node.spawn(&me, "patcher").await;
    let result = node
        .eval(
            &me,
            &process,
            r#"Send({ device = "patch@1.0", balances = { a = "1" } })"#,
        )
        .await;
    assert!(result["Error"].is_null(), "{result}");
    assert_eq!(
        result["Patches"],
        serde_json::json!([{ "balances": { "a": "1" } }])
    );
    assert_eq!(result["Messages"], serde_json::json!([]));
    // The node keeps the newest value of each patched key and serves it.
    eval_ok(
        &node,
        &me,
        &process,
        r#"Send({ device = "patch@1.0", supply = "10" })
           Send({ device = "patch@1.0", balances = { a = "2", b = "3" } })"#,
    )
    .await;
    let (status, patched) = node.get(&format!("/cu/patch/{process}")).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        patched,
        serde_json::json!({ "balances": { "a": "2", "b": "3" }, "supply": "10" })
    );
    // A failed message patches nothing.
    let failed = node
        .eval(
            &me,
            &process,
            r#"Send({ device = "patch@1.0", supply = "0" }) error("no")"#,
        )
        .await;
    assert!(!failed["Error"].is_null(), "{failed}");
    let (_, patched) = node.get(&format!("/cu/patch/{process}")).await;
    assert_eq!(patched["supply"], "10", "{patched}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arena_player_registers_and_pays_with_a_token_transfer() {
    let node = TestNode::start().await;
    let me = Ed25519Signer::from_secret([36; 32]);
    let arena = node.spawn(&me, "arena").await;
    let token = node.spawn(&me, "coin").await;
    let player = node.spawn(&me, "player").await;
    assert_eq!(
        eval_ok(&node, &me, &arena, &blueprint("arena")).await,
        "arena ready"
    );
    eval_ok(&node, &me, &arena, &format!(r#"PaymentToken = "{token}""#)).await;
    eval_ok(&node, &me, &token, &blueprint("token")).await;
    eval_ok(
        &node,
        &me,
        &token,
        &format!(r#"Balances["{player}"] = "5000""#),
    )
    .await;
    eval_and_settle(
        &node,
        &me,
        &player,
        &format!(r#"Send({{ Target = "{arena}", Action = "Register" }})"#),
    )
    .await;
    // What the player was told, in order (it also listens to the arena's announcements).
    let told = "local s = {} for i = 2, #Inbox do s[#s + 1] = Inbox[i].Action .. ':' .. (Inbox[i].Event or '') end return table.concat(s, ',')";
    let registered = eval_ok(&node, &me, &player, told).await;
    assert_eq!(registered, "Registered:,Announcement:New Player Registered");
    // The token's Credit-Notice to the arena marks the player as paid.
    eval_and_settle(
        &node,
        &me,
        &player,
        &format!(r#"Send({{ Target = "{token}", Action = "Transfer", Recipient = "{arena}", Quantity = "1000" }})"#),
    )
    .await;
    let state = eval_ok(
        &node,
        &me,
        &arena,
        &format!(r#"GameMode .. " " .. tostring(Waiting["{player}"])"#),
    )
    .await;
    assert_eq!(state, "Waiting true");
    let told = format!("{told} ");
    let paid = eval_ok(&node, &me, &player, &told).await;
    // The token's Debit-Notice and the arena's answer come from two processes: either may be first.
    for expected in [
        "Debit-Notice:",
        "Payment-Received:",
        "Announcement:Player-Ready",
    ] {
        assert!(
            paid.split(',').any(|m| m == expected),
            "{expected} in {paid}"
        );
    }
}
