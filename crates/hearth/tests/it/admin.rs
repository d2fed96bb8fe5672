//! Server administration: `/admin/whois`.

use serde_json::json;

use crate::common::{TestServer, assert_error};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whois_for_oneself_and_for_admins() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let whois = |user: &str| format!("/_matrix/client/v3/admin/whois/{user}");

    // Oneself: the device in use, with the address, time and user agent it was last seen
    // with (this very request).
    let response = reqwest::Client::builder()
        .user_agent("HearthTest/1.0")
        .build()
        .unwrap()
        .get(format!("{}{}", server.base, whois(&alice.user_id)))
        .bearer_auth(alice.access_token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["user_id"], alice.user_id);
    let devices = body["devices"].as_object().unwrap();
    assert_eq!(devices.len(), 1, "{body}");
    let connection = &devices[&alice.device_id]["sessions"][0]["connections"][0];
    assert_eq!(connection["ip"], "127.0.0.1", "{body}");
    assert!(connection["last_seen"].is_u64(), "{body}");
    assert_eq!(connection["user_agent"], "HearthTest/1.0", "{body}");
    // A request without a user agent keeps the one seen before.
    let (_, body) = alice.get(&whois(&alice.user_id)).await;
    let connection = &body["devices"][&alice.device_id]["sessions"][0]["connections"][0];
    assert_eq!(connection["user_agent"], "HearthTest/1.0", "{body}");

    // Someone else: only a server admin.
    assert_error(&bob.get(&whois(&alice.user_id)).await, 403, "M_FORBIDDEN");
    let admin = "@root:localhost".try_into().unwrap();
    let accounts = &server.services().accounts;
    accounts.create_user(admin, Some("password123".into()), true, false, None).await.unwrap();
    let login = json!({"type": "m.login.password", "password": "password123",
        "identifier": {"type": "m.id.user", "user": "root"}});
    let (_, logged_in) = server.client().post("/_matrix/client/v3/login", login).await;
    let root = server.client().with_token(logged_in["access_token"].as_str().unwrap());
    let (status, body) = root.get(&whois(&alice.user_id)).await;
    assert_eq!((status.as_u16(), &body["user_id"]), (200, &json!(alice.user_id)), "{body}");
    assert_error(&root.get(&whois("@nobody:localhost")).await, 404, "M_NOT_FOUND");
    assert_error(&root.get(&whois("@someone:elsewhere.org")).await, 400, "M_INVALID_PARAM");
    assert_error(&server.client().get(&whois(&alice.user_id)).await, 401, "M_MISSING_TOKEN");
}
