//! Server-side key backups: versions, and keys at all three levels with `etag` and `count`.

use serde_json::{Value, json};

use crate::common::{Client, TestServer, assert_error};

const VERSION: &str = "/_matrix/client/v3/room_keys/version";
const ALGORITHM: &str = "m.megolm_backup.v1.curve25519-aes-sha2";
const ROOM: &str = "!room:localhost";

fn algorithm(public_key: &str) -> Value {
    json!({"algorithm": ALGORITHM, "auth_data": {"public_key": public_key, "signatures": {}}})
}

/// Key data whose ciphertext names it, so tests can tell which copy the server kept.
fn key(first_message_index: u64, forwarded_count: u64, is_verified: bool, tag: &str) -> Value {
    json!({
        "first_message_index": first_message_index,
        "forwarded_count": forwarded_count,
        "is_verified": is_verified,
        "session_data": {"ephemeral": "ZXBo", "ciphertext": tag, "mac": "bWFj"},
    })
}

fn session_path(version: &str, session: &str) -> String {
    format!("/_matrix/client/v3/room_keys/keys/{ROOM}/{session}?version={version}")
}

async fn create(client: &Client) -> String {
    let (status, body) = client.post(VERSION, algorithm("a2V5")).await;
    assert_eq!(status, 200, "{body}");
    body["version"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_created_read_updated_and_deleted() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    assert_error(&alice.get(VERSION).await, 404, "M_NOT_FOUND");
    let version = create(&alice).await;
    assert_eq!(version, "1");

    let (status, body) = alice.get(VERSION).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["algorithm"], ALGORITHM);
    assert_eq!(body["auth_data"]["public_key"], "a2V5");
    assert_eq!((body["count"].clone(), body["version"].clone()), (json!(0), json!("1")));
    assert!(body["etag"].is_string());

    let mut update = algorithm("bmV3");
    update["version"] = json!("1");
    assert_eq!(alice.put(&format!("{VERSION}/1"), update).await.0, 200);
    let (_, body) = alice.get(&format!("{VERSION}/1")).await;
    assert_eq!(body["auth_data"]["public_key"], "bmV3");

    let other_algorithm = json!({"algorithm": "org.example.other", "auth_data": {}});
    assert_error(
        &alice.put(&format!("{VERSION}/1"), other_algorithm).await,
        400,
        "M_INVALID_PARAM",
    );
    let mut other_version = algorithm("bmV3");
    other_version["version"] = json!("7");
    assert_error(&alice.put(&format!("{VERSION}/1"), other_version).await, 400, "M_INVALID_PARAM");
    assert_error(&alice.put(&format!("{VERSION}/9"), algorithm("eA")).await, 404, "M_NOT_FOUND");
    assert_error(&alice.post(VERSION, json!({"auth_data": {}})).await, 400, "M_BAD_JSON");

    let bob = server.register("bob").await;
    assert_error(&bob.get(&format!("{VERSION}/1")).await, 404, "M_NOT_FOUND");

    assert_eq!(alice.delete(&format!("{VERSION}/1")).await.0, 200);
    assert_eq!(alice.delete(&format!("{VERSION}/1")).await.0, 200, "deleting twice is fine");
    assert_error(&alice.delete(&format!("{VERSION}/5")).await, 404, "M_NOT_FOUND");
    assert_error(&alice.delete(&format!("{VERSION}/abc")).await, 404, "M_NOT_FOUND");
    assert_error(&alice.get(&format!("{VERSION}/1")).await, 404, "M_NOT_FOUND");
    assert_error(&alice.get(VERSION).await, 404, "M_NOT_FOUND");
    assert_eq!(create(&alice).await, "2", "version numbers are never reused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_stored_and_read_at_every_level() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let version = create(&alice).await;

    let (status, body) = alice.put(&session_path(&version, "s1"), key(0, 0, false, "QUFB")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 1);
    let etag = body["etag"].clone();

    let room_path = format!("/_matrix/client/v3/room_keys/keys/{ROOM}?version={version}");
    let (status, body) =
        alice.put(&room_path, json!({"sessions": {"s2": key(0, 0, false, "QkJC")}})).await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(body["etag"], etag);
    let all_path = format!("/_matrix/client/v3/room_keys/keys?version={version}");
    let other_room =
        json!({"rooms": {"!other:localhost": {"sessions": {"s3": key(0, 0, false, "Q0ND")}}}});
    let (status, body) = alice.put(&all_path, other_room).await;
    assert_eq!((status.as_u16(), body["count"].clone()), (200, json!(3)), "{body}");

    let (_, body) = alice.get(&all_path).await;
    assert_eq!(body["rooms"][ROOM]["sessions"]["s1"]["session_data"]["ciphertext"], "QUFB");
    assert_eq!(body["rooms"]["!other:localhost"]["sessions"]["s3"]["is_verified"], false);
    let (_, body) = alice.get(&room_path).await;
    assert_eq!(body["sessions"].as_object().unwrap().len(), 2);
    let (status, body) = alice.get(&session_path(&version, "s2")).await;
    assert_eq!((status.as_u16(), body["session_data"]["ciphertext"].clone()), (200, json!("QkJC")));
    let (_, info) = alice.get(VERSION).await;
    assert_eq!(info["count"], 3);

    assert_error(&alice.get(&session_path(&version, "missing")).await, 404, "M_NOT_FOUND");
    let empty_room =
        format!("/_matrix/client/v3/room_keys/keys/!empty:localhost?version={version}");
    assert_eq!(alice.get(&empty_room).await.1, json!({"sessions": {}}));
    assert_error(&alice.get(&session_path("9", "s1")).await, 404, "M_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_deleted_at_every_level() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let version = create(&alice).await;
    let all_path = format!("/_matrix/client/v3/room_keys/keys?version={version}");
    let rooms = json!({"rooms": {
        ROOM: {"sessions": {"s1": key(0, 0, false, "QUFB"), "s2": key(0, 0, false, "QkJC")}},
        "!other:localhost": {"sessions": {"s3": key(0, 0, false, "Q0ND")}},
    }});
    assert_eq!(alice.put(&all_path, rooms).await.1["count"], 3);

    let (status, body) = alice.delete(&session_path(&version, "s1")).await;
    assert_eq!((status.as_u16(), body["count"].clone()), (200, json!(2)), "{body}");
    let room_path = format!("/_matrix/client/v3/room_keys/keys/{ROOM}?version={version}");
    assert_eq!(alice.delete(&room_path).await.1["count"], 1);
    let (status, body) = alice.delete(&all_path).await;
    assert_eq!((status.as_u16(), body["count"].clone()), (200, json!(0)));
    assert_eq!(alice.get(&all_path).await.1, json!({"rooms": {}}));
    let unknown = "/_matrix/client/v3/room_keys/keys?version=42";
    assert_error(&alice.delete(unknown).await, 404, "M_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_current_version_takes_keys() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    assert_error(
        &alice.put(&session_path("1", "s1"), key(0, 0, false, "QUFB")).await,
        404,
        "M_NOT_FOUND",
    );
    let old = create(&alice).await;
    let current = create(&alice).await;
    let response = alice.put(&session_path(&old, "s1"), key(0, 0, false, "QUFB")).await;
    assert_error(&response, 403, "M_WRONG_ROOM_KEYS_VERSION");
    assert_eq!(response.1["current_version"], current);
    let response = alice.put(&session_path("nonsense", "s1"), key(0, 0, false, "QUFB")).await;
    assert_eq!(response.1["current_version"], current);

    let bad = json!({"first_message_index": 0, "forwarded_count": 0, "is_verified": false});
    assert_error(&alice.put(&session_path(&current, "s1"), bad).await, 400, "M_BAD_JSON");
    let (_, info) = alice.get(VERSION).await;
    assert_eq!(info["count"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_better_key_for_a_session_is_kept() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let version = create(&alice).await;
    let path = session_path(&version, "s1");
    let kept = || async { alice.get(&path).await.1["session_data"]["ciphertext"].clone() };

    // (upload, which copy is kept afterwards): verified beats unverified, then the lower
    // first_message_index, then the lower forwarded_count; a tie keeps the stored copy.
    let steps = [
        (key(5, 3, false, "QUFB"), "QUFB"),
        (key(9, 9, true, "QkJC"), "QkJC"),
        (key(0, 0, false, "Q0ND"), "QkJC"),
        (key(4, 9, true, "RERE"), "RERE"),
        (key(4, 2, true, "RUVF"), "RUVF"),
        (key(4, 2, true, "RkZG"), "RUVF"),
        (key(4, 3, true, "R0dH"), "RUVF"),
    ];
    let mut etags = Vec::new();
    for (upload, expected) in steps {
        let (status, body) = alice.put(&path, upload).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["count"], 1);
        etags.push(body["etag"].clone());
        assert_eq!(kept().await, expected);
    }
    assert_eq!(etags[2], etags[1], "a refused key leaves the etag");
    assert_eq!(etags[6], etags[4]);
    assert_ne!(etags[3], etags[2]);
}
