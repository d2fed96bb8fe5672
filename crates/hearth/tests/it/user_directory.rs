//! User directory search.

use serde_json::json;

use crate::common::TestServer;

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
