//! User directory search.

use serde_json::{Value, json};

use crate::{
    common::{TestServer, User},
    rooms::{create_room, enc},
};

const SEARCH: &str = "/_matrix/client/v3/user_directory/search";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_all_local_users() {
    let server = TestServer::start_with(|c| c.user_directory.search_all_users = true).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    server.register("bobby").await;
    let carl = server.register("carl").await;
    let path = "/_matrix/client/v3/profile/@carl:localhost/displayname";
    carl.put(path, json!({"displayname": "Bob's friend Carl"})).await;

    let (status, body) = alice.post(SEARCH, json!({"search_term": "BOB"})).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["@bob:localhost", "@bobby:localhost", "@carl:localhost"]);
    assert_eq!(body["limited"], false);
    assert_eq!(body["results"][2]["display_name"], "Bob's friend Carl");

    let (_, body) = alice.post(SEARCH, json!({"search_term": "bob", "limit": 2})).await;
    assert_eq!(body["results"].as_array().unwrap().len(), 2);
    assert_eq!(body["limited"], true);

    // Wildcards are literal; deactivated users are not listed.
    let (_, body) = alice.post(SEARCH, json!({"search_term": "%"})).await;
    assert_eq!(body["results"], json!([]));
    let challenge = bob.post("/_matrix/client/v3/account/deactivate", json!({})).await;
    let auth = json!({"type": "m.login.password", "session": challenge.1["session"],
        "identifier": {"type": "m.id.user", "user": "bob"}, "password": "password123"});
    assert_eq!(
        bob.post("/_matrix/client/v3/account/deactivate", json!({"auth": auth})).await.0,
        200
    );
    let (_, body) = alice.post(SEARCH, json!({"search_term": "bob"})).await;
    let ids: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user_id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"@bob:localhost"), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_needs_a_token_and_a_term() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let anon = server.client().post(SEARCH, json!({"search_term": "a"})).await;
    crate::common::assert_error(&anon, 401, "M_MISSING_TOKEN");
    let bad = alice.post(SEARCH, json!({})).await;
    crate::common::assert_error(&bad, 400, "M_BAD_JSON");
}

fn ids(body: &Value) -> Vec<&str> {
    body["results"].as_array().unwrap().iter().map(|r| r["user_id"].as_str().unwrap()).collect()
}

async fn join(user: &User, room: &str) {
    let path = format!("/_matrix/client/v3/rooms/{}/join", enc(room));
    assert_eq!(user.post(&path, json!({})).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_room_mates_and_members_of_public_rooms() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let dave = server.register("dave").await;
    let erin = server.register("erin").await;
    let path = "/_matrix/client/v3/profile/@bob:localhost/displayname";
    assert_eq!(bob.put(path, json!({"displayname": "Robert Zed"})).await.0, 200);
    // Bob shares a private room with alice; carol is alone in a public room; dave is alone
    // in a private room; erin is in a room that stopped being public.
    let private = create_room(&alice, json!({"invite": [bob.user_id]})).await;
    join(&bob, &private).await;
    create_room(&carol, json!({"preset": "public_chat"})).await;
    let dave_room = create_room(&dave, json!({})).await;
    let closed = create_room(&erin, json!({"preset": "public_chat"})).await;
    let rules = format!("/_matrix/client/v3/rooms/{}/state/m.room.join_rules", enc(&closed));
    assert_eq!(erin.put(&rules, json!({"join_rule": "invite"})).await.0, 200);

    // Alice is in no public room: like Synapse, she does not find herself.
    let (status, body) = alice.post(SEARCH, json!({"search_term": "localhost"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), ["@bob:localhost", "@carol:localhost"]);
    assert_eq!(body["limited"], false);
    // By display name, case-insensitively; the profile's name and avatar are shown.
    let (_, body) = alice.post(SEARCH, json!({"search_term": "zED"})).await;
    assert_eq!(ids(&body), ["@bob:localhost"]);
    assert_eq!(body["results"][0]["display_name"], "Robert Zed");
    // Dave sees only public-room members.
    let (_, body) = dave.post(SEARCH, json!({"search_term": "localhost"})).await;
    assert_eq!(ids(&body), ["@carol:localhost"]);
    let (_, body) = alice.post(SEARCH, json!({"search_term": "localhost", "limit": 1})).await;
    assert_eq!(ids(&body).len(), 1);
    assert_eq!(body["limited"], true);
    let (_, body) = alice.post(SEARCH, json!({"search_term": "_"})).await;
    assert_eq!(body["results"], json!([]), "wildcards are literal");

    // Erin's room opens again: she can be found. Bob deactivates: he leaves and is gone.
    assert_eq!(erin.put(&rules, json!({"join_rule": "public"})).await.0, 200);
    let (_, body) = alice.post(SEARCH, json!({"search_term": "erin"})).await;
    assert_eq!(ids(&body), ["@erin:localhost"]);
    // A world-readable room is public too, until its history is shared again.
    let history =
        format!("/_matrix/client/v3/rooms/{}/state/m.room.history_visibility", enc(&dave_room));
    let world_readable = json!({"history_visibility": "world_readable"});
    assert_eq!(dave.put(&history, world_readable).await.0, 200);
    let (_, body) = alice.post(SEARCH, json!({"search_term": "dave"})).await;
    assert_eq!(ids(&body), ["@dave:localhost"]);
    assert_eq!(dave.put(&history, json!({"history_visibility": "shared"})).await.0, 200);
    let (_, body) = alice.post(SEARCH, json!({"search_term": "dave"})).await;
    assert_eq!(body["results"], json!([]));
    let deactivate = "/_matrix/client/v3/account/deactivate";
    let session = bob.post(deactivate, json!({})).await.1["session"].clone();
    let auth = json!({"type": "m.login.password", "session": session,
        "identifier": {"type": "m.id.user", "user": "bob"}, "password": "password123"});
    assert_eq!(bob.post(deactivate, json!({"auth": auth})).await.0, 200);
    let (_, body) = alice.post(SEARCH, json!({"search_term": "bob"})).await;
    assert_eq!(body["results"], json!([]));
}
