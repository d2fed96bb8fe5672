//! Scenario 4: a new device of Bob restores old room keys from the server-side key backup
//! (through recovery: secret storage in account data holds the backup key) and decrypts
//! history.

use std::collections::BTreeMap;

use matrix_sdk::{
    encryption::backups::BackupState,
    room::MessagesOptions,
    ruma::{OwnedEventId, RoomId, events::AnySyncTimelineEvent},
};

use crate::common::TestServer;

use super::support::{TestDevice, bootstrap_cross_signing, encrypted_room, login, register, until};

#[tokio::test]
async fn new_device_restores_history_from_key_backup() {
    let server = TestServer::start().await;
    let alice = register(&server, "alice").await;
    let mut bob = register(&server, "bob").await;
    bootstrap_cross_signing(&bob).await;
    let recovery_key = bob.client.encryption().recovery().enable().await.expect("recovery on");
    assert_eq!(bob.client.encryption().backups().state(), BackupState::Enabled);

    let room = encrypted_room(&alice, &[&bob]).await;
    let mut sent = BTreeMap::new();
    for text in ["the first secret", "the second secret"] {
        let event_id = alice.send_text(&room, text).await;
        assert_eq!(bob.message(&room, &event_id).await.body, text);
        sent.insert(event_id, text);
    }
    // Bob's device uploads the keys it received to the backup.
    bob.client.encryption().backups().wait_for_steady_state().await.expect("keys backed up");
    let client = server.client().with_token(&bob.access_token());
    let (status, version) = client.get("/_matrix/client/v3/room_keys/version").await;
    assert_eq!(status, 200, "{version}");
    assert!(version["count"].as_u64() >= Some(1), "the backup holds the session: {version}");

    let bob2 = login(&server, "bob").await;
    until("the room on the new device", || async { bob2.client.get_room(&room) }).await;
    let before = history(&bob2, &room).await;
    for event_id in sent.keys() {
        assert_eq!(before.get(event_id), Some(&None), "undecryptable before recovery");
    }

    bob2.client.encryption().recovery().recover(&recovery_key).await.expect("recovered");
    bob2.client.encryption().backups().download_room_keys_for_room(&room).await.expect("keys");
    let after = history(&bob2, &room).await;
    for (event_id, text) in &sent {
        assert_eq!(after.get(event_id), Some(&Some(text.to_string())), "decrypted from backup");
    }
}

/// The room's messages as the device sees them through `/messages`: the body of each
/// `m.room.message`, `None` for an event it cannot decrypt.
async fn history(device: &TestDevice, room_id: &RoomId) -> BTreeMap<OwnedEventId, Option<String>> {
    let room = device.room(room_id);
    let mut options = MessagesOptions::backward();
    options.limit = 50u32.into();
    let messages = room.messages(options).await.expect("/messages");
    let mut found = BTreeMap::new();
    for event in messages.chunk {
        let Some(event_id) = event.event_id() else { continue };
        if event.kind.is_utd() {
            found.insert(event_id, None);
            continue;
        }
        if let Ok(AnySyncTimelineEvent::MessageLike(
            matrix_sdk::ruma::events::AnySyncMessageLikeEvent::RoomMessage(message),
        )) = event.raw().deserialize()
        {
            let body = message.as_original().map(|m| m.content.body().to_owned());
            found.insert(event_id, body);
        }
    }
    found
}
