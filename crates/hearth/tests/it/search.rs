//! Server-side search: ranking, ordering, pagination, filters, history visibility, redactions,
//! event context, groupings.

use serde_json::{Value, json};

use crate::{
    common::{TestServer, User, assert_error},
    rooms::{create_room, enc, send},
};

async fn search(user: &User, room_events: Value) -> Value {
    let (status, body) = search_raw(user, room_events, None).await;
    assert_eq!(status, 200, "{body}");
    body["search_categories"]["room_events"].clone()
}

async fn search_raw(
    user: &User,
    room_events: Value,
    next: Option<&str>,
) -> (reqwest::StatusCode, Value) {
    let path = match next {
        Some(token) => format!("/_matrix/client/v3/search?next_batch={token}"),
        None => "/_matrix/client/v3/search".to_owned(),
    };
    user.post(&path, json!({"search_categories": {"room_events": room_events}})).await
}

fn bodies(results: &Value) -> Vec<String> {
    results["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let c = &r["result"]["content"];
            c["body"].as_str().or(c["name"].as_str()).unwrap_or("?").to_owned()
        })
        .collect()
}

fn text(body: &str) -> Value {
    json!({"msgtype": "m.text", "body": body})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_ranks_orders_and_pages() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(&alice, json!({"name": "Fox den"})).await;
    send(&alice, &room, "t1", text("the quick brown fox")).await;
    send(&alice, &room, "t2", text("a lazy dog")).await;
    send(&alice, &room, "t3", text("Quick! quick, QUICK")).await;

    let found = search(&alice, json!({"search_term": "quick"})).await;
    assert_eq!(found["count"], 2);
    assert_eq!(found["highlights"], json!(["quick"]));
    assert_eq!(bodies(&found), ["Quick! quick, QUICK", "the quick brown fox"]);
    let ranks: Vec<f64> =
        found["results"].as_array().unwrap().iter().map(|r| r["rank"].as_f64().unwrap()).collect();
    assert!(ranks[0] > ranks[1], "higher rank is more relevant: {ranks:?}");
    assert!(found.get("next_batch").is_none());

    let recent = search(&alice, json!({"search_term": "fox", "order_by": "recent"})).await;
    assert_eq!(bodies(&recent), ["the quick brown fox", "Fox den"]);
    let names = search(&alice, json!({"search_term": "fox", "keys": ["content.name"]})).await;
    assert_eq!(bodies(&names), ["Fox den"]);
    let both = search(&alice, json!({"search_term": "quick fox"})).await;
    assert_eq!(bodies(&both), ["the quick brown fox"]);
    let prefix = search(&alice, json!({"search_term": "qui"})).await;
    assert_eq!(prefix["count"], 2);
    let none = search(&alice, json!({"search_term": "?!"})).await;
    assert_eq!(none["count"], 0);

    // Pages of one, by rank and by recency.
    for order in ["rank", "recent"] {
        let criteria = json!({"search_term": "quick", "order_by": order, "filter": {"limit": 1}});
        let (_, first) = search_raw(&alice, criteria.clone(), None).await;
        let first = &first["search_categories"]["room_events"];
        let token = first["next_batch"].as_str().expect("next_batch").to_owned();
        let (status, second) = search_raw(&alice, criteria, Some(&token)).await;
        assert_eq!(status, 200, "{second}");
        let second = &second["search_categories"]["room_events"];
        assert_eq!(bodies(second).len(), 1);
        assert_ne!(bodies(first), bodies(second), "{order}");
        assert!(second.get("next_batch").is_none(), "{order}: {second}");
    }

    // Bad input.
    let bad = |criteria: Value, next: Option<&'static str>| search_raw(&alice, criteria, next);
    assert_error(
        &bad(json!({"search_term": "quick"}), Some("nonsense")).await,
        400,
        "M_INVALID_PARAM",
    );
    assert_error(
        &bad(json!({"search_term": "quick", "order_by": "recent"}), Some("k1")).await,
        400,
        "M_INVALID_PARAM",
    );
    assert_error(
        &bad(json!({"search_term": "x", "keys": ["content.other"]}), None).await,
        400,
        "M_INVALID_PARAM",
    );
    assert_error(
        &bad(json!({"search_term": "x", "order_by": "random"}), None).await,
        400,
        "M_INVALID_PARAM",
    );
    assert_error(&bad(json!({"keys": ["content.body"]}), None).await, 400, "M_BAD_JSON");
    let (status, empty) =
        alice.post("/_matrix/client/v3/search", json!({"search_categories": {}})).await;
    assert_eq!(status, 200, "{empty}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_respects_visibility_filters_and_redactions() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let eve = server.register("eve").await;
    let room = create_room(&alice, json!({"preset": "public_chat",
        "initial_state": [{"type": "m.room.history_visibility", "content": {"history_visibility": "joined"}}]})).await;
    let other = create_room(&alice, json!({})).await;
    send(&alice, &room, "t1", text("secret plans before bob")).await;
    let join = format!("/_matrix/client/v3/rooms/{}/join", enc(&room));
    assert_eq!(bob.post(&join, json!({})).await.0, 200);
    let visible = send(&alice, &room, "t2", text("secret plans with bob")).await;
    send(&alice, &other, "t3", text("secret plans elsewhere")).await;

    assert_eq!(
        bodies(&search(&bob, json!({"search_term": "secret"})).await),
        ["secret plans with bob"]
    );
    assert!(bodies(&search(&eve, json!({"search_term": "secret"})).await).is_empty());
    let alice_all = search(&alice, json!({"search_term": "secret"})).await;
    assert_eq!(bodies(&alice_all).len(), 3);
    let only = search(&alice, json!({"search_term": "secret", "filter": {"rooms": [other]}})).await;
    assert_eq!(bodies(&only), ["secret plans elsewhere"]);
    let not =
        search(&alice, json!({"search_term": "secret", "filter": {"not_rooms": [other]}})).await;
    assert_eq!(bodies(&not).len(), 2);
    let by_bob =
        search(&alice, json!({"search_term": "secret", "filter": {"senders": [bob.user_id]}}))
            .await;
    assert!(bodies(&by_bob).is_empty());

    // After leaving, bob still finds what he could see.
    let leave = format!("/_matrix/client/v3/rooms/{}/leave", enc(&room));
    assert_eq!(bob.post(&leave, json!({})).await.0, 200);
    send(&alice, &room, "t4", text("secret plans after bob")).await;
    assert_eq!(
        bodies(&search(&bob, json!({"search_term": "secret"})).await),
        ["secret plans with bob"]
    );

    // Redacted events leave the index.
    let redact = format!("/_matrix/client/v3/rooms/{}/redact/{}/r1", enc(&room), enc(&visible));
    assert_eq!(alice.put(&redact, json!({})).await.0, 200);
    assert!(bodies(&search(&bob, json!({"search_term": "secret"})).await).is_empty());
    assert_eq!(search(&alice, json!({"search_term": "secret"})).await["count"], 3);
}

/// The index is written after commit, in batches: whatever is committed before a search is
/// found, a message redacted before it was indexed never is, and what was not indexed when
/// the server stopped is indexed after it starts again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_sees_every_commit_before_it_and_across_restarts() {
    let mut server = TestServer::start().await;
    let alice = server.register("alice").await;
    let room = create_room(&alice, json!({})).await;
    let gone = send(&alice, &room, "t1", text("ephemeral walrus")).await;
    let redact = format!("/_matrix/client/v3/rooms/{}/redact/{}/r1", enc(&room), enc(&gone));
    assert_eq!(alice.put(&redact, json!({})).await.0, 200);
    send(&alice, &room, "t2", text("durable walrus")).await;
    assert_eq!(bodies(&search(&alice, json!({"search_term": "walrus"})).await), ["durable walrus"]);

    send(&alice, &room, "t3", text("walrus after restart")).await;
    server.restart().await;
    let found = search(&alice, json!({"search_term": "walrus", "order_by": "recent"})).await;
    assert_eq!(bodies(&found), ["walrus after restart", "durable walrus"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_returns_context_groups_and_state() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"preset": "public_chat", "name": "Kitchen"})).await;
    assert_eq!(
        bob.post(&format!("/_matrix/client/v3/rooms/{}/join", enc(&room)), json!({})).await.0,
        200
    );
    let name = format!("/_matrix/client/v3/profile/{}/displayname", enc(&bob.user_id));
    assert_eq!(bob.put(&name, json!({"displayname": "Bobby"})).await.0, 200);
    send(&alice, &room, "t1", text("one")).await;
    send(&alice, &room, "t2", text("two")).await;
    send(&bob, &room, "t3", text("the cake recipe")).await;
    send(&alice, &room, "t4", text("three")).await;
    let other = create_room(&bob, json!({})).await;
    send(&bob, &other, "t5", text("cake again")).await;

    let found = search(
        &alice,
        json!({"search_term": "recipe",
        "event_context": {"before_limit": 2, "after_limit": 1, "include_profile": true}}),
    )
    .await;
    let context = &found["results"][0]["context"];
    let before: Vec<&str> = context["events_before"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["content"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(before, ["two", "one"]);
    assert_eq!(context["events_after"][0]["content"]["body"], "three");
    assert!(context["start"].is_string() && context["end"].is_string());
    assert_eq!(context["profile_info"][&bob.user_id]["displayname"], "Bobby");
    // Without `event_context`, no context.
    let plain = search(&alice, json!({"search_term": "recipe"})).await;
    assert!(plain["results"][0].get("context").is_none(), "{plain}");

    let grouped = search(
        &bob,
        json!({"search_term": "cake", "include_state": true,
        "groupings": {"group_by": [{"key": "room_id"}, {"key": "sender"}]}}),
    )
    .await;
    let rooms = grouped["groups"]["room_id"].as_object().unwrap();
    assert_eq!(rooms.len(), 2);
    assert_eq!(rooms[&room]["results"].as_array().unwrap().len(), 1);
    assert_eq!(grouped["groups"]["sender"][&bob.user_id]["results"].as_array().unwrap().len(), 2);
    let state = grouped["state"][&room].as_array().expect("state of the room");
    assert!(state.iter().any(|e| e["type"] == "m.room.name" && e["content"]["name"] == "Kitchen"));
    let bad = search_raw(
        &bob,
        json!({"search_term": "cake", "groupings": {"group_by": [{"key": "type"}]}}),
        None,
    )
    .await;
    assert_error(&bad, 400, "M_INVALID_PARAM");
}
