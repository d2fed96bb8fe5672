//! Relations: validation on send, `/relations` in its three forms with pagination and
//! recursion, bundled edits and references, redactions breaking relationships.

use serde_json::{Value, json};

use crate::{
    common::{TestServer, User, assert_error},
    rooms::{create_room, enc, send},
};

pub(crate) async fn send_event(
    user: &User,
    room: &str,
    kind: &str,
    txn: &str,
    content: Value,
) -> String {
    let path = format!("/_matrix/client/v3/rooms/{}/send/{kind}/{txn}", enc(room));
    let (status, body) = user.put(&path, content).await;
    assert_eq!(status, 200, "send {kind}: {body}");
    body["event_id"].as_str().unwrap().to_owned()
}

pub(crate) fn relates(rel_type: &str, parent: &str) -> Value {
    json!({"rel_type": rel_type, "event_id": parent})
}

fn ids(chunk: &Value) -> Vec<String> {
    chunk.as_array().unwrap().iter().map(|e| e["event_id"].as_str().unwrap().to_owned()).collect()
}

async fn react(
    user: &User,
    room: &str,
    txn: &str,
    parent: &str,
    key: &str,
) -> (reqwest::StatusCode, Value) {
    let path = format!("/_matrix/client/v3/rooms/{}/send/m.reaction/{txn}", enc(room));
    let mut rel = relates("m.annotation", parent);
    rel["key"] = json!(key);
    user.put(&path, json!({"m.relates_to": rel})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relations_are_paginated_filtered_and_recursed() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(&alice, json!({})).await;
    let root = send(&alice, &room, "t0", json!({"msgtype": "m.text", "body": "root"})).await;
    let (status, r1) = react(&alice, &room, "t1", &root, "👍").await;
    assert_eq!(status, 200, "{r1}");
    let r1 = r1["event_id"].as_str().unwrap().to_owned();
    let reference = send_event(
        &alice,
        &room,
        "m.room.message",
        "t2",
        json!({"msgtype": "m.text", "body": "see", "m.relates_to": relates("m.reference", &root)}),
    )
    .await;
    let nested = send_event(&alice, &room, "m.room.message", "t3",
        json!({"msgtype": "m.text", "body": "nested", "m.relates_to": relates("m.reference", &reference)})).await;
    let (status, _) = react(&alice, &room, "t4", &root, "🎉").await;
    assert_eq!(status, 200);

    let base = format!("/_matrix/client/v1/rooms/{}/relations/{}", enc(&room), enc(&root));
    let (status, all) = alice.get(&base).await;
    assert_eq!(status, 200, "{all}");
    let all_ids = ids(&all["chunk"]);
    assert_eq!(all_ids.len(), 3, "{all}");
    assert_eq!(all_ids[2], r1, "newest first");
    assert!(all.get("recursion_depth").is_none());

    // Pages of two, backwards then forwards.
    let (_, page) = alice.get(&format!("{base}?limit=2")).await;
    assert_eq!(ids(&page["chunk"]), all_ids[..2]);
    let next = page["next_batch"].as_str().expect("next_batch");
    // `to` stops where the first page ended.
    let (_, upto) = alice.get(&format!("{base}?to={next}")).await;
    assert_eq!(ids(&upto["chunk"]), all_ids[..2]);
    let (_, rest) = alice.get(&format!("{base}?limit=2&from={next}")).await;
    assert_eq!(ids(&rest["chunk"]), all_ids[2..]);
    assert!(rest.get("next_batch").is_none(), "{rest}");
    let (_, forward) = alice.get(&format!("{base}?dir=f")).await;
    let mut reversed = all_ids.clone();
    reversed.reverse();
    assert_eq!(ids(&forward["chunk"]), reversed);

    // By relation type, and by relation and event type.
    let (_, annotations) = alice.get(&format!("{base}/m.annotation")).await;
    assert_eq!(ids(&annotations["chunk"]).len(), 2);
    let (_, reactions) = alice.get(&format!("{base}/m.annotation/m.reaction")).await;
    assert_eq!(ids(&reactions["chunk"]).len(), 2);
    let (_, none) = alice.get(&format!("{base}/m.annotation/m.room.message")).await;
    assert!(ids(&none["chunk"]).is_empty());

    // Recursion reaches relations of relations, with the filter applied at every level.
    let (_, deep) = alice.get(&format!("{base}?recurse=true")).await;
    assert_eq!(deep["recursion_depth"], 3);
    assert!(ids(&deep["chunk"]).contains(&nested), "{deep}");
    let (_, deep_refs) = alice.get(&format!("{base}/m.reference?recurse=true")).await;
    assert_eq!(ids(&deep_refs["chunk"]), vec![nested.clone(), reference.clone()]);
    let (_, deep_reactions) = alice.get(&format!("{base}/m.annotation?recurse=true")).await;
    assert!(!ids(&deep_reactions["chunk"]).contains(&nested));

    // A redacted child no longer relates.
    let redact = format!("/_matrix/client/v3/rooms/{}/redact/{}/r1", enc(&room), enc(&r1));
    let (status, _) = alice.put(&redact, json!({})).await;
    assert_eq!(status, 200);
    let (_, after) = alice.get(&format!("{base}/m.annotation")).await;
    assert_eq!(ids(&after["chunk"]).len(), 1);

    // Errors: unknown event, another room's event, hidden history, bad token.
    let other = create_room(&alice, json!({})).await;
    let unknown = format!("/_matrix/client/v1/rooms/{}/relations/%24nope", enc(&room));
    assert_error(&alice.get(&unknown).await, 404, "M_NOT_FOUND");
    let wrong_room = format!("/_matrix/client/v1/rooms/{}/relations/{}", enc(&other), enc(&root));
    assert_error(&alice.get(&wrong_room).await, 404, "M_NOT_FOUND");
    let bob = server.register("bob").await;
    assert_error(&bob.get(&base).await, 404, "M_NOT_FOUND");
    assert_error(&alice.get(&format!("{base}?from=nonsense")).await, 400, "M_INVALID_PARAM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relations_are_validated_on_send() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(&alice, json!({})).await;
    let other = create_room(&alice, json!({})).await;
    let root = send(&alice, &room, "t0", json!({"msgtype": "m.text", "body": "root"})).await;
    let elsewhere = send(&alice, &other, "t0", json!({"msgtype": "m.text", "body": "x"})).await;

    let (status, _) = react(&alice, &room, "a1", &root, "👍").await;
    assert_eq!(status, 200);
    assert_error(&react(&alice, &room, "a2", &root, "👍").await, 400, "M_DUPLICATE_ANNOTATION");
    assert_error(&react(&alice, &room, "a3", &root, "").await, 400, "M_UNKNOWN");
    assert_error(&react(&alice, &room, "a4", &elsewhere, "👍").await, 400, "M_UNKNOWN");

    let reply = send_event(&alice, &room, "m.room.message", "t1",
        json!({"msgtype": "m.text", "body": "in thread", "m.relates_to": relates("m.thread", &root)})).await;
    let path = format!("/_matrix/client/v3/rooms/{}/send/m.room.message/t2", enc(&room));
    let nested_thread =
        json!({"msgtype": "m.text", "body": "x", "m.relates_to": relates("m.thread", &reply)});
    assert_error(&alice.put(&path, nested_thread).await, 400, "M_UNKNOWN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_and_references_are_bundled() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"preset": "public_chat"})).await;
    let (status, _) =
        bob.post(&format!("/_matrix/client/v3/rooms/{}/join", enc(&room)), json!({})).await;
    assert_eq!(status, 200);
    let root = send(&alice, &room, "t0", json!({"msgtype": "m.text", "body": "cake"})).await;
    let edit = |txn: &'static str, body: &'static str| {
        let content = json!({"msgtype": "m.text", "body": format!("* {body}"),
            "m.new_content": {"msgtype": "m.text", "body": body},
            "m.relates_to": relates("m.replace", &root)});
        send_event(&alice, &room, "m.room.message", txn, content)
    };
    let first = edit("e1", "chocolate cake").await;
    let second = edit("e2", "lemon cake").await;
    // Not valid edits: another sender, no new content, another type.
    send_event(
        &bob,
        &room,
        "m.room.message",
        "b1",
        json!({"msgtype": "m.text", "body": "*",
        "m.new_content": {"body": "bob's"}, "m.relates_to": relates("m.replace", &root)}),
    )
    .await;
    send_event(
        &alice,
        &room,
        "m.room.message",
        "e3",
        json!({"msgtype": "m.text", "body": "*",
        "m.relates_to": relates("m.replace", &root)}),
    )
    .await;
    send_event(
        &alice,
        &room,
        "org.example.other",
        "e4",
        json!({"m.new_content": {},
        "m.relates_to": relates("m.replace", &root)}),
    )
    .await;
    let reference = send_event(
        &bob,
        &room,
        "m.room.message",
        "b2",
        json!({"msgtype": "m.text",
        "body": "see above", "m.relates_to": relates("m.reference", &root)}),
    )
    .await;

    let event_path = format!("/_matrix/client/v3/rooms/{}/event/{}", enc(&room), enc(&root));
    let (status, event) = alice.get(&event_path).await;
    assert_eq!(status, 200, "{event}");
    let relations = &event["unsigned"]["m.relations"];
    assert_eq!(relations["m.replace"]["event_id"], second, "{event}");
    assert_eq!(relations["m.replace"]["content"]["m.new_content"]["body"], "lemon cake");
    assert_eq!(relations["m.reference"]["chunk"], json!([{"event_id": reference}]));
    assert_eq!(event["content"]["body"], "cake", "the original content is left intact");

    // The same bundle in /messages and /context.
    let (_, page) = alice
        .get(&format!("/_matrix/client/v3/rooms/{}/messages?dir=b&limit=50", enc(&room)))
        .await;
    let served = page["chunk"].as_array().unwrap().iter().find(|e| e["event_id"] == root).unwrap();
    assert_eq!(served["unsigned"]["m.relations"]["m.replace"]["event_id"], second);
    let (_, context) =
        alice.get(&format!("/_matrix/client/v3/rooms/{}/context/{}", enc(&room), enc(&root))).await;
    assert_eq!(context["event"]["unsigned"]["m.relations"]["m.replace"]["event_id"], second);

    // Bob ignores nobody; once he ignores alice her edits are left out for him.
    let (_, for_bob) = bob.get(&event_path).await;
    assert_eq!(for_bob["unsigned"]["m.relations"]["m.replace"]["event_id"], second);
    let ignore =
        format!("/_matrix/client/v3/user/{}/account_data/m.ignored_user_list", enc(&bob.user_id));
    let (status, _) = bob.put(&ignore, json!({"ignored_users": {alice.user_id.clone(): {}}})).await;
    assert_eq!(status, 200);
    let (_, for_bob) = bob.get(&event_path).await;
    assert!(for_bob["unsigned"]["m.relations"].get("m.replace").is_none(), "{for_bob}");

    // Redacting the latest edit reverts to the one before; redacting the original drops edits.
    let redact = |target: &str, txn: &str| {
        format!("/_matrix/client/v3/rooms/{}/redact/{}/{txn}", enc(&room), enc(target))
    };
    assert_eq!(alice.put(&redact(&second, "r1"), json!({})).await.0, 200);
    let (_, event) = alice.get(&event_path).await;
    assert_eq!(event["unsigned"]["m.relations"]["m.replace"]["event_id"], first);
    assert_eq!(alice.put(&redact(&root, "r2"), json!({})).await.0, 200);
    let (_, event) = alice.get(&event_path).await;
    assert!(event["unsigned"]["m.relations"].get("m.replace").is_none(), "{event}");
    assert_eq!(event["unsigned"]["m.relations"]["m.reference"]["chunk"][0]["event_id"], reference);
}
