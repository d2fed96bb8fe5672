//! Device management: list, get, rename, delete with user-interactive auth.

use serde_json::{Value, json};

use crate::common::{TestServer, User, assert_error};

fn password_auth(user: &str, password: &str, session: &str) -> Value {
    json!({"type": "m.login.password", "session": session,
           "identifier": {"type": "m.id.user", "user": user}, "password": password})
}

async fn second_device(server: &TestServer, id: &str) -> crate::common::Client {
    let body = json!({"type": "m.login.password", "device_id": id,
        "identifier": {"type": "m.id.user", "user": "alice"}, "password": "password123"});
    let (status, res) = server.client().post("/_matrix/client/v3/login", body).await;
    assert_eq!(status, 200, "{res}");
    server.client().with_token(res["access_token"].as_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_get_and_rename_devices() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let (status, body) = alice.get("/_matrix/client/v3/devices").await;
    assert_eq!(status, 200);
    let devices = body["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["device_id"], alice.device_id.as_str());
    assert_eq!(devices[0]["last_seen_ip"], "127.0.0.1");
    assert!(devices[0]["last_seen_ts"].as_u64().unwrap() > 0);

    let path = format!("/_matrix/client/v3/devices/{}", alice.device_id);
    let (status, _) = alice.put(&path, json!({"display_name": "My phone"})).await;
    assert_eq!(status, 200);
    let (status, device) = alice.get(&path).await;
    assert_eq!(status, 200);
    assert_eq!(device["display_name"], "My phone");
    // No display name: unchanged.
    assert_eq!(alice.put(&path, json!({})).await.0, 200);
    assert_eq!(alice.get(&path).await.1["display_name"], "My phone");

    assert_error(&alice.get("/_matrix/client/v3/devices/NOPE").await, 404, "M_NOT_FOUND");
    assert_error(
        &alice.put("/_matrix/client/v3/devices/NOPE", json!({"display_name": "x"})).await,
        404,
        "M_NOT_FOUND",
    );
    let long = json!({"display_name": "x".repeat(101)});
    assert_error(&alice.put(&path, long).await, 413, "M_TOO_LARGE");

    // Other users' devices are invisible.
    let bob = server.register("bob").await;
    assert_error(&bob.get(&path).await, 404, "M_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_device_needs_uia_and_revokes_its_token() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let other = second_device(&server, "OTHER").await;
    let path = "/_matrix/client/v3/devices/OTHER";

    let challenge = alice.delete(path).await;
    assert_eq!(challenge.0, 401, "{}", challenge.1);
    assert_eq!(challenge.1["flows"], json!([{"stages": ["m.login.password"]}]));
    let session = challenge.1["session"].as_str().unwrap();

    let wrong = alice
        .request(
            reqwest::Method::DELETE,
            path,
            Some(json!({"auth": password_auth("alice", "nope", session)})),
        )
        .await;
    assert_eq!(wrong.0, 401);
    assert_eq!(wrong.1["errcode"], "M_FORBIDDEN");
    assert_eq!(wrong.1["session"], session);
    assert_eq!(wrong.1["params"], json!({}), "params is always there: {}", wrong.1);

    // Another user's password does not confirm alice's action: a plain 403 (Synapse), the
    // device stays.
    server.register("mallory").await;
    let mallory = alice
        .request(
            reqwest::Method::DELETE,
            path,
            Some(json!({"auth": password_auth("mallory", "password123", session)})),
        )
        .await;
    assert_error(&mallory, 403, "M_FORBIDDEN");
    assert!(mallory.1.get("flows").is_none(), "not a UIA challenge: {}", mallory.1);
    assert_eq!(alice.get(path).await.0, 200);

    let ok = alice
        .request(
            reqwest::Method::DELETE,
            path,
            Some(json!({"auth": password_auth("alice", "password123", session)})),
        )
        .await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    assert_error(&other.get("/_matrix/client/v3/account/whoami").await, 401, "M_UNKNOWN_TOKEN");
    assert_error(&alice.get(path).await, 404, "M_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_delete_devices() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let one = second_device(&server, "ONE").await;
    let two = second_device(&server, "TWO").await;
    // Tokens in use (and so remembered by the server) stop working the moment they go.
    for client in [&one, &two] {
        assert_eq!(client.get("/_matrix/client/v3/account/whoami").await.0, 200);
    }
    let body = json!({"devices": ["ONE", "TWO", "NEVER_EXISTED"]});
    let challenge = alice.post("/_matrix/client/v3/delete_devices", body.clone()).await;
    assert_eq!(challenge.0, 401);
    let mut body = body;
    body["auth"] =
        password_auth("@alice:localhost", "password123", challenge.1["session"].as_str().unwrap());
    let (status, res) = alice.post("/_matrix/client/v3/delete_devices", body).await;
    assert_eq!(status, 200, "{res}");
    for client in [one, two] {
        assert_error(
            &client.get("/_matrix/client/v3/account/whoami").await,
            401,
            "M_UNKNOWN_TOKEN",
        );
    }
    let (_, devices) = alice.get("/_matrix/client/v3/devices").await;
    assert_eq!(devices["devices"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uia_sessions_are_bound_to_their_operation() {
    let server = TestServer::start().await;
    let alice: User = server.register("alice").await;
    let challenge = alice.post("/_matrix/client/v3/delete_devices", json!({"devices": []})).await;
    let session = challenge.1["session"].as_str().unwrap();
    let reuse = alice
        .post(
            "/_matrix/client/v3/account/deactivate",
            json!({"auth": password_auth("alice", "password123", session)}),
        )
        .await;
    assert_error(&reuse, 403, "M_FORBIDDEN");
    let unknown = alice
        .post(
            "/_matrix/client/v3/delete_devices",
            json!({"devices": [], "auth": password_auth("alice", "password123", "nosuchsession")}),
        )
        .await;
    assert_error(&unknown, 403, "M_FORBIDDEN");
    // Out-of-flow stage types are refused with the challenge.
    let dummy = alice
        .post(
            "/_matrix/client/v3/delete_devices",
            json!({"devices": [], "auth": {"type": "m.login.dummy", "session": session}}),
        )
        .await;
    assert_eq!(dummy.0, 401);
    assert_eq!(dummy.1["errcode"], "M_FORBIDDEN");
    assert_eq!(dummy.1["completed"], json!([]), "always listed: {}", dummy.1);

    // A session started to delete one device does not delete another (Synapse: the
    // operation must not change midway).
    second_device(&server, "ONE").await;
    second_device(&server, "TWO").await;
    let challenge = alice.delete("/_matrix/client/v3/devices/ONE").await;
    let session = challenge.1["session"].as_str().unwrap();
    let other = alice
        .request(
            reqwest::Method::DELETE,
            "/_matrix/client/v3/devices/TWO",
            Some(json!({"auth": password_auth("alice", "password123", session)})),
        )
        .await;
    assert_error(&other, 403, "M_FORBIDDEN");
    assert_eq!(alice.get("/_matrix/client/v3/devices/TWO").await.0, 200);
}
