//! What the scenarios share: matrix-sdk clients on a `TestServer` (in-memory stores), a
//! background sync per client, an encrypted room, and waiting for decrypted messages.

use std::{future::Future, time::Duration};

use matrix_sdk::{
    Client, Room, RoomState,
    config::{RequestConfig, SyncSettings},
    deserialized_responses::EncryptionInfo,
    encryption::EncryptionSettings,
    ruma::{
        OwnedDeviceId, OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, UserId,
        api::client::{
            account::register::v3::Request as RegisterRequest,
            room::{Visibility, create_room::v3::Request as CreateRoomRequest},
            uiaa::{self, AuthData},
        },
        events::{
            InitialStateEvent,
            room::{
                encryption::RoomEncryptionEventContent,
                message::{OriginalSyncRoomMessageEvent, RoomMessageEventContent},
            },
        },
    },
};
use tokio::{sync::mpsc, task::JoinHandle, time::Instant};

use crate::common::TestServer;

pub const PASSWORD: &str = "password123";
/// How long any awaited condition may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(30);
/// The long-poll timeout of background syncs: the server wakes them when something arrives.
const SYNC_TIMEOUT: Duration = Duration::from_secs(2);

/// A matrix-sdk client (one device) syncing in the background, and the room messages it
/// receives (decrypted when they were encrypted).
pub struct TestDevice {
    pub client: Client,
    pub messages: mpsc::UnboundedReceiver<Received>,
    sync: Option<JoinHandle<()>>,
}

/// A room message as the client's event handler got it.
#[derive(Debug)]
pub struct Received {
    pub room_id: OwnedRoomId,
    pub event_id: OwnedEventId,
    pub body: String,
    /// Set when the event arrived encrypted: the sender's device.
    pub sender_device: Option<OwnedDeviceId>,
}

impl TestDevice {
    pub fn user_id(&self) -> OwnedUserId {
        self.client.user_id().expect("logged in").to_owned()
    }

    pub fn device_id(&self) -> OwnedDeviceId {
        self.client.device_id().expect("logged in").to_owned()
    }

    pub fn access_token(&self) -> String {
        self.client.access_token().expect("logged in")
    }

    /// Stop syncing (before the device is deleted, so its loop doesn't spin on errors).
    pub fn stop_sync(&mut self) {
        if let Some(task) = self.sync.take() {
            task.abort();
        }
    }

    /// The next message received in `room` (earlier ones are skipped).
    pub async fn next_message(&mut self, room: &RoomId) -> Received {
        let wait = async {
            loop {
                let received = self.messages.recv().await.expect("event handler alive");
                if received.room_id == room {
                    return received;
                }
            }
        };
        tokio::time::timeout(DEADLINE, wait).await.expect("a message arrives in time")
    }

    /// The message `event_id` in `room`, once it arrives.
    pub async fn message(&mut self, room: &RoomId, event_id: &OwnedEventId) -> Received {
        loop {
            let received = self.next_message(room).await;
            if &received.event_id == event_id {
                return received;
            }
        }
    }

    pub fn room(&self, room_id: &RoomId) -> Room {
        self.client.get_room(room_id).expect("room known to the client")
    }

    /// Send a text message to an encrypted room the client knows, after checking it is
    /// encrypted; returns its event ID.
    pub async fn send_text(&self, room_id: &RoomId, body: &str) -> OwnedEventId {
        let room = self.room(room_id);
        assert!(
            room.latest_encryption_state().await.expect("encryption state").is_encrypted(),
            "room is encrypted for the sender"
        );
        let sent = room.send(RoomMessageEventContent::text_plain(body)).await.expect("sent");
        sent.response.event_id
    }
}

impl Drop for TestDevice {
    fn drop(&mut self) {
        self.stop_sync();
    }
}

fn builder(server: &TestServer) -> matrix_sdk::ClientBuilder {
    Client::builder()
        .homeserver_url(&server.base)
        .request_config(RequestConfig::short_retry())
        .with_encryption_settings(EncryptionSettings::default())
}

/// Register `localpart` (password [`PASSWORD`]) and return its first device, syncing.
pub async fn register(server: &TestServer, localpart: &str) -> TestDevice {
    let client = builder(server).build().await.expect("client");
    let mut request = RegisterRequest::new();
    request.username = Some(localpart.to_owned());
    request.password = Some(PASSWORD.to_owned());
    request.auth = Some(AuthData::Dummy(uiaa::Dummy::new()));
    client.matrix_auth().register(request).await.expect("registered");
    start(client).await
}

