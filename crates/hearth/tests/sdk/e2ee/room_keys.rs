//! Scenarios 1 and 2: room keys reach every device of the room's members, including one that
//! appears later.

use crate::common::TestServer;

use super::support::{encrypted_room, login, register, wait_device_known};

/// Alice and Bob, one device each: Bob decrypts Alice's message, and Alice decrypts Bob's
/// answer (Olm sessions from claimed one-time keys, Megolm keys over to-device messages).
#[tokio::test]
async fn bob_decrypts_alices_message() {
    let server = TestServer::start().await;
    let mut alice = register(&server, "alice").await;
    let mut bob = register(&server, "bob").await;
    let room = encrypted_room(&alice, &[&bob]).await;

    let sent = alice.send_text(&room, "Hello Bob, this is secret").await;
    let got = bob.message(&room, &sent).await;
    assert_eq!(got.body, "Hello Bob, this is secret");
    assert_eq!(got.sender_device, Some(alice.device_id()), "it arrived encrypted");

    let answer = bob.send_text(&room, "Hi Alice").await;
    let got = alice.message(&room, &answer).await;
    assert_eq!(got.body, "Hi Alice");
    assert_eq!(got.sender_device, Some(bob.device_id()));
}

/// Alice logs in on a second device: both her first device and Bob learn of it through
/// `device_lists`, and share the keys of their new messages with it.
#[tokio::test]
async fn new_device_receives_keys_for_new_messages() {
    let server = TestServer::start().await;
    let alice = register(&server, "alice").await;
    let bob = register(&server, "bob").await;
    let room = encrypted_room(&alice, &[&bob]).await;
    let before = alice.send_text(&room, "before the second device").await;

    let mut alice2 = login(&server, "alice").await;
    wait_device_known(&alice, &alice.user_id(), &alice2.device_id()).await;
    wait_device_known(&bob, &alice.user_id(), &alice2.device_id()).await;

    let from_alice = alice.send_text(&room, "from Alice's first device").await;
    let got = alice2.message(&room, &from_alice).await;
    assert_eq!(got.body, "from Alice's first device");
    assert_eq!(got.sender_device, Some(alice.device_id()));

    let from_bob = bob.send_text(&room, "from Bob").await;
    let got = alice2.message(&room, &from_bob).await;
    assert_eq!(got.body, "from Bob");
    assert_eq!(got.sender_device, Some(bob.device_id()));

    // The earlier message was never shared with the new device (nothing in the room's
    // history leaks to it without a backup or a key forward).
    let event = alice2.room(&room).event(&before, None).await.expect("event fetched");
    assert!(event.kind.is_utd(), "the old message stays undecryptable: {:?}", event.kind);
}
