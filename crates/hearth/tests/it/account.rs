//! Account management: password change, deactivation, third-party identifiers.

use serde_json::{Value, json};

use crate::common::{TestServer, assert_error};

const LOGIN: &str = "/_matrix/client/v3/login";
const WHOAMI: &str = "/_matrix/client/v3/account/whoami";

fn password_auth(password: &str, session: &str) -> Value {
    json!({"type": "m.login.password", "session": session,
           "identifier": {"type": "m.id.user", "user": "alice"}, "password": password})
}

fn login_body(password: &str) -> Value {
    json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
           "password": password})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_password_logs_out_other_devices() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let (_, other) = server.client().post(LOGIN, login_body("password123")).await;
    let other = server.client().with_token(other["access_token"].as_str().unwrap());

    let path = "/_matrix/client/v3/account/password";
    let weak = alice.post(path, json!({"new_password": "short"})).await;
    assert_error(&weak, 400, "M_WEAK_PASSWORD");
    let challenge = alice.post(path, json!({"new_password": "new-password"})).await;
    assert_eq!(challenge.0, 401);
    let session = challenge.1["session"].as_str().unwrap();
    let (status, body) = alice
        .post(
            path,
            json!({"new_password": "new-password", "auth": password_auth("password123", session)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    assert_eq!(alice.get(WHOAMI).await.0, 200, "the current device stays");
    assert_error(&other.get(WHOAMI).await, 401, "M_UNKNOWN_TOKEN");
    assert_error(&server.client().post(LOGIN, login_body("password123")).await, 403, "M_FORBIDDEN");
    assert_eq!(server.client().post(LOGIN, login_body("new-password")).await.0, 200);

    // Without a token the user cannot be known (3PID resets are not supported).
    let anonymous = server.client().post(path, json!({"new_password": "new-password"})).await;
    assert_error(&anonymous, 401, "M_MISSING_TOKEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_password_can_keep_other_devices() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let (_, other) = server.client().post(LOGIN, login_body("password123")).await;
    let other = server.client().with_token(other["access_token"].as_str().unwrap());
    let path = "/_matrix/client/v3/account/password";
    let challenge = alice.post(path, json!({"new_password": "new-password"})).await;
    let session = challenge.1["session"].as_str().unwrap();
    let body = json!({"new_password": "new-password", "logout_devices": false,
                      "auth": password_auth("password123", session)});
    assert_eq!(alice.post(path, body).await.0, 200);
    assert_eq!(other.get(WHOAMI).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let path = "/_matrix/client/v3/account/deactivate";
    let challenge = alice.post(path, json!({})).await;
    assert_eq!(challenge.0, 401);
    let session = challenge.1["session"].as_str().unwrap();
    let wrong = alice.post(path, json!({"auth": password_auth("wrong", session)})).await;
    assert_eq!(wrong.0, 401);
    assert_eq!(wrong.1["errcode"], "M_FORBIDDEN");
    assert_eq!(alice.get(WHOAMI).await.0, 200, "a failed attempt changes nothing");

    let (status, body) =
        alice.post(path, json!({"auth": password_auth("password123", session)})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id_server_unbind_result"], "no-support");
    assert_error(&alice.get(WHOAMI).await, 401, "M_UNKNOWN_TOKEN");
    assert_error(
        &server.client().post(LOGIN, login_body("password123")).await,
        403,
        "M_USER_DEACTIVATED",
    );
    // The name stays taken.
    let available =
        server.client().get("/_matrix/client/v3/register/available?username=alice").await;
    assert_error(&available, 400, "M_USER_IN_USE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_guests_may_do() {
    let server = TestServer::start_with(|c| c.registration.allow_guests = true).await;
    let (_, guest) =
        server.client().post("/_matrix/client/v3/register?kind=guest", json!({})).await;
    let user_id = guest["user_id"].as_str().unwrap().to_owned();
    let guest = server.client().with_token(guest["access_token"].as_str().unwrap());
    let forbidden = "M_GUEST_ACCESS_FORBIDDEN";
    for path in ["/_matrix/client/v3/account/deactivate", "/_matrix/client/v3/account/password"] {
        let response = guest.post(path, json!({"new_password": "password123"})).await;
        assert_error(&response, 403, forbidden);
    }
    assert_error(
        &guest.post("/_matrix/client/v3/delete_devices", json!({"devices": []})).await,
        403,
        forbidden,
    );
    assert_error(
        &guest.post("/_matrix/client/v1/login/get_token", json!({})).await,
        403,
        forbidden,
    );
    let data = format!("/_matrix/client/v3/user/{user_id}/account_data/com.example.x");
    assert_error(&guest.put(&data, json!({})).await, 403, forbidden);

    // Allowed: their display name, their devices, whoami.
    let profile = format!("/_matrix/client/v3/profile/{user_id}");
    let name = guest.put(&format!("{profile}/displayname"), json!({"displayname": "Guest"})).await;
    assert_eq!(name.0, 200, "{}", name.1);
    let avatar = json!({"avatar_url": "mxc://localhost/a"});
    assert_error(&guest.put(&format!("{profile}/avatar_url"), avatar).await, 403, forbidden);
    assert_eq!(guest.get("/_matrix/client/v3/devices").await.0, 200);
    assert_eq!(guest.get(WHOAMI).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_party_identifiers_are_not_supported() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let (status, body) = alice.get("/_matrix/client/v3/account/3pid").await;
    assert_eq!(status, 200);
    assert!(body["threepids"].as_array().is_none_or(|t| t.is_empty()), "{body}");
    let token = json!({"client_secret": "secret", "email": "a@example.org", "send_attempt": 1});
    assert_error(
        &alice.post("/_matrix/client/v3/account/3pid/email/requestToken", token.clone()).await,
        400,
        "M_THREEPID_MEDIUM_NOT_SUPPORTED",
    );
    assert_error(
        &server
            .client()
            .post("/_matrix/client/v3/account/password/email/requestToken", token)
            .await,
        403,
        "M_THREEPID_DENIED",
    );
    let add = json!({"client_secret": "secret", "sid": "1"});
    assert_error(
        &alice.post("/_matrix/client/v3/account/3pid/add", add).await,
        400,
        "M_THREEPID_AUTH_FAILED",
    );
    let bind = json!({"client_secret": "s", "sid": "1", "id_server": "id.example.org", "id_access_token": "t"});
    assert_error(
        &alice.post("/_matrix/client/v3/account/3pid/bind", bind).await,
        400,
        "M_SERVER_NOT_TRUSTED",
    );
    let threepid = json!({"medium": "email", "address": "a@example.org"});
    assert_error(
        &alice.post("/_matrix/client/v3/account/3pid/delete", threepid.clone()).await,
        400,
        "M_THREEPID_NOT_FOUND",
    );
    let (status, body) = alice.post("/_matrix/client/v3/account/3pid/unbind", threepid).await;
    assert_eq!(status, 200);
    assert_eq!(body["id_server_unbind_result"], "no-support");
}

/// Sends a message as `user` in `room`; returns its event ID.
async fn say(user: &crate::common::User, room: &str, body: &str) -> String {
    let url = format!("/_matrix/client/v3/rooms/{room}/send/m.room.message/{body}");
    let (status, sent) = user.put(&url, json!({"msgtype": "m.text", "body": body})).await;
    assert_eq!(status, 200, "{sent}");
    sent["event_id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_hides_messages_from_later_members_only() {
    use crate::rooms::{create_room, enc};
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let room_id = create_room(&alice, json!({"preset": "public_chat"})).await;
    let room = enc(&room_id);
    assert_eq!(bob.post(&format!("/_matrix/client/v3/rooms/{room}/join"), json!({})).await.0, 200);
    let message = say(&alice, &room, "secret").await;
    // Carol joins after the message and sees it, in full, until the erasure.
    assert_eq!(
        carol.post(&format!("/_matrix/client/v3/rooms/{room}/join"), json!({})).await.0,
        200
    );
    let synced = |user: &'static str, body: Value| {
        let timeline = &body["rooms"]["join"][&room_id]["timeline"]["events"];
        let event = timeline.as_array().unwrap().iter().find(|e| e["event_id"] == message);
        let content = event.map(|e| e["content"].clone());
        assert!(content.is_some(), "{user}: {body}");
        content.unwrap()
    };
    let (_, body) = carol.get("/_matrix/client/v3/sync").await;
    assert_eq!(synced("carol", body)["body"], "secret");
    let data = format!("/_matrix/client/v3/user/{}", alice.user_id);
    let global = alice.put(&format!("{data}/account_data/org.example.a"), json!({"a": 1})).await;
    assert_eq!(global.0, 200, "{}", global.1);
    let tag = alice.put(&format!("{data}/rooms/{room}/tags/u.work"), json!({})).await;
    assert_eq!(tag.0, 200, "{}", tag.1);

    let path = "/_matrix/client/v3/account/deactivate";
    let session = alice.post(path, json!({})).await.1["session"].clone();
    let auth = password_auth("password123", session.as_str().unwrap());
    let (status, body) = alice.post(path, json!({"auth": auth, "erase": true})).await;
    assert_eq!(status, 200, "{body}");
    // Their account data is gone, global and per room.
    let storage = &server.services().ctx.storage;
    let alice_id = ruma::UserId::parse(&alice.user_id).unwrap();
    assert!(storage.account_data_changes(&alice_id, 0, i64::MAX).await.unwrap().is_empty());

    // Bob was there: he keeps the message. Carol joined later: she sees it redacted, with
    // no redaction event behind it (none is sent), in /sync too.
    let (_, body) = bob.get("/_matrix/client/v3/sync").await;
    assert_eq!(synced("bob", body)["body"], "secret");
    let (_, body) = carol.get("/_matrix/client/v3/sync").await;
    assert_eq!(synced("carol", body), json!({}));
    let url = format!("/_matrix/client/v3/rooms/{room}/event/{}", enc(&message));
    let (status, seen) = bob.get(&url).await;
    assert_eq!((status.as_u16(), &seen["content"]["body"]), (200, &json!("secret")), "{seen}");
    let (status, seen) = carol.get(&url).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["content"], json!({}), "{seen}");
    assert!(seen["unsigned"].get("redacted_because").is_none(), "{seen}");
    let messages = format!("/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=50");
    let (_, page) = carol.get(&messages).await;
    let listed = page["chunk"].as_array().unwrap().iter().find(|e| e["event_id"] == message);
    assert_eq!(listed.map(|e| &e["content"]), Some(&json!({})), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_without_erasure_keeps_messages() {
    use crate::rooms::{create_room, enc};
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let carol = server.register("carol").await;
    let room = enc(&create_room(&alice, json!({"preset": "public_chat"})).await);
    let message = say(&alice, &room, "kept").await;
    let path = "/_matrix/client/v3/account/deactivate";
    let session = alice.post(path, json!({})).await.1["session"].clone();
    let auth = password_auth("password123", session.as_str().unwrap());
    assert_eq!(alice.post(path, json!({"auth": auth, "erase": false})).await.0, 200);
    assert_eq!(
        carol.post(&format!("/_matrix/client/v3/rooms/{room}/join"), json!({})).await.0,
        200
    );
    let url = format!("/_matrix/client/v3/rooms/{room}/event/{}", enc(&message));
    let (status, seen) = carol.get(&url).await;
    assert_eq!((status.as_u16(), &seen["content"]["body"]), (200, &json!("kept")), "{seen}");
}