/// Log in as `localpart` again: a new device, syncing.
pub async fn login(server: &TestServer, localpart: &str) -> TestDevice {
    let client = builder(server).build().await.expect("client");
    client
        .matrix_auth()
        .login_username(localpart, PASSWORD)
        .initial_device_display_name("second device")
        .send()
        .await
        .expect("logged in");
    start(client).await
}

/// Sync once (uploading the device's keys), then keep syncing in the background; collect room
/// messages into `messages`.
async fn start(client: Client) -> TestDevice {
    let (tx, messages) = mpsc::unbounded_channel();
    client.add_event_handler(
        move |ev: OriginalSyncRoomMessageEvent, room: Room, info: Option<EncryptionInfo>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(Received {
                    room_id: room.room_id().to_owned(),
                    event_id: ev.event_id.clone(),
                    body: ev.content.body().to_owned(),
                    sender_device: info.and_then(|i| i.sender_device),
                });
            }
        },
    );
    let settings = SyncSettings::default().timeout(SYNC_TIMEOUT);
    client.sync_once(settings.clone()).await.expect("first sync");
    let syncing = client.clone();
    let sync = tokio::spawn(async move {
        let _ = syncing.sync(settings).await;
    });
    TestDevice { client, messages, sync: Some(sync) }
}

/// Poll `check` (local client state, no request) until it answers `Some`, failing the test
/// after [`DEADLINE`]. For conditions the sdk offers no event or stream for.
pub async fn until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `owner` creates an encrypted private room and invites `guests`, who join; returns once
/// every member's client sees every other as joined (so room keys are shared with all).
pub async fn encrypted_room(owner: &TestDevice, guests: &[&TestDevice]) -> OwnedRoomId {
    let mut request = CreateRoomRequest::new();
    request.visibility = Visibility::Private;
    request.invite = guests.iter().map(|g| g.user_id()).collect();
    request.initial_state = vec![
        InitialStateEvent::with_empty_state_key(
            RoomEncryptionEventContent::with_recommended_defaults(),
        )
        .to_raw_any(),
    ];
    let room = owner.client.create_room(request).await.expect("room created");
    let room_id = room.room_id().to_owned();
    for guest in guests {
        until("the invite", || async {
            guest.client.get_room(&room_id).filter(|r| r.state() == RoomState::Invited)
        })
        .await;
        guest.client.join_room_by_id(&room_id).await.expect("joined");
    }
    let everyone: Vec<&TestDevice> = std::iter::once(owner).chain(guests.iter().copied()).collect();
    for viewer in &everyone {
        for member in &everyone {
            wait_joined(viewer, &room_id, &member.user_id()).await;
        }
    }
    room_id
}

/// Wait until `viewer`'s client has `user` as a joined member of `room_id`.
pub async fn wait_joined(viewer: &TestDevice, room_id: &RoomId, user: &UserId) {
    until("the member's join", || async {
        let room = viewer.client.get_room(room_id)?;
        let member = room.get_member_no_sync(user).await.ok()??;
        (*member.membership() == matrix_sdk::ruma::events::room::member::MembershipState::Join)
            .then_some(())
    })
    .await
}

/// Wait until `viewer` knows `device_id` of `user` (from `/keys/query`, after the device
/// list told it about the device).
pub async fn wait_device_known(viewer: &TestDevice, user: &UserId, device_id: &OwnedDeviceId) {
    until("the device's keys", || async {
        viewer.client.encryption().get_device(user, device_id).await.ok()?.map(|_| ())
    })
    .await
}

/// Password UIA for `user`, continuing the session of a 401 answer.
pub fn password_auth(user: &UserId, session: Option<String>) -> AuthData {
    let identifier =
        uiaa::UserIdentifier::Matrix(uiaa::MatrixUserIdentifier::new(user.localpart().to_owned()));
    let mut password = uiaa::Password::new(identifier, PASSWORD.to_owned());
    password.session = session;
    AuthData::Password(password)
}

/// Bootstrap cross-signing as a client does: without auth first, with the password when the
/// server asks for user-interactive auth.
pub async fn bootstrap_cross_signing(device: &TestDevice) {
    let encryption = device.client.encryption();
    if let Err(e) = encryption.bootstrap_cross_signing(None).await {
        let uiaa = e.as_uiaa_response().unwrap_or_else(|| panic!("bootstrap failed: {e:?}"));
        let auth = password_auth(&device.user_id(), uiaa.session.clone());
        encryption.bootstrap_cross_signing(Some(auth)).await.expect("bootstrap with password");
    }
    let status = encryption.cross_signing_status().await.expect("cross-signing status");
    assert!(status.is_complete(), "all three private keys are known: {status:?}");
}
