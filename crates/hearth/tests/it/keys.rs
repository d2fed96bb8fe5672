//! Device, one-time and fallback keys: `/keys/upload`, `/keys/query`, `/keys/claim`,
//! `/keys/changes`, and what device deletion does to them.

use reqwest::StatusCode;
use ruma::{OwnedDeviceId, OwnedUserId};
use serde_json::{Value, json};

use crate::{
    common::{Client, TestServer, User, assert_error},
    crypto::{CrossSigning, Device},
    e2ee_support::{deactivate, delete_device, login},
};

const UPLOAD: &str = "/_matrix/client/v3/keys/upload";
const QUERY: &str = "/_matrix/client/v3/keys/query";
const CLAIM: &str = "/_matrix/client/v3/keys/claim";

fn ids(user: &User) -> (OwnedUserId, OwnedDeviceId) {
    (user.user_id.as_str().try_into().unwrap(), user.device_id.as_str().into())
}

async fn upload(client: &Client, body: Value) -> (StatusCode, Value) {
    client.post(UPLOAD, body).await
}

async fn query(client: &Client, user_id: &str) -> Value {
    let (status, body) = client.post(QUERY, json!({"device_keys": {user_id: []}})).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// How many one-time keys the server holds for the caller's device (an empty upload says).
async fn otk_count(client: &Client) -> u64 {
    let (status, body) = upload(client, json!({})).await;
    assert_eq!(status, 200, "{body}");
    body["one_time_key_counts"]["signed_curve25519"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_keys_are_queried_with_their_signatures() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.register("alice").await, server.register("bob").await);
    let device = Device::of(&alice);
    let body = json!({
        "device_keys": device.device_keys(),
        "one_time_keys": device.one_time_keys(&["A1", "A2", "A3"]),
        "fallback_keys": device.fallback_key("F1"),
    });
    let (status, body) = upload(&alice, body).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["one_time_key_counts"], json!({"signed_curve25519": 3}));

    let body = query(&bob, &alice.user_id).await;
    let keys = &body["device_keys"][&alice.user_id][&alice.device_id];
    assert_eq!(keys["keys"], device.device_keys()["keys"]);
    assert_eq!(keys["user_id"], alice.user_id);
    assert_eq!(keys["unsigned"], json!({}), "always there, no display name was set");
    let signature = &keys["signatures"][&alice.user_id][format!("ed25519:{}", alice.device_id)];
    assert!(signature.is_string(), "{keys}");

    let (alice_id, alice_device) = ids(&alice);
    let status = server.services().e2ee.one_time_keys_status(&alice_id, &alice_device).await;
    let status = status.unwrap();
    assert_eq!(status.unused_fallback_key_types, vec!["signed_curve25519".into()]);

    let path = format!("/_matrix/client/v3/devices/{}", alice.device_id);
    assert_eq!(alice.put(&path, json!({"display_name": "laptop"})).await.0, 200);
    let body = query(&bob, &alice.user_id).await;
    let unsigned = &body["device_keys"][&alice.user_id][&alice.device_id]["unsigned"];
    assert_eq!(unsigned, &json!({"device_display_name": "laptop"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_selects_devices_and_reports_unknown_and_remote_users() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    upload(&alice, json!({"device_keys": Device::of(&alice).device_keys()})).await;
    let only_other = json!({"device_keys": {&alice.user_id: ["NOPE"]}});
    let (status, body) = alice.post(QUERY, only_other).await;
    assert_eq!(status, 200);
    assert_eq!(body["device_keys"][&alice.user_id], json!({}));
    let named = json!({"device_keys": {&alice.user_id: [&alice.device_id]}});
    let (_, body) = alice.post(QUERY, named).await;
    assert!(body["device_keys"][&alice.user_id][&alice.device_id].is_object(), "{body}");

    let others = json!({"device_keys": {"@ghost:localhost": [], "@carol:remote.example": []}});
    let (status, body) = alice.post(QUERY, others).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["device_keys"]["@ghost:localhost"], json!({}));
    assert!(body["failures"]["remote.example"].is_object(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_keys_of_another_user_or_device_are_refused() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.register("alice").await, server.register("bob").await);
    let as_bob = Device::of(&bob).device_keys();
    assert_error(&upload(&alice, json!({"device_keys": as_bob})).await, 400, "M_INVALID_PARAM");
    let other_device = Device::new(&alice.user_id, "OTHERDEVICE").device_keys();
    let response = upload(&alice, json!({"device_keys": other_device})).await;
    assert_error(&response, 400, "M_INVALID_PARAM");
    assert_eq!(query(&bob, &alice.user_id).await["device_keys"][&alice.user_id], json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_or_badly_signed_device_keys_are_refused() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let device = Device::of(&alice);

    let mut tampered = device.device_keys();
    tampered["algorithms"] = json!(["m.megolm.v1.aes-sha2"]);
    assert_error(
        &upload(&alice, json!({"device_keys": tampered})).await,
        400,
        "M_INVALID_SIGNATURE",
    );

    let mut unsigned = device.unsigned_device_keys();
    unsigned["signatures"] = json!({});
    assert_error(
        &upload(&alice, json!({"device_keys": unsigned})).await,
        400,
        "M_INVALID_SIGNATURE",
    );

    let mut no_ed25519 = device.unsigned_device_keys();
    no_ed25519["keys"].as_object_mut().unwrap().remove(&format!("ed25519:{}", alice.device_id));
    let no_ed25519 = device.key.sign(&alice.user_id, no_ed25519);
    assert_error(&upload(&alice, json!({"device_keys": no_ed25519})).await, 400, "M_INVALID_PARAM");

    let mut short_key = device.unsigned_device_keys();
    short_key["keys"][format!("curve25519:{}", alice.device_id)] = json!("c2hvcnQ");
    let short_key = device.key.sign(&alice.user_id, short_key);
    assert_error(&upload(&alice, json!({"device_keys": short_key})).await, 400, "M_INVALID_PARAM");

    let not_keys = json!({"device_keys": {"user_id": alice.user_id}});
    assert_error(&upload(&alice, not_keys).await, 400, "M_BAD_JSON");
    let float = json!({"device_keys": {"user_id": alice.user_id, "x": 1.5}});
    assert_error(&upload(&alice, float).await, 400, "M_BAD_JSON");

    let body = query(&alice, &alice.user_id).await;
    assert_eq!(body["device_keys"][&alice.user_id], json!({}), "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_keys_of_a_device_cannot_change() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let device = Device::of(&alice);
    let (status, _) = upload(&alice, json!({"device_keys": device.device_keys()})).await;
    assert_eq!(status, 200);
    // The same keys again are fine, even with other algorithms listed.
    let mut same = device.unsigned_device_keys();
    same["algorithms"] = json!(["m.megolm.v1.aes-sha2"]);
    let (status, body) =
        upload(&alice, json!({"device_keys": device.key.sign(&alice.user_id, same)})).await;
    assert_eq!(status, 200, "{body}");

    let impostor = Device::of(&alice);
    let response = upload(&alice, json!({"device_keys": impostor.device_keys()})).await;
    assert_error(&response, 400, "M_INVALID_PARAM");
    let body = query(&alice, &alice.user_id).await;
    let stored = &body["device_keys"][&alice.user_id][&alice.device_id]["keys"];
    assert_eq!(stored, &device.device_keys()["keys"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_and_fallback_keys_are_validated_all_or_nothing() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let device = Device::of(&alice);

    // Signed keys need the device keys to check against.
    let early = json!({"one_time_keys": device.one_time_keys(&["A1"])});
    assert_error(&upload(&alice, early).await, 400, "M_INVALID_PARAM");

    let mut forged = device.one_time_keys(&["A1"]);
    forged["signed_curve25519:A1"]["key"] = json!(crate::crypto::curve25519_key());
    let body = json!({"device_keys": device.device_keys(), "one_time_keys": forged});
    assert_error(&upload(&alice, body).await, 400, "M_INVALID_SIGNATURE");
    let body = query(&alice, &alice.user_id).await;
    assert_eq!(body["device_keys"][&alice.user_id], json!({}), "the device keys went too");

    let body = json!({"device_keys": device.device_keys(), "one_time_keys": device.one_time_keys(&["A1"])});
    assert_eq!(upload(&alice, body).await.0, 200);

    let unsigned = json!({"one_time_keys": {"signed_curve25519:A2": {"key": crate::crypto::curve25519_key()}}});
    assert_error(&upload(&alice, unsigned).await, 400, "M_BAD_JSON");
    let reused_id = json!({"one_time_keys": device.one_time_keys(&["A1"])});
    assert_error(&upload(&alice, reused_id).await, 400, "M_INVALID_PARAM");
    let two_fallbacks = json!({"fallback_keys": {
        "signed_curve25519:F1": device.signed_key(true),
        "signed_curve25519:F2": device.signed_key(true),
    }});
    assert_error(&upload(&alice, two_fallbacks).await, 400, "M_INVALID_PARAM");
    let bad_id = json!({"one_time_keys": {"no-algorithm": device.signed_key(false)}});
    assert_error(&upload(&alice, bad_id).await, 400, "M_BAD_JSON");
    assert_eq!(otk_count(&alice).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploading_the_same_one_time_key_again_is_harmless() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let device = Device::of(&alice);
    let keys = device.one_time_keys(&["A1", "A2"]);
    let body = json!({"device_keys": device.device_keys(), "one_time_keys": keys});
    assert_eq!(upload(&alice, body.clone()).await.0, 200);
    let (status, body) = upload(&alice, body).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["one_time_key_counts"]["signed_curve25519"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_take_one_time_keys_oldest_first_then_the_fallback_key() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.register("alice").await, server.register("bob").await);
    let device = Device::of(&alice);
    let first = json!({"device_keys": device.device_keys(), "one_time_keys": device.one_time_keys(&["ZZ"])});
    assert_eq!(upload(&alice, first).await.0, 200);
    let second = json!({"one_time_keys": device.one_time_keys(&["AA"]), "fallback_keys": device.fallback_key("FB")});
    assert_eq!(upload(&alice, second).await.0, 200);

    let claim = json!({"one_time_keys": {&alice.user_id: {&alice.device_id: "signed_curve25519"}}});
    let mut claimed = Vec::new();
    for _ in 0..4 {
        let (status, body) = bob.post(CLAIM, claim.clone()).await;
        assert_eq!(status, 200, "{body}");
        let keys = body["one_time_keys"][&alice.user_id][&alice.device_id].as_object().unwrap();
        assert_eq!(keys.len(), 1);
        claimed.push(keys.keys().next().unwrap().clone());
    }
    let expected = ["ZZ", "AA", "FB", "FB"].map(|id| format!("signed_curve25519:{id}"));
    assert_eq!(claimed, expected);
    assert_eq!(otk_count(&alice).await, 0);
    let (alice_id, alice_device) = ids(&alice);
    let e2ee = &server.services().e2ee;
    let status = e2ee.one_time_keys_status(&alice_id, &alice_device).await.unwrap();
    assert!(status.unused_fallback_key_types.is_empty(), "the fallback key was used");

    // Re-uploading the used fallback key keeps it used; a new one is unused.
    upload(&alice, json!({"fallback_keys": device.fallback_key("FB2")})).await;
    let status = e2ee.one_time_keys_status(&alice_id, &alice_device).await.unwrap();
    assert_eq!(status.unused_fallback_key_types.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_for_unknown_devices_or_remote_users() {
    let server = TestServer::start().await;
    let bob = server.register("bob").await;
    let claim = json!({"one_time_keys": {
        "@alice:localhost": {"NODEVICE": "signed_curve25519"},
        "@carol:remote.example": {"DEV": "signed_curve25519"},
    }});
    let (status, body) = bob.post(CLAIM, claim).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["one_time_keys"], json!({}));
    assert!(body["failures"]["remote.example"].is_object(), "{body}");
    let not_a_user = json!({"one_time_keys": {"alice": {"D": "signed_curve25519"}}});
    assert_error(&bob.post(CLAIM, not_a_user).await, 400, "M_BAD_JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_changes_between_two_positions() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.register("alice").await, server.register("bob").await);
    let pos = || server.services().ctx.storage.current_stream_pos();
    let before = pos();
    upload(&alice, json!({"device_keys": Device::of(&alice).device_keys()})).await;
    let after = pos();
    assert!(after > before);

    let changes = |client: &Client, from: String, to: String| {
        let client = client.clone();
        async move { client.get(&format!("/_matrix/client/v3/keys/changes?from={from}&to={to}")).await }
    };
    let (status, body) = changes(&alice, format!("s{before}"), format!("s{after}_0")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["changed"], json!([alice.user_id]));
    assert_eq!(body["left"], json!([]));
    let (_, body) = changes(&alice, after.to_string(), after.to_string()).await;
    assert_eq!(body["changed"], json!([]), "nothing changed since");
    // Bob shares no room with Alice: her keys are none of his business.
    let (_, body) = changes(&bob, before.to_string(), after.to_string()).await;
    assert_eq!(body["changed"], json!([]));

    let response = changes(&alice, "nonsense".into(), after.to_string()).await;
    assert_error(&response, 400, "M_INVALID_PARAM");
    let missing = alice.get("/_matrix/client/v3/keys/changes?from=1").await;
    assert_error(&missing, 400, "M_INVALID_PARAM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_device_drops_its_keys_and_records_a_change() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let phone = login(&server, "alice").await;
    let device = Device::of(&phone);
    let body = json!({"device_keys": device.device_keys(), "one_time_keys": device.one_time_keys(&["A1"])});
    assert_eq!(upload(&phone, body).await.0, 200);
    let before = server.services().ctx.storage.current_stream_pos();

    delete_device(&alice, &phone.device_id).await;

    let body = query(&alice, &alice.user_id).await;
    assert_eq!(body["device_keys"][&alice.user_id], json!({}));
    let claim = json!({"one_time_keys": {&alice.user_id: {&phone.device_id: "signed_curve25519"}}});
    assert_eq!(alice.post(CLAIM, claim).await.1["one_time_keys"], json!({}));
    let now = server.services().ctx.storage.current_stream_pos();
    let path = format!("/_matrix/client/v3/keys/changes?from={before}&to={now}");
    assert_eq!(alice.get(&path).await.1["changed"], json!([alice.user_id]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_drops_every_key() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.register("alice").await, server.register("bob").await);
    assert_eq!(
        upload(&alice, json!({"device_keys": Device::of(&alice).device_keys()})).await.0,
        200
    );
    let keys = CrossSigning::new(&alice.user_id);
    let signing = "/_matrix/client/v3/keys/device_signing/upload";
    assert_eq!(alice.post(signing, keys.upload_body()).await.0, 200);

    deactivate(&alice).await;

    let body = query(&bob, &alice.user_id).await;
    assert_eq!(body["device_keys"][&alice.user_id], json!({}));
    assert!(body.get("master_keys").is_none_or(|k| k.get(&alice.user_id).is_none()), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_may_use_keys_but_not_cross_signing_backups_or_dehydration() {
    let server = TestServer::start_with(|c| c.registration.allow_guests = true).await;
    let (status, body) =
        server.client().post("/_matrix/client/v3/register?kind=guest", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let guest_id = body["user_id"].as_str().unwrap().to_owned();
    let guest = server.client().with_token(body["access_token"].as_str().unwrap());
    let device = Device::new(&guest_id, body["device_id"].as_str().unwrap());
    let keys =
        json!({"device_keys": device.device_keys(), "one_time_keys": device.one_time_keys(&["A"])});
    assert_eq!(upload(&guest, keys).await.0, 200);
    assert!(query(&guest, &guest_id).await["device_keys"][&guest_id].is_object());
    let claim = json!({"one_time_keys": {&guest_id: {&device.device_id: "signed_curve25519"}}});
    assert_eq!(guest.post(CLAIM, claim).await.0, 200);
    let message = json!({"messages": {&guest_id: {"*": {}}}});
    assert_eq!(guest.put("/_matrix/client/v3/sendToDevice/m.test/1", message).await.0, 200);

    let cross_signing = CrossSigning::new(&guest_id).upload_body();
    let forbidden = [
        guest.post("/_matrix/client/v3/keys/device_signing/upload", cross_signing).await,
        guest.post("/_matrix/client/v3/keys/signatures/upload", json!({})).await,
        guest.get("/_matrix/client/v3/room_keys/version").await,
        guest.get("/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device").await,
    ];
    for response in &forbidden {
        assert_error(response, 403, "M_GUEST_ACCESS_FORBIDDEN");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_never_hand_out_a_key_twice() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.register("alice").await, server.register("bob").await);
    let device = Device::of(&alice);
    let ids: Vec<String> = (0..8).map(|i| format!("K{i}")).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let body = json!({
        "device_keys": device.device_keys(),
        "one_time_keys": device.one_time_keys(&id_refs),
        "fallback_keys": device.fallback_key("FB"),
    });
    assert_eq!(upload(&alice, body).await.0, 200);

    let claim = json!({"one_time_keys": {&alice.user_id: {&alice.device_id: "signed_curve25519"}}});
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (bob, claim, user, device) =
                (bob.client.clone(), claim.clone(), alice.user_id.clone(), alice.device_id.clone());
            tokio::spawn(async move {
                let (_, body) = bob.post(CLAIM, claim).await;
                body["one_time_keys"][&user][&device].as_object().unwrap().keys().next().cloned()
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.push(task.await.unwrap().unwrap());
    }
    let fallback = "signed_curve25519:FB".to_owned();
    let one_time: std::collections::BTreeSet<_> =
        claimed.iter().filter(|k| **k != fallback).collect();
    assert_eq!(one_time.len(), 8, "each one-time key exactly once: {claimed:?}");
    assert_eq!(claimed.iter().filter(|k| **k == fallback).count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_queries_and_claims_are_refused() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    for body in [
        json!({"device_keys": {"not-a-user-id": []}}),
        json!({"device_keys": {&alice.user_id: "DEVICE"}}),
        json!({"device_keys": []}),
        json!({}),
    ] {
        assert_error(&alice.post(QUERY, body).await, 400, "M_BAD_JSON");
    }
    for body in [
        json!({"one_time_keys": {"not-a-user-id": {"DEV": "signed_curve25519"}}}),
        json!({"one_time_keys": {&alice.user_id: ["DEV"]}}),
        json!({}),
    ] {
        assert_error(&alice.post(CLAIM, body).await, 400, "M_BAD_JSON");
    }
    assert_error(
        &server.client().post(QUERY, json!({"device_keys": {}})).await,
        401,
        "M_MISSING_TOKEN",
    );
    assert_error(
        &server.client().post(CLAIM, json!({"one_time_keys": {}})).await,
        401,
        "M_MISSING_TOKEN",
    );
}
