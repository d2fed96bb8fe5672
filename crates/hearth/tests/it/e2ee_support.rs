//! Account steps the end-to-end encryption tests need: another login, deleting a device and
//! deactivating an account over HTTP, each with its user-interactive auth.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Client, TestServer, User};

/// Log `localpart` in again: a new device.
pub async fn login(server: &TestServer, localpart: &str) -> User {
    let body = json!({
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": localpart},
        "password": "password123",
    });
    let (status, body) = server.client().post("/_matrix/client/v3/login", body).await;
    assert_eq!(status, 200, "{body}");
    User {
        user_id: body["user_id"].as_str().unwrap().into(),
        device_id: body["device_id"].as_str().unwrap().into(),
        client: server.client().with_token(body["access_token"].as_str().unwrap()),
    }
}

/// Run an endpoint behind UIA: the challenge, then the password stage.
async fn with_password(client: &Client, user_id: &str, method: Method, path: &str) -> Value {
    let (status, challenge) = client.request(method.clone(), path, Some(json!({}))).await;
    assert_eq!(status, 401, "{challenge}");
    let auth = json!({"auth": {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user_id},
        "password": "password123",
        "session": challenge["session"],
    }});
    let (status, body) = client.request(method, path, Some(auth)).await;
    assert_eq!(status, 200, "{body}");
    body
}

pub async fn delete_device(user: &User, device_id: &str) {
    let path = format!("/_matrix/client/v3/devices/{device_id}");
    with_password(user, &user.user_id, Method::DELETE, &path).await;
}

pub async fn deactivate(user: &User) {
    let path = "/_matrix/client/v3/account/deactivate";
    with_password(user, &user.user_id, Method::POST, path).await;
}
