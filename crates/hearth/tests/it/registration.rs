//! Registration: UIA flows, open/closed/token-gated, username rules, guests, inhibit_login,
//! rate limits.

use serde_json::json;

use crate::common::{TestServer, assert_error};

const REGISTER: &str = "/_matrix/client/v3/register";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_registration_offers_dummy_then_registers() {
    let server = TestServer::start().await;
    let client = server.client();
    let first =
        client.post(REGISTER, json!({"username": "alice", "password": "password123"})).await;
    assert_eq!(first.0, 401, "{}", first.1);
    assert_eq!(first.1["flows"], json!([{"stages": ["m.login.dummy"]}]));
    let session = first.1["session"].as_str().expect("session").to_owned();
    assert!(first.1.get("errcode").is_none(), "no error before any attempt: {}", first.1);

    let (status, body) = client
        .post(
            REGISTER,
            json!({
                "username": "Alice",
                "password": "password123",
                "initial_device_display_name": "phone",
                "auth": {"type": "m.login.dummy", "session": session}
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], "@alice:localhost", "usernames are lowercased");
    let token = body["access_token"].as_str().unwrap();
    let (status, who) = client.with_token(token).get("/_matrix/client/v3/account/whoami").await;
    assert_eq!(status, 200);
    assert_eq!(who["device_id"], body["device_id"]);

    // Repeating the last request gives the same account, logged in again (Synapse).
    let (status, again) = client
        .post(
            REGISTER,
            json!({"username": "alice", "password": "password123",
                   "auth": {"type": "m.login.dummy", "session": session}}),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["user_id"], "@alice:localhost");
    assert_ne!(again["access_token"], body["access_token"]);
    // The session registered alice; it cannot register someone else.
    let again = client
        .post(
            REGISTER,
            json!({"username": "bob", "password": "password123",
                   "auth": {"type": "m.login.dummy", "session": session}}),
        )
        .await;
    assert_error(&again, 403, "M_FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn later_uia_rounds_may_omit_the_parameters() {
    let server = TestServer::start().await;
    let client = server.client();
    let first =
        client.post(REGISTER, json!({"username": "carol", "password": "password123"})).await;
    let session = first.1["session"].as_str().unwrap();
    let (status, body) =
        client.post(REGISTER, json!({"auth": {"type": "m.login.dummy", "session": session}})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], "@carol:localhost");

    // Every parameter is remembered: the device, its name, and `inhibit_login`.
    let first = client
        .post(
            REGISTER,
            json!({"username": "dan", "password": "password123", "device_id": "XYZZY",
                   "initial_device_display_name": "laptop"}),
        )
        .await;
    let auth = json!({"auth": {"type": "m.login.dummy", "session": first.1["session"]}});
    let (status, body) = client.post(REGISTER, auth).await;
    assert_eq!((status.as_u16(), &body["device_id"]), (200, &json!("XYZZY")), "{body}");
    let dan = client.with_token(body["access_token"].as_str().unwrap());
    let (_, device) = dan.get("/_matrix/client/v3/devices/XYZZY").await;
    assert_eq!(device["display_name"], "laptop");

    let first = client
        .post(REGISTER, json!({"username": "ed", "password": "password123", "inhibit_login": true}))
        .await;
    let auth = json!({"auth": {"type": "m.login.dummy", "session": first.1["session"]}});
    let (status, body) = client.post(REGISTER, auth).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"user_id": "@ed:localhost"}), "no device, no token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_without_username_is_idempotent() {
    let server = TestServer::start().await;
    let client = server.client();
    let first = client.post(REGISTER, json!({"password": "password123"})).await;
    let request = json!({"password": "password123",
                         "auth": {"type": "m.login.dummy", "session": first.1["session"]}});
    let (status, one) = client.post(REGISTER, request.clone()).await;
    assert_eq!(status, 200, "{one}");
    let (status, two) = client.post(REGISTER, request).await;
    assert_eq!(status, 200, "{two}");
    assert_eq!(one["user_id"], two["user_id"]);
    assert!(two["access_token"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_registration_is_forbidden() {
    let server = TestServer::start_with(|c| c.registration.enabled = Some(false)).await;
    let response = server
        .client()
        .post(
            REGISTER,
            json!({"username": "x", "password": "password123",
                               "auth": {"type": "m.login.dummy"}}),
        )
        .await;
    assert_error(&response, 403, "M_FORBIDDEN");
    let validity = server
        .client()
        .get("/_matrix/client/v1/register/m.login.registration_token/validity?token=abc")
        .await;
    assert_error(&validity, 403, "M_FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn username_rules_and_availability() {
    let server = TestServer::start().await;
    server.register("taken").await;
    let client = server.client();
    let available = |name: &str| format!("/_matrix/client/v3/register/available?username={name}");
    let (status, body) = client.get(&available("free")).await;
    assert_eq!((status.as_u16(), body["available"].clone()), (200, json!(true)));
    assert_error(&client.get(&available("taken")).await, 400, "M_USER_IN_USE");
    assert_error(&client.get(&available("TAKEN")).await, 400, "M_USER_IN_USE");
    for bad in ["b%20d", "b%21d", "_reserved", "12345", "%C3%A9"] {
        assert_error(&client.get(&available(bad)).await, 400, "M_INVALID_USERNAME");
    }
    // Refused before UIA starts.
    let in_use =
        client.post(REGISTER, json!({"username": "taken", "password": "password123"})).await;
    assert_error(&in_use, 400, "M_USER_IN_USE");
    let invalid =
        client.post(REGISTER, json!({"username": "no way", "password": "password123"})).await;
    assert_error(&invalid, 400, "M_INVALID_USERNAME");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_and_missing_passwords() {
    let server = TestServer::start().await;
    let client = server.client();
    let weak = client
        .post(
            REGISTER,
            json!({"username": "dave", "password": "short",
                               "auth": {"type": "m.login.dummy"}}),
        )
        .await;
    assert_error(&weak, 400, "M_WEAK_PASSWORD");
    let missing =
        client.post(REGISTER, json!({"username": "dave", "auth": {"type": "m.login.dummy"}})).await;
    assert_error(&missing, 400, "M_MISSING_PARAM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inhibit_login_returns_no_token_and_no_username_gets_one() {
    let server = TestServer::start().await;
    let (status, body) = server
        .client()
        .post(
            REGISTER,
            json!({"username": "erin", "password": "password123", "inhibit_login": true,
                   "auth": {"type": "m.login.dummy"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], "@erin:localhost");
    assert!(body.get("access_token").is_none(), "{body}");

    let (status, body) = server
        .client()
        .post(REGISTER, json!({"password": "password123", "auth": {"type": "m.login.dummy"}}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["user_id"].as_str().unwrap().ends_with(":localhost"));
    assert!(body["access_token"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_gated_registration() {
    let server = TestServer::start_with(|c| {
        c.registration.enabled = Some(false);
        c.registration.require_token = true;
    })
    .await;
    let token = server.create_registration_token(Some(1)).await;
    let client = server.client();
    let validity = |t: &str| {
        format!("/_matrix/client/v1/register/m.login.registration_token/validity?token={t}")
    };
    assert_eq!(client.get(&validity(&token)).await.1["valid"], true);
    assert_eq!(client.get(&validity("nope")).await.1["valid"], false);

    let first = client.post(REGISTER, json!({"username": "gina", "password": "password123"})).await;
    assert_eq!(first.0, 401);
    assert_eq!(first.1["flows"], json!([{"stages": ["m.login.registration_token"]}]));
    let session = first.1["session"].as_str().unwrap().to_owned();

    // Skipping the stage does not work.
    let dummy = client
        .post(
            REGISTER,
            json!({"username": "gina", "password": "password123",
                               "auth": {"type": "m.login.dummy", "session": session}}),
        )
        .await;
    assert_eq!(dummy.0, 401);
    assert_eq!(dummy.1["errcode"], "M_FORBIDDEN");

    let wrong = client
        .post(
            REGISTER,
            json!({"username": "gina", "password": "password123",
                   "auth": {"type": "m.login.registration_token", "token": "nope", "session": session}}),
        )
        .await;
    assert_eq!(wrong.0, 401);
    assert_eq!(wrong.1["errcode"], "M_UNAUTHORIZED");
    assert_eq!(wrong.1["session"], session.as_str());

    let (status, body) = client
        .post(
            REGISTER,
            json!({"username": "gina", "password": "password123",
                   "auth": {"type": "m.login.registration_token", "token": token, "session": session}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Its one use is spent.
    assert_eq!(client.get(&validity(&token)).await.1["valid"], false);
    let reuse = client
        .post(
            REGISTER,
            json!({"username": "hank", "password": "password123",
                   "auth": {"type": "m.login.registration_token", "token": token}}),
        )
        .await;
    assert_eq!(reuse.0, 401, "{}", reuse.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_only_when_allowed() {
    let server = TestServer::start().await;
    let guest = server.client().post(&format!("{REGISTER}?kind=guest"), json!({})).await;
    assert_error(&guest, 403, "M_FORBIDDEN");

    let server = TestServer::start_with(|c| c.registration.allow_guests = true).await;
    let (status, body) = server
        .client()
        .post(
            &format!("{REGISTER}?kind=guest"),
            json!({"username": "ignored", "device_id": "IGNORED", "initial_device_display_name": "tab"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let user_id = body["user_id"].as_str().unwrap();
    assert!(
        user_id[1..].split(':').next().unwrap().bytes().all(|b| b.is_ascii_digit()),
        "{user_id}"
    );
    assert_ne!(body["device_id"], "IGNORED");
    let token = body["access_token"].as_str().unwrap();
    let (_, who) = server.client().with_token(token).get("/_matrix/client/v3/account/whoami").await;
    assert_eq!(who["is_guest"], true);
    // Guests are named after their localpart too (Synapse).
    let (_, name) =
        server.client().get(&format!("/_matrix/client/v3/profile/{user_id}/displayname")).await;
    assert_eq!(name["displayname"], user_id[1..].split(':').next().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_upgrade_to_full_accounts() {
    let server = TestServer::start_with(|c| c.registration.allow_guests = true).await;
    let guest = |_| async {
        let (_, body) = server.client().post(&format!("{REGISTER}?kind=guest"), json!({})).await;
        let user_id = body["user_id"].as_str().unwrap().to_owned();
        let localpart = user_id[1..].split(':').next().unwrap().to_owned();
        (localpart, body["access_token"].as_str().unwrap().to_owned())
    };
    let (one, one_token) = guest(1).await;
    let (_, two_token) = guest(2).await;
    let client = server.client();
    // Another guest's token does not upgrade this one; nor does a full user's.
    let other = client
        .post(
            REGISTER,
            json!({"username": one, "password": "password123", "guest_access_token": two_token,
                   "auth": {"type": "m.login.dummy"}}),
        )
        .await;
    assert_error(&other, 400, "M_USER_IN_USE");
    let alice = server.register("alice").await;
    let full = client
        .post(
            REGISTER,
            json!({"username": "alice", "password": "password123",
                   "guest_access_token": alice.access_token(), "auth": {"type": "m.login.dummy"}}),
        )
        .await;
    assert_error(&full, 400, "M_USER_IN_USE");

    let (status, body) = client
        .post(
            REGISTER,
            json!({"username": one, "password": "password123", "guest_access_token": one_token,
                   "auth": {"type": "m.login.dummy"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], format!("@{one}:localhost"));
    let upgraded = client.with_token(body["access_token"].as_str().unwrap());
    let (_, who) = upgraded.get("/_matrix/client/v3/account/whoami").await;
    assert_ne!(who["is_guest"], true, "{who}");
    // A full account now: it can log in with its password and create rooms.
    let login = json!({"type": "m.login.password", "password": "password123",
                       "identifier": {"type": "m.id.user", "user": one}});
    assert_eq!(client.post("/_matrix/client/v3/login", login).await.0, 200);
    let (status, _) = upgraded.post("/_matrix/client/v3/createRoom", json!({})).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_is_rate_limited_per_ip() {
    let server = TestServer::start_with(|c| {
        c.rate_limits.enabled = true;
        c.rate_limits.registration_per_ip =
            hearth_core::config::Rate { per_second: 0.01, burst: 2 };
    })
    .await;
    let client = server.client();
    for name in ["r1", "r2"] {
        let (status, body) = client
            .post(
                REGISTER,
                json!({"username": name, "password": "password123",
                                   "auth": {"type": "m.login.dummy"}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let limited = client
        .post(
            REGISTER,
            json!({"username": "r3", "password": "password123",
                               "auth": {"type": "m.login.dummy"}}),
        )
        .await;
    assert_error(&limited, 429, "M_LIMIT_EXCEEDED");
    assert!(limited.1["retry_after_ms"].as_u64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_threepid_registration_tokens() {
    let server = TestServer::start().await;
    let body = json!({"client_secret": "secret", "email": "a@example.org", "send_attempt": 1});
    let response =
        server.client().post("/_matrix/client/v3/register/email/requestToken", body).await;
    assert_error(&response, 403, "M_THREEPID_DENIED");
}
