//! Login flows, password and token login, logout, refresh tokens, rate limits.

use serde_json::{Value, json};

use crate::common::{Client, TestServer, assert_error};

const LOGIN: &str = "/_matrix/client/v3/login";
const WHOAMI: &str = "/_matrix/client/v3/account/whoami";

fn password_login(user: &str, password: &str) -> Value {
    json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
           "password": password})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_flows() {
    let server = TestServer::start().await;
    let (status, body) = server.client().get(LOGIN).await;
    assert_eq!(status, 200);
    let flows = body["flows"].as_array().unwrap();
    assert!(flows.iter().any(|f| f["type"] == "m.login.password"));
    assert!(flows.iter().any(|f| f["type"] == "m.login.token" && f["get_login_token"] == true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_login_by_localpart_full_id_and_legacy_user_field() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let client = server.client();
    for user in ["alice", "ALICE", "@alice:localhost", "@Alice:localhost"] {
        let (status, body) = client.post(LOGIN, password_login(user, "password123")).await;
        assert_eq!(status, 200, "{user}: {body}");
        assert_eq!(body["user_id"], "@alice:localhost");
    }
    let legacy = json!({"type": "m.login.password", "user": "alice", "password": "password123"});
    let (status, body) = client.post(LOGIN, legacy).await;
    assert_eq!(status, 200, "{body}");

    // A device ID of the client's choosing, with its display name.
    let mut body = password_login("alice", "password123");
    body["device_id"] = json!("MYDEVICE");
    body["initial_device_display_name"] = json!("laptop");
    let (status, res) = client.post(LOGIN, body).await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["device_id"], "MYDEVICE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins() {
    let server = TestServer::start().await;
    server.register("bob").await;
    let client = server.client();
    assert_error(
        &client.post(LOGIN, password_login("bob", "wrong-password")).await,
        403,
        "M_FORBIDDEN",
    );
    assert_error(
        &client.post(LOGIN, password_login("nobody", "password123")).await,
        403,
        "M_FORBIDDEN",
    );
    assert_error(
        &client.post(LOGIN, password_login("@bob:elsewhere.org", "password123")).await,
        403,
        "M_FORBIDDEN",
    );
    let threepid = json!({"type": "m.login.password", "password": "password123",
        "identifier": {"type": "m.id.thirdparty", "medium": "email", "address": "b@x.org"}});
    assert_error(&client.post(LOGIN, threepid).await, 403, "M_FORBIDDEN");
    let no_user = json!({"type": "m.login.password", "password": "password123"});
    assert_error(&client.post(LOGIN, no_user).await, 400, "M_MISSING_PARAM");
    let unknown_type = json!({"type": "m.login.magic"});
    assert_error(&client.post(LOGIN, unknown_type).await, 400, "M_UNKNOWN");
    let bad_token = json!({"type": "m.login.token", "token": "nope"});
    assert_error(&client.post(LOGIN, bad_token).await, 403, "M_FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_and_logout_all() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let second = login(&server.client(), "alice").await;
    let third = login(&server.client(), "alice").await;

    let (status, _) = alice.post("/_matrix/client/v3/logout", json!({})).await;
    assert_eq!(status, 200);
    assert_error(&alice.get(WHOAMI).await, 401, "M_UNKNOWN_TOKEN");
    assert_eq!(second.get(WHOAMI).await.0, 200, "other sessions are untouched");
    let (_, devices) = second.get("/_matrix/client/v3/devices").await;
    let ids: Vec<&str> = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device_id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&alice.device_id.as_str()), "logout deletes the device: {ids:?}");

    let (status, _) = second.post("/_matrix/client/v3/logout/all", json!({})).await;
    assert_eq!(status, 200);
    assert_error(&second.get(WHOAMI).await, 401, "M_UNKNOWN_TOKEN");
    assert_error(&third.get(WHOAMI).await, 401, "M_UNKNOWN_TOKEN");
    assert_error(
        &server.client().post("/_matrix/client/v3/logout", json!({})).await,
        401,
        "M_MISSING_TOKEN",
    );
}

async fn login(client: &Client, user: &str) -> Client {
    let (status, body) = client.post(LOGIN, password_login(user, "password123")).await;
    assert_eq!(status, 200, "{body}");
    client.with_token(body["access_token"].as_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_token_from_get_token() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let path = "/_matrix/client/v1/login/get_token";
    let challenge = alice.post(path, json!({})).await;
    assert_eq!(challenge.0, 401);
    assert_eq!(challenge.1["flows"], json!([{"stages": ["m.login.password"]}]));
    let session = challenge.1["session"].as_str().unwrap();
    let (status, body) = alice
        .post(
            path,
            json!({"auth": {"type": "m.login.password", "session": session,
            "identifier": {"type": "m.id.user", "user": "alice"}, "password": "password123"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["expires_in_ms"].as_u64().unwrap() > 0);
    let token = body["login_token"].as_str().unwrap();

    let login = json!({"type": "m.login.token", "token": token});
    let (status, body) = server.client().post(LOGIN, login.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], "@alice:localhost");
    assert_error(&server.client().post(LOGIN, login).await, 403, "M_FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_rotate() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let mut body = password_login("alice", "password123");
    body["refresh_token"] = json!(true);
    let (status, login) = server.client().post(LOGIN, body).await;
    assert_eq!(status, 200, "{login}");
    assert!(login["expires_in_ms"].as_u64().unwrap() > 0);
    let refresh1 = login["refresh_token"].as_str().unwrap().to_owned();
    let access1 = login["access_token"].as_str().unwrap().to_owned();

    let client = server.client();
    let refresh = |token: &str| {
        let body = json!({"refresh_token": token});
        let client = client.clone();
        async move { client.post("/_matrix/client/v3/refresh", body).await }
    };
    let (status, r2) = refresh(&refresh1).await;
    assert_eq!(status, 200, "{r2}");
    let refresh2 = r2["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh1);
    // The answer may have been lost: the old refresh token still works until the new tokens
    // are used, and replaces the unused ones.
    let (status, r2b) = refresh(&refresh1).await;
    assert_eq!(status, 200, "{r2b}");
    assert_error(&refresh(&refresh2).await, 401, "M_UNKNOWN_TOKEN");
    let access2 = r2b["access_token"].as_str().unwrap();
    let refresh2 = r2b["refresh_token"].as_str().unwrap();
    let client2 = server.client().with_token(access2);
    let (status, who) = client2.get(WHOAMI).await;
    assert_eq!(status, 200);
    assert_eq!(who["device_id"], login["device_id"], "same device");
    assert_error(&server.client().with_token(&access1).get(WHOAMI).await, 401, "M_UNKNOWN_TOKEN");
    // The new access token was used: the spent refresh token is gone.
    let spent = refresh(&refresh1).await;
    assert_error(&spent, 401, "M_UNKNOWN_TOKEN");
    assert_ne!(spent.1["soft_logout"], true);
    assert_eq!(refresh(refresh2).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_access_token_is_a_soft_logout() {
    let server = TestServer::start_with(|c| c.login.access_token_lifetime_secs = 0).await;
    server.register("alice").await;
    let mut body = password_login("alice", "password123");
    body["refresh_token"] = json!(true);
    let (_, login) = server.client().post(LOGIN, body).await;
    let expired =
        server.client().with_token(login["access_token"].as_str().unwrap()).get(WHOAMI).await;
    assert_error(&expired, 401, "M_UNKNOWN_TOKEN");
    assert_eq!(expired.1["soft_logout"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_is_rate_limited_per_ip_and_per_account() {
    use hearth_core::config::Rate;
    let server = TestServer::start_with(|c| {
        c.rate_limits.enabled = true;
        c.rate_limits.login_per_ip = Rate { per_second: 0.01, burst: 3 };
        c.rate_limits.login_per_account = Rate { per_second: 0.01, burst: 2 };
    })
    .await;
    let client = server.client();
    assert_error(&client.post(LOGIN, password_login("carol", "wrong")).await, 403, "M_FORBIDDEN");
    assert_error(&client.post(LOGIN, password_login("carol", "wrong")).await, 403, "M_FORBIDDEN");
    let per_account = client.post(LOGIN, password_login("carol", "wrong")).await;
    assert_error(&per_account, 429, "M_LIMIT_EXCEEDED");
    let per_ip = client.post(LOGIN, password_login("dan", "wrong")).await;
    assert_error(&per_ip, 429, "M_LIMIT_EXCEEDED");
    assert!(per_ip.1["retry_after_ms"].as_u64().unwrap() > 0);
}
