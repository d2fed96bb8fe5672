//! `/sync`: tokens, timelines and state, long-polling, filters, lazy loading, memberships,
//! typing, receipts, presence and the per-device sections.

mod basics;
mod ephemeral;
mod filters;
mod lazy;
mod long_poll;
mod memberships;
mod per_device;
mod presence;

use serde_json::{Value, json};

use crate::{common::User, rooms::enc};

/// Percent-encode a query value (every byte but ASCII letters and digits).
pub(crate) fn q(value: &str) -> String {
    value
        .bytes()
        .map(
            |b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            },
        )
        .collect()
}

/// `GET /sync?<query>`, asserting success.
pub(crate) async fn sync_with(user: &User, query: &str) -> Value {
    let (status, body) = user.get(&format!("/_matrix/client/v3/sync?{query}")).await;
    assert_eq!(status, 200, "sync?{query}: {body}");
    body
}

/// An initial sync.
pub(crate) async fn initial(user: &User) -> Value {
    sync_with(user, "").await
}

/// An incremental sync that returns at once.
pub(crate) async fn since(user: &User, token: &Value) -> Value {
    sync_with(user, &format!("since={}", q(token.as_str().expect("token")))).await
}

/// An incremental sync with a filter given inline.
pub(crate) async fn since_filtered(user: &User, token: &Value, filter: Value) -> Value {
    let query = format!("since={}&filter={}", q(token.as_str().unwrap()), q(&filter.to_string()));
    sync_with(user, &query).await
}

pub(crate) async fn filtered(user: &User, filter: Value) -> Value {
    sync_with(user, &format!("filter={}", q(&filter.to_string()))).await
}

/// A joined room of a sync response (`Null` when absent).
pub(crate) fn joined<'a>(body: &'a Value, room: &str) -> &'a Value {
    &body["rooms"]["join"][room]
}

/// The timeline events of a joined room.
pub(crate) fn timeline<'a>(body: &'a Value, room: &str) -> Vec<&'a Value> {
    joined(body, room)["timeline"]["events"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// Bodies of the messages in a list of events.
pub(crate) fn bodies(events: &[&Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "m.room.message")
        .map(|e| e["content"]["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `(type, state_key)` of state events.
pub(crate) fn keys(events: &Value) -> Vec<(String, String)> {
    let mut keys: Vec<_> = events
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["type"].as_str().unwrap().to_owned(),
                        e["state_key"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    keys
}

pub(crate) async fn say(user: &User, room: &str, txn: &str, text: &str) -> String {
    crate::rooms::send(user, &enc(room), txn, json!({"msgtype": "m.text", "body": text})).await
}

pub(crate) async fn join(user: &User, room: &str) {
    let (status, body) =
        user.post(&format!("/_matrix/client/v3/rooms/{}/join", enc(room)), json!({})).await;
    assert_eq!(status, 200, "join: {body}");
}

pub(crate) async fn put_state(
    user: &User,
    room: &str,
    kind: &str,
    key: &str,
    content: Value,
) -> String {
    let path = format!("/_matrix/client/v3/rooms/{}/state/{kind}/{}", enc(room), enc(key));
    let (status, body) = user.put(&path, content).await;
    assert_eq!(status, 200, "state: {body}");
    body["event_id"].as_str().unwrap().to_owned()
}

pub(crate) async fn public_room(user: &User) -> String {
    crate::rooms::create_room(user, json!({"preset": "public_chat"})).await
}
