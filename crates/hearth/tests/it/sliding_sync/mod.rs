//! Simplified sliding sync (MSC4186): lists and their ordering, windows and filters; room
//! results and `required_state`; incremental deltas; extensions; connections and long-polls.

mod connection;
mod extensions;
mod lists;
mod rooms;

use serde_json::{Value, json};

use crate::{common::User, rooms::enc, sync::q};

pub(crate) const PATH: &str = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync";

/// A request that must succeed; `pos` (from an earlier response) makes it incremental, and it
/// returns at once (`timeout=0`).
pub(crate) async fn ss(user: &User, pos: Option<&Value>, body: Value) -> Value {
    let (status, response) = user.post(&path(pos, 0), body).await;
    assert_eq!(status, 200, "sliding sync: {response}");
    assert!(response["pos"].is_string(), "no pos: {response}");
    response
}

pub(crate) fn path(pos: Option<&Value>, timeout_ms: u64) -> String {
    match pos {
        Some(pos) => format!("{PATH}?pos={}&timeout={timeout_ms}", q(pos.as_str().unwrap())),
        None => format!("{PATH}?timeout={timeout_ms}"),
    }
}

/// A list over every room with `ranges`, `timeline_limit` and `required_state`.
pub(crate) fn list(ranges: Value, timeline_limit: u64, required_state: Value) -> Value {
    json!({"ranges": ranges, "timeline_limit": timeline_limit, "required_state": required_state})
}

/// The room IDs of a response, sorted.
pub(crate) fn room_ids(response: &Value) -> Vec<String> {
    let mut ids: Vec<String> = response["rooms"]
        .as_object()
        .map(|rooms| rooms.keys().cloned().collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

pub(crate) fn result<'a>(response: &'a Value, id: &str) -> &'a Value {
    &response["rooms"][id]
}

/// Message bodies of a room's timeline, oldest first.
pub(crate) fn texts(response: &Value, id: &str) -> Vec<String> {
    result(response, id)["timeline"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "m.room.message")
        .map(|e| e["content"]["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `(type, state_key)` of a room's `required_state`, sorted.
pub(crate) fn state_keys(response: &Value, id: &str) -> Vec<(String, String)> {
    crate::sync::keys(&result(response, id)["required_state"])
}

pub(crate) fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| (*s).clone()).collect();
    ids.sort();
    ids
}

/// Set account data, global or (with `room`) for a room.
pub(crate) async fn put_account_data(user: &User, room: Option<&str>, kind: &str, content: Value) {
    let user_path = format!("/_matrix/client/v3/user/{}", enc(&user.user_id));
    let path = match room {
        Some(room) => format!("{user_path}/rooms/{}/account_data/{kind}", enc(room)),
        None => format!("{user_path}/account_data/{kind}"),
    };
    let (status, body) = user.put(&path, content).await;
    assert_eq!(status, 200, "account data: {body}");
}

/// A long-poll from `pos` for up to `timeout_ms`, running in the background.
pub(crate) fn spawn_wait(
    user: &User,
    pos: &Value,
    body: Value,
    timeout_ms: u64,
) -> tokio::task::JoinHandle<Value> {
    let client = user.client.clone();
    let path = path(Some(pos), timeout_ms);
    tokio::spawn(async move {
        let (status, response) = client.post(&path, body).await;
        assert_eq!(status, 200, "{response}");
        response
    })
}
