//! Scenario 5: a deleted device stops receiving keys. After Alice deletes her second device,
//! Bob's client learns it from `device_lists`, rotates the room key and shares the new one
//! with her remaining device only.

use matrix_sdk::ruma::{events::room::encrypted::OriginalSyncRoomEncryptedEvent, serde::Raw};
use serde_json::Value;

use crate::common::TestServer;

use super::support::{
    TestDevice, encrypted_room, login, password_auth, register, until, wait_device_known,
};

#[tokio::test]
async fn deleted_device_stops_receiving_keys() {
    let server = TestServer::start().await;
    let mut alice = register(&server, "alice").await;
    let bob = register(&server, "bob").await;
    let room = encrypted_room(&alice, &[&bob]).await;
    let mut alice2 = login(&server, "alice").await;
    let (user, gone) = (alice.user_id(), alice2.device_id());
    wait_device_known(&bob, &user, &gone).await;

    let before = bob.send_text(&room, "for both of Alice's devices").await;
    assert_eq!(alice2.message(&room, &before).await.body, "for both of Alice's devices");
    assert_eq!(alice.message(&room, &before).await.body, "for both of Alice's devices");

    // Delete the second device from the first (user-interactive auth with the password).
    alice2.stop_sync();
    let devices = [gone.clone()];
    let err = alice.client.delete_devices(&devices, None).await.expect_err("UIA required");
    let uiaa = err.as_uiaa_response().unwrap_or_else(|| panic!("a UIA response: {err:?}"));
    let auth = password_auth(&user, uiaa.session.clone());
    alice.client.delete_devices(&devices, Some(auth)).await.expect("device deleted");

    // Bob's client sees the device go, then shares the next message's key without it.
    until("Bob's client to drop the deleted device", || async {
        let device = bob.client.encryption().get_device(&user, &gone).await.ok()?;
        device.is_none_or(|d| d.is_deleted()).then_some(())
    })
    .await;
    let after = bob.send_text(&room, "only for the remaining device").await;
    assert_eq!(alice.message(&room, &after).await.body, "only for the remaining device");

    let before_event = encrypted_event(&server, &alice, &room, &before).await;
    let after_event = encrypted_event(&server, &alice, &room, &after).await;
    assert_ne!(
        before_event["content"]["session_id"], after_event["content"]["session_id"],
        "Bob rotated the room key when the device left"
    );
    // The deleted device still holds the old key but never got the new one.
    let room2 = alice2.room(&room);
    let old = room2.decrypt_event(&raw(before_event), None).await.expect("decrypt attempt");
    assert!(!old.kind.is_utd(), "the old key still works on the deleted device");
    let new = room2.decrypt_event(&raw(after_event), None).await.expect("decrypt attempt");
    assert!(new.kind.is_utd(), "the deleted device cannot read the new message");
    // On the server, its token is gone and nothing waits for it.
    let (status, _) = server.client().with_token(&alice2.access_token()).get(SYNC).await;
    assert_eq!(status, 401, "the deleted device's token is gone");
    let e2ee = &server.services().e2ee;
    let queued = e2ee.to_device_messages(&user, &gone, 0, i64::MAX, 10).await.expect("read");
    assert!(queued.events.is_empty(), "no to-device messages wait for the deleted device");
}

const SYNC: &str = "/_matrix/client/v3/sync?timeout=0";

/// The event as the server stores it (still encrypted), fetched over HTTP by `viewer`.
async fn encrypted_event(
    server: &TestServer,
    viewer: &TestDevice,
    room: &matrix_sdk::ruma::RoomId,
    event_id: &matrix_sdk::ruma::EventId,
) -> Value {
    let client = server.client().with_token(&viewer.access_token());
    let (status, event) =
        client.get(&format!("/_matrix/client/v3/rooms/{room}/event/{event_id}")).await;
    assert_eq!(status, 200, "{event}");
    assert_eq!(event["type"], "m.room.encrypted");
    event
}

fn raw(event: Value) -> Raw<OriginalSyncRoomEncryptedEvent> {
    Raw::new(&event).expect("serializes").cast_unchecked()
}
