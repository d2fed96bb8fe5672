//! Cross-signing: `/keys/device_signing/upload` (with its UIA rule) and
//! `/keys/signatures/upload` with per-key failures, and who sees which signatures.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    common::{Client, TestServer, User, assert_error},
    crypto::{CrossSigning, Device},
};

const SIGNING: &str = "/_matrix/client/v3/keys/device_signing/upload";
const SIGNATURES: &str = "/_matrix/client/v3/keys/signatures/upload";
const QUERY: &str = "/_matrix/client/v3/keys/query";

async fn query(client: &Client, user_id: &str) -> Value {
    let (status, body) = client.post(QUERY, json!({"device_keys": {user_id: []}})).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A user with uploaded device keys and cross-signing keys.
async fn set_up(server: &TestServer, name: &str) -> (User, Device, CrossSigning) {
    let user = server.register(name).await;
    let device = Device::of(&user);
    let (status, body) = user
        .post("/_matrix/client/v3/keys/upload", json!({"device_keys": device.device_keys()}))
        .await;
    assert_eq!(status, 200, "{body}");
    let cross_signing = CrossSigning::new(&user.user_id);
    let (status, body) = user.post(SIGNING, cross_signing.upload_body()).await;
    assert_eq!(status, 200, "{body}");
    (user, device, cross_signing)
}

fn password_auth(user: &User, password: &str) -> Value {
    json!({
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user.user_id},
        "password": password,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_upload_needs_no_auth_and_each_key_shows_to_the_right_users() {
    let server = TestServer::start().await;
    let (alice, _, keys) = set_up(&server, "alice").await;
    let bob = server.register("bob").await;

    let own = query(&alice, &alice.user_id).await;
    assert_eq!(own["master_keys"][&alice.user_id]["keys"], keys.master_key()["keys"]);
    assert_eq!(own["self_signing_keys"][&alice.user_id], keys.self_signing_key());
    assert_eq!(own["user_signing_keys"][&alice.user_id], keys.user_signing_key());

    let seen_by_bob = query(&bob, &alice.user_id).await;
    assert!(seen_by_bob["master_keys"][&alice.user_id].is_object());
    assert!(seen_by_bob["self_signing_keys"][&alice.user_id].is_object());
    assert!(seen_by_bob.get("user_signing_keys").is_none_or(|k| k.get(&alice.user_id).is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacing_keys_needs_uia_but_repeating_them_does_not() {
    let server = TestServer::start().await;
    let (alice, _, keys) = set_up(&server, "alice").await;
    let (status, body) = alice.post(SIGNING, keys.upload_body()).await;
    assert_eq!(status, 200, "the same keys again: {body}");

    let new_keys = CrossSigning::new(&alice.user_id);
    let (status, body) = alice.post(SIGNING, new_keys.upload_body()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["flows"][0]["stages"], json!(["m.login.password"]));
    assert!(body["session"].is_string());

    let mut wrong = new_keys.upload_body();
    wrong["auth"] = password_auth(&alice, "not-the-password");
    let (status, body) = alice.post(SIGNING, wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errcode"], "M_FORBIDDEN", "{body}");
    let master = &query(&alice, &alice.user_id).await["master_keys"][&alice.user_id];
    assert_eq!(master["keys"], keys.master_key()["keys"], "the old key stays");

    let mut right = new_keys.upload_body();
    right["auth"] = password_auth(&alice, "password123");
    let (status, body) = alice.post(SIGNING, right).await;
    assert_eq!(status, 200, "{body}");
    let master = &query(&alice, &alice.user_id).await["master_keys"][&alice.user_id];
    assert_eq!(master["keys"], new_keys.master_key()["keys"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_cross_signing_keys_are_refused() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let keys = CrossSigning::new(&alice.user_id);

    let ssk_alone = json!({"self_signing_key": keys.self_signing_key()});
    assert_error(&alice.post(SIGNING, ssk_alone).await, 400, "M_MISSING_PARAM");

    let mut unsigned_ssk = keys.upload_body();
    unsigned_ssk["self_signing_key"] = keys.key(&keys.self_signing, "self_signing");
    assert_error(&alice.post(SIGNING, unsigned_ssk).await, 400, "M_INVALID_SIGNATURE");

    let mut signed_by_other = keys.upload_body();
    let stranger = CrossSigning::new(&alice.user_id);
    signed_by_other["user_signing_key"] = stranger.user_signing_key();
    assert_error(&alice.post(SIGNING, signed_by_other).await, 400, "M_INVALID_SIGNATURE");

    let bobs = CrossSigning::new("@bob:localhost");
    assert_error(&alice.post(SIGNING, bobs.upload_body()).await, 400, "M_INVALID_PARAM");

    let mut wrong_usage = keys.upload_body();
    wrong_usage["master_key"] = keys.key(&keys.master, "self_signing");
    assert_error(&alice.post(SIGNING, wrong_usage).await, 400, "M_INVALID_PARAM");

    let mut two_keys = keys.upload_body();
    two_keys["master_key"]["keys"]["ed25519:other"] = json!("other");
    assert_error(&alice.post(SIGNING, two_keys).await, 400, "M_INVALID_PARAM");

    let body = query(&alice, &alice.user_id).await;
    assert!(body.get("master_keys").is_none_or(|k| k.get(&alice.user_id).is_none()), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_id_that_is_a_device_id_is_forbidden() {
    let server = TestServer::start().await;
    let keys = CrossSigning::new("@alice:localhost");
    let (status, body) = server
        .client()
        .post(
            "/_matrix/client/v3/register",
            json!({
                "username": "alice",
                "password": "password123",
                "device_id": keys.master.public,
                "auth": {"type": "m.login.dummy"},
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let alice = server.client().with_token(body["access_token"].as_str().unwrap());
    assert_error(&alice.post(SIGNING, keys.upload_body()).await, 403, "M_FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_id_that_is_a_cross_signing_key_is_refused() {
    let server = TestServer::start().await;
    let (alice, _, keys) = set_up(&server, "alice").await;
    let login = json!({
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": "alice"},
        "password": "password123",
        "device_id": keys.self_signing.public,
    });
    let response = server.client().post("/_matrix/client/v3/login", login).await;
    assert_error(&response, 400, "M_INVALID_PARAM");

    let dehydrated = crate::crypto::Device::new(&alice.user_id, &keys.master.public);
    let body = json!({
        "device_id": keys.master.public,
        "device_data": {"algorithm": "org.matrix.msc3814.v2", "device_pickle": "p", "nonce": "n"},
        "device_keys": dehydrated.device_keys(),
    });
    let path = "/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device";
    assert_error(&alice.put(path, body).await, 400, "M_INVALID_PARAM");
    let (status, body) = alice.get("/_matrix/client/v3/devices").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["devices"].as_array().unwrap().len(), 1, "no device was created: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signatures_are_stored_and_shown_to_everyone() {
    let server = TestServer::start().await;
    let (alice, device, keys) = set_up(&server, "alice").await;
    let bob = server.register("bob").await;

    let signed_device = keys.self_signing.sign(&alice.user_id, device.device_keys());
    let signed_master = device.key.sign(&alice.user_id, keys.master_key());
    let body = json!({&alice.user_id: {
        &alice.device_id: signed_device,
        &keys.master.public: signed_master,
    }});
    let (status, body) = alice.post(SIGNATURES, body).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("failures").is_none_or(|f| f == &json!({})), "{body}");

    let seen = query(&bob, &alice.user_id).await;
    let device_signatures = &seen["device_keys"][&alice.user_id][&alice.device_id]["signatures"];
    assert!(device_signatures[&alice.user_id][keys.self_signing.key_id()].is_string(), "{seen}");
    let master_signatures = &seen["master_keys"][&alice.user_id]["signatures"];
    assert!(master_signatures[&alice.user_id][device.key.key_id()].is_string(), "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_fail_per_key_and_are_not_stored() {
    let server = TestServer::start().await;
    let (alice, device, keys) = set_up(&server, "alice").await;

    let mut forged = keys.self_signing.sign(&alice.user_id, device.device_keys());
    forged["signatures"][&alice.user_id][keys.self_signing.key_id()] = json!("AAAA");
    let altered = {
        let mut keys_json = device.unsigned_device_keys();
        keys_json["algorithms"] = json!(["x"]);
        keys.self_signing.sign(&alice.user_id, keys_json)
    };
    let (status, body) = alice
        .post(SIGNATURES, json!({&alice.user_id: {&alice.device_id: forged, "NODEVICE": {}}}))
        .await;
    assert_eq!(status, 200, "{body}");
    let failures = &body["failures"][&alice.user_id];
    assert_eq!(failures[&alice.device_id]["errcode"], "M_INVALID_SIGNATURE", "{body}");
    assert_eq!(failures["NODEVICE"]["errcode"], "M_NOT_FOUND", "{body}");

    let (_, body) =
        alice.post(SIGNATURES, json!({&alice.user_id: {&alice.device_id: altered}})).await;
    assert_eq!(
        body["failures"][&alice.user_id][&alice.device_id]["errcode"],
        "M_INVALID_SIGNATURE"
    );

    let seen = query(&alice, &alice.user_id).await;
    let signatures = &seen["device_keys"][&alice.user_id][&alice.device_id]["signatures"];
    assert!(signatures[&alice.user_id].get(keys.self_signing.key_id()).is_none(), "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_another_users_master_key_is_seen_only_by_the_signer() {
    let server = TestServer::start().await;
    let (alice, _, alice_keys) = set_up(&server, "alice").await;
    let (bob, _, bob_keys) = set_up(&server, "bob").await;
    let carol = server.register("carol").await;
    let before = server.services().ctx.storage.current_stream_pos();

    let signed = bob_keys.user_signing.sign(&bob.user_id, alice_keys.master_key());
    let body = json!({&alice.user_id: {&alice_keys.master.public: signed}});
    let (status, body) = bob.post(SIGNATURES, body).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("failures").is_none_or(|f| f == &json!({})), "{body}");

    let usk_id = bob_keys.user_signing.key_id();
    let by_bob = query(&bob, &alice.user_id).await;
    assert!(by_bob["master_keys"][&alice.user_id]["signatures"][&bob.user_id][&usk_id].is_string());
    for viewer in [&carol, &alice] {
        let seen = query(viewer, &alice.user_id).await;
        assert!(seen["master_keys"][&alice.user_id]["signatures"].get(&bob.user_id).is_none());
    }

    let now = server.services().ctx.storage.current_stream_pos();
    let changes = format!("/_matrix/client/v3/keys/changes?from={before}&to={now}");
    assert_eq!(bob.get(&changes).await.1["changed"], json!([alice.user_id]));
    assert_eq!(carol.get(&changes).await.1["changed"], json!([]));

    let not_master = json!({&alice.user_id: {&alice.device_id: alice_keys.master_key()}});
    let (_, body) = bob.post(SIGNATURES, not_master).await;
    assert_eq!(body["failures"][&alice.user_id][&alice.device_id]["errcode"], "M_NOT_FOUND");
}
