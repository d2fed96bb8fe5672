//! Threads: the `m.thread` aggregation and `/threads`.

use serde_json::json;

use crate::{
    common::{TestServer, assert_error},
    relations::{relates, send_event},
    rooms::{create_room, enc, send},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_roots_carry_a_summary_and_are_listed() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let room = create_room(&alice, json!({"preset": "public_chat"})).await;
    for user in [&bob, &carol] {
        let (status, _) =
            user.post(&format!("/_matrix/client/v3/rooms/{}/join", enc(&room)), json!({})).await;
        assert_eq!(status, 200);
    }
    let reply = |user, root: &str, txn: &'static str| {
        let content =
            json!({"msgtype": "m.text", "body": txn, "m.relates_to": relates("m.thread", root)});
        let room = room.clone();
        async move { send_event(user, &room, "m.room.message", txn, content).await }
    };
    let first = send(&alice, &room, "r1", json!({"msgtype": "m.text", "body": "first"})).await;
    let second = send(&bob, &room, "r2", json!({"msgtype": "m.text", "body": "second"})).await;
    reply(&bob, &first, "a").await;
    let latest = reply(&alice, &first, "b").await;
    // An edit of the latest thread event is bundled with it.
    let edit = send_event(
        &alice,
        &room,
        "m.room.message",
        "b-edit",
        json!({"msgtype": "m.text",
        "body": "* b2", "m.new_content": {"msgtype": "m.text", "body": "b2"},
        "m.relates_to": relates("m.replace", &latest)}),
    )
    .await;
    reply(&bob, &second, "c").await;

    let event = |user: &crate::common::User, id: &str| {
        let path = format!("/_matrix/client/v3/rooms/{}/event/{}", enc(&room), enc(id));
        let client = user.client.clone();
        async move { client.get(&path).await.1 }
    };
    let root = event(&alice, &first).await;
    let thread = &root["unsigned"]["m.relations"]["m.thread"];
    assert_eq!(thread["count"], 2, "{root}");
    assert_eq!(thread["latest_event"]["event_id"], latest);
    assert_eq!(thread["latest_event"]["unsigned"]["m.relations"]["m.replace"]["event_id"], edit);
    assert_eq!(thread["current_user_participated"], true);
    let for_carol = event(&carol, &first).await;
    assert_eq!(
        for_carol["unsigned"]["m.relations"]["m.thread"]["current_user_participated"],
        false
    );
    let for_bob = event(&bob, &second).await;
    assert_eq!(for_bob["unsigned"]["m.relations"]["m.thread"]["current_user_participated"], true);

    // Most recently active first; `participated` keeps alice's threads only.
    let threads = format!("/_matrix/client/v1/rooms/{}/threads", enc(&room));
    let (status, all) = alice.get(&threads).await;
    assert_eq!(status, 200, "{all}");
    let roots: Vec<_> =
        all["chunk"].as_array().unwrap().iter().map(|e| e["event_id"].clone()).collect();
    assert_eq!(roots, vec![json!(second), json!(first)]);
    assert_eq!(all["chunk"][1]["unsigned"]["m.relations"]["m.thread"]["count"], 2);
    let (_, mine) = alice.get(&format!("{threads}?include=participated")).await;
    assert_eq!(mine["chunk"].as_array().unwrap().len(), 1);
    assert_eq!(mine["chunk"][0]["event_id"], first);
    let (_, none) = carol.get(&format!("{threads}?include=participated")).await;
    assert!(none["chunk"].as_array().unwrap().is_empty());

    // Pages of one.
    let (_, page) = alice.get(&format!("{threads}?limit=1")).await;
    assert_eq!(page["chunk"][0]["event_id"], second);
    let next = page["next_batch"].as_str().expect("next_batch");
    let (_, page) = alice.get(&format!("{threads}?limit=1&from={next}")).await;
    assert_eq!(page["chunk"][0]["event_id"], first);
    let next = page["next_batch"].as_str().expect("next_batch");
    let (_, page) = alice.get(&format!("{threads}?limit=1&from={next}")).await;
    assert!(page["chunk"].as_array().unwrap().is_empty(), "{page}");
    assert!(page.get("next_batch").is_none());

    // A thread whose root's sender is ignored is listed without the root's content.
    let ignore =
        format!("/_matrix/client/v3/user/{}/account_data/m.ignored_user_list", enc(&carol.user_id));
    let (status, _) = carol.put(&ignore, json!({"ignored_users": {bob.user_id.clone(): {}}})).await;
    assert_eq!(status, 200);
    let (_, listed) = carol.get(&threads).await;
    assert_eq!(listed["chunk"][0]["event_id"], second);
    assert_eq!(listed["chunk"][0]["content"], json!({}));
    assert_eq!(listed["chunk"][1]["content"]["body"], "first");

    // Errors.
    assert_error(&alice.get(&format!("{threads}?include=mine")).await, 400, "M_INVALID_PARAM");
    assert_error(&alice.get(&format!("{threads}?from=bad")).await, 400, "M_INVALID_PARAM");
    let dave = server.register("dave").await;
    assert_error(&dave.get(&threads).await, 403, "M_FORBIDDEN");
    let unknown = "/_matrix/client/v1/rooms/%21nope%3Alocalhost/threads";
    assert_error(&alice.get(unknown).await, 403, "M_FORBIDDEN");
}
