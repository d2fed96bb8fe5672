//! `/pushers` and `/pushers/set`: create, update, append, delete, and the errors.

use serde_json::{Value, json};

use crate::common::{TestServer, User, assert_error};

const SET: &str = "/_matrix/client/v3/pushers/set";
const URL: &str = "https://push.example.org/_matrix/push/v1/notify";

pub(crate) fn http_pusher(pushkey: &str, url: &str) -> Value {
    json!({
        "kind": "http",
        "app_id": "org.example.app",
        "app_display_name": "Example",
        "device_display_name": "Phone",
        "pushkey": pushkey,
        "lang": "en",
        "profile_tag": "tag",
        "data": {"url": url, "format": "event_id_only", "custom": 1},
    })
}

async fn pushkeys(user: &User) -> Vec<String> {
    let (status, body) = user.get("/_matrix/client/v3/pushers").await;
    assert_eq!(status, 200, "{body}");
    body["pushers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pushkey"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushers_are_set_listed_and_deleted() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    assert!(pushkeys(&alice).await.is_empty());
    assert_eq!(alice.post(SET, http_pusher("k1", URL)).await.0, 200);
    let (_, body) = alice.get("/_matrix/client/v3/pushers").await;
    let pusher = &body["pushers"][0];
    assert_eq!(pusher["kind"], "http");
    assert_eq!(pusher["app_id"], "org.example.app");
    assert_eq!(pusher["profile_tag"], "tag");
    assert_eq!(pusher["data"], json!({"url": URL, "format": "event_id_only", "custom": 1}));
    // Setting it again updates it in place.
    let mut updated = http_pusher("k1", URL);
    updated["device_display_name"] = json!("Tablet");
    assert_eq!(alice.post(SET, updated).await.0, 200);
    let (_, body) = alice.get("/_matrix/client/v3/pushers").await;
    assert_eq!(body["pushers"].as_array().unwrap().len(), 1);
    assert_eq!(body["pushers"][0]["device_display_name"], "Tablet");
    assert_eq!(alice.post(SET, http_pusher("k2", URL)).await.0, 200);
    assert_eq!(pushkeys(&alice).await, ["k1", "k2"]);

    // `kind: null` deletes (deleting a missing one is fine).
    let delete = json!({"kind": null, "app_id": "org.example.app", "pushkey": "k1"});
    assert_eq!(alice.post(SET, delete.clone()).await.0, 200);
    assert_eq!(pushkeys(&alice).await, ["k2"]);
    assert_eq!(alice.post(SET, delete).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_keeps_other_users_pushers_with_the_same_key() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    assert_eq!(alice.post(SET, http_pusher("shared", URL)).await.0, 200);
    let mut appended = http_pusher("shared", URL);
    appended["append"] = json!(true);
    assert_eq!(bob.post(SET, appended).await.0, 200);
    assert_eq!(pushkeys(&alice).await, ["shared"]);
    assert_eq!(pushkeys(&bob).await, ["shared"]);
    // Without append, the pushkey moves to the new user.
    assert_eq!(alice.post(SET, http_pusher("shared", URL)).await.0, 200);
    assert!(pushkeys(&bob).await.is_empty());
    assert_eq!(pushkeys(&alice).await, ["shared"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pushers_are_refused() {
    let server = TestServer::start_with(|c| c.registration.allow_guests = true).await;
    let alice = server.register("alice").await;
    let bad_path = http_pusher("k", "https://push.example.org/notify");
    assert_error(&alice.post(SET, bad_path).await, 400, "M_MISSING_PARAM");
    let not_http = http_pusher("k", "ftp://push.example.org/_matrix/push/v1/notify");
    assert_error(&alice.post(SET, not_http).await, 400, "M_MISSING_PARAM");
    let mut no_url = http_pusher("k", URL);
    no_url["data"] = json!({});
    assert_eq!(alice.post(SET, no_url).await.0, 400);
    // Email pushers need an email address bound to the account (Synapse's answer).
    let mut email = http_pusher("alice@example.org", URL);
    email["kind"] = json!("email");
    assert_error(&alice.post(SET, email).await, 400, "M_THREEPID_NOT_FOUND");
    let mut other = http_pusher("k", URL);
    other["kind"] = json!("carrier_pigeon");
    assert_error(&alice.post(SET, other).await, 400, "M_INVALID_PARAM");
    let long = http_pusher(&"k".repeat(513), URL);
    assert_error(&alice.post(SET, long).await, 400, "M_INVALID_PARAM");
    let mut missing = http_pusher("k", URL);
    missing.as_object_mut().unwrap().remove("app_display_name");
    assert_error(&alice.post(SET, missing).await, 400, "M_BAD_JSON");
    assert!(pushkeys(&alice).await.is_empty(), "nothing was stored");
    let (_, guest) =
        server.client().post("/_matrix/client/v3/register?kind=guest", json!({})).await;
    let guest = server.client().with_token(guest["access_token"].as_str().unwrap());
    assert_error(&guest.post(SET, http_pusher("k", URL)).await, 403, "M_GUEST_ACCESS_FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_a_device_removes_its_pushers() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let (_, login) = server
        .client()
        .post(
            "/_matrix/client/v3/login",
            json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
                   "password": "password123"}),
        )
        .await;
    let phone = server.client().with_token(login["access_token"].as_str().unwrap());
    assert_eq!(phone.post(SET, http_pusher("phone", URL)).await.0, 200);
    assert_eq!(alice.post(SET, http_pusher("laptop", URL)).await.0, 200);
    assert_eq!(phone.post("/_matrix/client/v3/logout", json!({})).await.0, 200);
    assert_eq!(pushkeys(&alice).await, ["laptop"]);
}
