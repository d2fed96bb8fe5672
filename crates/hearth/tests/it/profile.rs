//! Profiles: displayname, avatar_url, extended fields, limits and permissions.

use serde_json::json;

use crate::common::{TestServer, assert_error};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_and_get_displayname_and_avatar() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let base = "/_matrix/client/v3/profile/@alice:localhost";
    // New accounts are named after their localpart (Synapse); an unset avatar is `{}`
    // (Synapse), an unknown user 404.
    let (status, body) = alice.get(&format!("{base}/displayname")).await;
    assert_eq!((status.as_u16(), body), (200, json!({"displayname": "alice"})));
    let (status, body) = alice.get(&format!("{base}/avatar_url")).await;
    assert_eq!((status.as_u16(), body), (200, json!({})));
    let unknown = "/_matrix/client/v3/profile/@nobody:localhost/avatar_url";
    assert_error(&alice.get(unknown).await, 404, "M_NOT_FOUND");

    let (status, _) =
        alice.put(&format!("{base}/displayname"), json!({"displayname": "Alice"})).await;
    assert_eq!(status, 200);
    let avatar = json!({"avatar_url": "mxc://localhost/abc"});
    assert_eq!(alice.put(&format!("{base}/avatar_url"), avatar).await.0, 200);

    // Anyone may read it, even without a token.
    let anon = server.client();
    let (status, body) = anon.get(&format!("{base}/displayname")).await;
    assert_eq!((status.as_u16(), body), (200, json!({"displayname": "Alice"})));
    let (status, body) = anon.get(base).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"displayname": "Alice", "avatar_url": "mxc://localhost/abc"}));

    // Any URL is kept, as Synapse keeps it (clients show only mxc:// ones).
    let web_avatar =
        alice.put(&format!("{base}/avatar_url"), json!({"avatar_url": "https://x/y"})).await;
    assert_eq!(web_avatar.0, 200, "{}", web_avatar.1);
    let long = json!({"displayname": "x".repeat(257)});
    assert_error(&alice.put(&format!("{base}/displayname"), long).await, 400, "M_TOO_LARGE");
    let wrong_type = alice.put(&format!("{base}/displayname"), json!({"displayname": 5})).await;
    assert_error(&wrong_type, 400, "M_BAD_JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_profile_fields() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let base = "/_matrix/client/v3/profile/@alice:localhost";
    let field = format!("{base}/com.example.pronouns");
    let value = json!({"com.example.pronouns": {"en": ["she", "her"]}});
    assert_eq!(alice.put(&field, value.clone()).await.0, 200);
    assert_eq!(alice.get(&field).await.1, value);
    assert_eq!(alice.put(&format!("{base}/m.tz"), json!({"m.tz": "Europe/Paris"})).await.0, 200);
    assert_eq!(alice.get(base).await.1["m.tz"], "Europe/Paris");

    assert_eq!(alice.delete(&field).await.0, 200);
    assert_error(&alice.get(&field).await, 404, "M_NOT_FOUND");
    assert_eq!(alice.delete(&field).await.0, 200, "deleting again is fine");

    let bad_key = alice.put(&format!("{base}/NotNamespaced"), json!({"NotNamespaced": 1})).await;
    assert_error(&bad_key, 400, "M_INVALID_PARAM");
    let long_key = format!("com.example.{}", "k".repeat(250));
    let response = alice.put(&format!("{base}/{long_key}"), json!({ long_key.clone(): 1 })).await;
    assert_error(&response, 400, "M_KEY_TOO_LARGE");
    // The whole profile stays under 64 KiB.
    let big = "x".repeat(40 * 1024);
    assert_eq!(
        alice.put(&format!("{base}/com.example.a"), json!({"com.example.a": big})).await.0,
        200
    );
    let too_much = alice.put(&format!("{base}/com.example.b"), json!({"com.example.b": big})).await;
    assert_error(&too_much, 400, "M_PROFILE_TOO_LARGE");
    // Replacing a field counts its new size only.
    assert_eq!(
        alice.put(&format!("{base}/com.example.a"), json!({"com.example.a": big})).await.0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn others_cannot_change_a_profile() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let bob = server.register("bob").await;
    let path = "/_matrix/client/v3/profile/@alice:localhost/displayname";
    assert_error(&bob.put(path, json!({"displayname": "Mallory"})).await, 403, "M_FORBIDDEN");
    assert_error(&bob.delete(path).await, 403, "M_FORBIDDEN");
    assert_error(
        &server.client().put(path, json!({"displayname": "x"})).await,
        401,
        "M_MISSING_TOKEN",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_users_have_no_profile() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_error(
        &client.get("/_matrix/client/v3/profile/@nobody:localhost").await,
        404,
        "M_NOT_FOUND",
    );
    assert_error(
        &client.get("/_matrix/client/v3/profile/@x:remote.example").await,
        404,
        "M_NOT_FOUND",
    );
    assert_error(
        &client.get("/_matrix/client/v3/profile/not-a-user-id").await,
        400,
        "M_INVALID_PARAM",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_clears_the_profile() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let base = "/_matrix/client/v3/profile/@alice:localhost";
    alice.put(&format!("{base}/displayname"), json!({"displayname": "Alice"})).await;
    let challenge = alice.post("/_matrix/client/v3/account/deactivate", json!({})).await;
    let auth = json!({"type": "m.login.password", "session": challenge.1["session"],
        "identifier": {"type": "m.id.user", "user": "alice"}, "password": "password123"});
    let (status, _) =
        alice.post("/_matrix/client/v3/account/deactivate", json!({"auth": auth})).await;
    assert_eq!(status, 200);
    assert_eq!(server.client().get(base).await.1, json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let (status, body) = alice.get("/_matrix/client/v3/capabilities").await;
    assert_eq!(status, 200, "{body}");
    let caps = &body["capabilities"];
    // Listed even at their default value, as Synapse does.
    for cap in ["m.change_password", "m.set_displayname", "m.set_avatar_url"] {
        assert_eq!(caps[cap]["enabled"], true, "{cap}: {caps}");
    }
    assert_eq!(caps["m.profile_fields"]["enabled"], true);
    assert_eq!(caps["m.3pid_changes"]["enabled"], false);
    assert_eq!(caps["m.get_login_token"]["enabled"], true);
    assert_eq!(caps["m.room_versions"]["default"], "12");
    assert_eq!(caps["m.room_versions"]["available"]["1"], "stable");
    assert_eq!(caps["m.room_versions"]["available"].as_object().unwrap().len(), 12);
    assert_error(
        &server.client().get("/_matrix/client/v3/capabilities").await,
        401,
        "M_MISSING_TOKEN",
    );
}
