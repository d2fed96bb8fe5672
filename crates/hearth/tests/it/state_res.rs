//! State resolution on a hand-built forked DAG. PDUs are built here as another server would
//! build them (chosen `prev_events`, `auth_events`, `depth` and timestamps, signed with the
//! server's key) and fed through `rooms.receive_pdu`, the entry federation will use. Two
//! branches conflict on power levels, join rules and a kick; the state after the fork is what
//! each room version's algorithm gives (v1, v2 for v2..v11, v2.1 with creator power for v12).

use std::collections::HashMap;

use hearth_core::utils::now_millis;
use ruma::{
    CanonicalJsonObject, CanonicalJsonValue, EventId, Int, OwnedEventId, RoomVersionId,
    canonical_json::to_canonical_value,
    events::TimelineEventType,
    room_version_rules::{EventsReferenceFormatVersion, RoomVersionRules},
    signatures::reference_hash,
    state_res::auth_types_for_event,
};
use serde_json::{Value, json};

use crate::{
    common::{TestServer, User},
    rooms::{create_room, enc, send},
};

/// `(type, state_key) -> event ID`.
type State = HashMap<(String, String), String>;

/// Builds PDUs for one room and hands them to the server.
struct Forge<'a> {
    server: &'a TestServer,
    rules: RoomVersionRules,
    room_id: String,
}

/// One PDU to build.
struct Spec<'a> {
    sender: &'a str,
    kind: &'a str,
    state_key: Option<&'a str>,
    content: Value,
    prev: Vec<String>,
    depth: u64,
    ts: u64,
}

impl Forge<'_> {
    /// Build `spec` with auth events chosen from `state` (the state before it on its branch),
    /// sign it and return it unsent.
    async fn build(&self, state: &State, spec: Spec<'_>) -> CanonicalJsonObject {
        let content = to_canonical_value(&spec.content).unwrap();
        let raw = serde_json::value::to_raw_value(&spec.content).unwrap();
        let sender = ruma::UserId::parse(spec.sender).unwrap();
        let kind = TimelineEventType::from(spec.kind);
        let types =
            auth_types_for_event(&kind, &sender, spec.state_key, &raw, &self.rules.authorization)
                .unwrap();
        let auth: Vec<String> = types
            .iter()
            .filter_map(|(t, k)| state.get(&(t.to_string(), k.clone())).cloned())
            .collect();
        let mut obj = CanonicalJsonObject::new();
        obj.insert("auth_events".into(), self.refs(&auth).await);
        obj.insert("prev_events".into(), self.refs(&spec.prev).await);
        obj.insert("content".into(), content);
        obj.insert("depth".into(), CanonicalJsonValue::Integer(Int::from(spec.depth as u32)));
        obj.insert("origin_server_ts".into(), CanonicalJsonValue::Integer(int(spec.ts)));
        obj.insert("room_id".into(), string(&self.room_id));
        obj.insert("sender".into(), string(spec.sender));
        obj.insert("type".into(), string(spec.kind));
        if let Some(key) = spec.state_key {
            obj.insert("state_key".into(), string(key));
        }
        if self.rules.event_format.require_event_id {
            let id = EventId::new_v1(&self.server.config.server_name);
            obj.insert("event_id".into(), string(id.as_str()));
        }
        let keys = &self.server.services().server_keys;
        keys.hash_and_sign_event(&mut obj, &self.rules.redaction).unwrap();
        obj
    }

    /// Build, send through `receive_pdu`, and record it in the branch's state.
    async fn add(&self, state: &mut State, spec: Spec<'_>) -> String {
        let key = spec.state_key.map(|k| (spec.kind.to_owned(), k.to_owned()));
        let obj = self.build(state, spec).await;
        let id = self.receive(obj).await.expect("received").to_string();
        if let Some(key) = key {
            state.insert(key, id.clone());
        }
        id
    }

    async fn receive(&self, obj: CanonicalJsonObject) -> hearth_core::Result<OwnedEventId> {
        self.server.services().rooms.receive_pdu(obj).await
    }

    /// References in the room version's format: IDs, or `[id, {"sha256": hash}]` before v3.
    async fn refs(&self, ids: &[String]) -> CanonicalJsonValue {
        let mut out = Vec::new();
        for id in ids {
            out.push(match self.rules.events_reference_format {
                EventsReferenceFormatVersion::V1 => {
                    let pdu = self.pdu(id).await;
                    let hash = reference_hash(&pdu.json, &self.rules).unwrap();
                    let hashes = CanonicalJsonObject::from_iter([("sha256".into(), string(&hash))]);
                    CanonicalJsonValue::Array(vec![string(id), CanonicalJsonValue::Object(hashes)])
                }
                _ => string(id),
            });
        }
        CanonicalJsonValue::Array(out)
    }

    async fn pdu(&self, id: &str) -> hearth_service::rooms::PduRef {
        let id = EventId::parse(id).unwrap();
        self.server.services().rooms.pdu(&id).await.unwrap().expect("event known")
    }
}

fn string(s: &str) -> CanonicalJsonValue {
    CanonicalJsonValue::String(s.to_owned())
}

fn int(i: u64) -> Int {
    Int::try_from(i as i64).unwrap()
}

/// The room's current state as `/state` shows it to `user`.
async fn current_state(user: &User, room: &str) -> (State, Vec<Value>) {
    let (status, events) = user.get(&format!("/_matrix/client/v3/rooms/{}/state", enc(room))).await;
    assert_eq!(status, 200, "{events}");
    let events = events.as_array().unwrap().clone();
    let map = events
        .iter()
        .map(|e| {
            let key = (e["type"].as_str().unwrap().to_owned(), e["state_key"].to_string());
            let key = (key.0, key.1.trim_matches('"').to_owned());
            (key, e["event_id"].as_str().unwrap().to_owned())
        })
        .collect();
    (map, events)
}

/// The last event of the room's timeline.
async fn last_event(user: &User, room: &str) -> String {
    let path = format!("/_matrix/client/v3/rooms/{}/messages?dir=b&limit=1", enc(room));
    let (_, page) = user.get(&path).await;
    page["chunk"][0]["event_id"].as_str().unwrap().to_owned()
}

/// What the resolved state should hold.
struct Expected {
    /// `true`: the power levels of branch A win; else those of branch B.
    power_levels_a: bool,
    join_rule: &'static str,
    carol: &'static str,
    topic: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forked_dag_resolves_per_room_version() {
    let mut server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let cases = [
        // v1: by depth; the topic exists on one side only, so it is not a conflict and stays.
        ("1", Expected { power_levels_a: true, join_rule: "invite", carol: "leave", topic: true }),
        // v2: B's power levels cannot demote bob (equal to alice); A's join rule and kick pass
        // on A's power levels, and carol, kicked, cannot set the topic.
        ("2", Expected { power_levels_a: true, join_rule: "invite", carol: "leave", topic: false }),
        (
            "10",
            Expected { power_levels_a: true, join_rule: "invite", carol: "leave", topic: false },
        ),
        // v12 (v2.1): alice is the creator with infinite power, so B's power levels apply after
        // A's; bob loses his power, his join rule and kick fail, and carol's topic passes.
        ("12", Expected { power_levels_a: false, join_rule: "public", carol: "join", topic: true }),
    ];
    let mut rooms = Vec::new();
    for (version, expected) in cases {
        let room = fork(&server, [&alice, &bob, &carol], version, &expected).await;
        rooms.push((room, expected));
    }
    // The forked heads reload from the database (resolving again) after a restart, and a local
    // event merges the branches.
    server.restart().await;
    for (i, (room, expected)) in rooms.iter().enumerate() {
        let (state, events) = current_state(&alice, &room.0).await;
        check(&state, &events, room, expected);
        send(&alice, &enc(&room.0), &format!("m{i}"), json!({"msgtype": "m.text", "body": "m"}))
            .await;
        let (after, _) = current_state(&alice, &room.0).await;
        assert_eq!(after, state, "a message changes no state");
    }
}

/// IDs of the room and its branch events: (room, A1 power levels, B1 power levels).
type Forked = (String, String, String);

/// Build the fork in a new room of `version`, merge it, and check the resolved state.
async fn fork(
    server: &TestServer,
    [alice, bob, carol]: [&User; 3],
    version: &str,
    expected: &Expected,
) -> Forked {
    let room = create_room(alice, json!({"preset": "public_chat", "room_version": version})).await;
    for user in [bob, carol] {
        let (status, _) =
            user.post(&format!("/_matrix/client/v3/rooms/{}/join", enc(&room)), json!({})).await;
        assert_eq!(status, 200);
    }
    let rules = RoomVersionId::try_from(version).unwrap().rules().unwrap();
    let creator_in_users = !rules.authorization.explicitly_privilege_room_creators;
    let forge = Forge { server, rules, room_id: room.clone() };
    let (base, _) = current_state(alice, &room).await;
    let t0 = last_event(alice, &room).await;
    let d0 = forge.pdu(&t0).await.depth;
    let ts = now_millis() + 1_000;
    let (a, b, c) = (alice.user_id.as_str(), bob.user_id.as_str(), carol.user_id.as_str());
    let levels = |extra: (&str, i64)| {
        let mut users = serde_json::Map::new();
        if creator_in_users {
            users.insert(a.to_owned(), json!(100));
        }
        users.insert(extra.0.to_owned(), json!(extra.1));
        json!({"users": users, "users_default": 0, "events_default": 0, "state_default": 50,
               "ban": 50, "kick": 50, "redact": 50, "invite": 50})
    };
    let spec = |sender, kind, key, content, prev: &str, depth, at| Spec {
        sender,
        kind,
        state_key: key,
        content,
        prev: vec![prev.to_owned()],
        depth: d0 + depth,
        ts: ts + at,
    };

    // Branch A: alice raises bob to 100; bob makes the room invite-only and kicks carol.
    let mut sa = base.clone();
    let pl = "m.room.power_levels";
    let a1 = forge.add(&mut sa, spec(a, pl, Some(""), levels((b, 100)), &t0, 1, 10)).await;
    let rule = json!({"join_rule": "invite"});
    let a2 = forge.add(&mut sa, spec(b, "m.room.join_rules", Some(""), rule, &a1, 2, 30)).await;
    let kick = json!({"membership": "leave"});
    let a3 = forge.add(&mut sa, spec(b, "m.room.member", Some(c), kick, &a2, 3, 35)).await;
    // Branch B, from the same parent: a message, then alice gives carol 50 (dropping bob's
    // entry), and carol sets the topic.
    let mut sb = base.clone();
    let text = json!({"msgtype": "m.text", "body": "b0"});
    let b0 = forge.add(&mut sb, spec(a, "m.room.message", None, text, &t0, 1, 5)).await;
    let b1 = forge.add(&mut sb, spec(a, pl, Some(""), levels((c, 50)), &b0, 2, 20)).await;
    let topic = json!({"topic": "from carol"});
    let b2 = forge.add(&mut sb, spec(c, "m.room.topic", Some(""), topic, &b1, 3, 40)).await;

    let forked = (room.clone(), a1, b1);
    let (state, events) = current_state(alice, &room).await;
    check(&state, &events, &forked, expected);

    // Merge: a message whose prev_events are both tips, auth events from the resolved state.
    let merge = Spec {
        prev: vec![a3, b2],
        ..spec(a, "m.room.message", None, json!({"msgtype": "m.text", "body": "merge"}), "", 4, 50)
    };
    let merge_id = forge.add(&mut state.clone(), merge).await;
    assert_eq!(last_event(alice, &room).await, merge_id);
    let (after, events) = current_state(alice, &room).await;
    assert_eq!(after, state, "v{version}: the merge changes no state");
    check(&after, &events, &forked, expected);
    forked
}

#[track_caller]
fn check(state: &State, events: &[Value], (room, a1, b1): &Forked, expected: &Expected) {
    let content = |kind: &str, key: &str| {
        events
            .iter()
            .find(|e| e["type"] == kind && e["state_key"] == key)
            .map(|e| e["content"].clone())
    };
    let pl = &state[&("m.room.power_levels".to_owned(), String::new())];
    assert_eq!(pl, if expected.power_levels_a { a1 } else { b1 }, "{room}: power levels");
    let rule = content("m.room.join_rules", "").unwrap();
    assert_eq!(rule["join_rule"], expected.join_rule, "{room}: join rule");
    let carol = events
        .iter()
        .find(|e| {
            e["type"] == "m.room.member" && e["state_key"].as_str().unwrap().starts_with("@carol")
        })
        .unwrap();
    assert_eq!(carol["content"]["membership"], expected.carol, "{room}: carol");
    assert_eq!(content("m.room.topic", "").is_some(), expected.topic, "{room}: topic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn received_pdus_are_checked_before_anything_is_stored() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = create_room(&alice, json!({"preset": "public_chat"})).await;
    let (status, _) =
        bob.post(&format!("/_matrix/client/v3/rooms/{}/join", enc(&room)), json!({})).await;
    assert_eq!(status, 200);
    let rules = RoomVersionId::V12.rules().unwrap();
    let forge = Forge { server: &server, rules, room_id: room.clone() };
    let (state, _) = current_state(&alice, &room).await;
    let tip = last_event(&alice, &room).await;
    let depth = forge.pdu(&tip).await.depth + 1;
    let ts = now_millis();
    let message = |sender, body: &str| Spec {
        sender,
        kind: "m.room.message",
        state_key: None,
        content: json!({"msgtype": "m.text", "body": body}),
        prev: vec![tip.clone()],
        depth,
        ts,
    };
    let refused = |r: hearth_core::Result<OwnedEventId>, status: u16, errcode: &str| {
        let e = r.expect_err("refused");
        assert_eq!((e.status().as_u16(), e.errcode().as_str()), (status, errcode), "{e}");
    };

    // Accepted, and receiving it again stores nothing new.
    let obj = forge.build(&state, message(&alice.user_id, "hello")).await;
    let id = forge.receive(obj.clone()).await.unwrap();
    assert_eq!(forge.receive(obj).await.unwrap(), id);
    assert_eq!(last_event(&alice, &room).await, id.as_str());

    // A content hash that does not match: stored redacted (spec: checks on receipt).
    let mut obj = forge.build(&state, message(&alice.user_id, "original")).await;
    obj.insert("content".into(), to_canonical_value(json!({"body": "tampered"})).unwrap());
    let id = forge.receive(obj).await.unwrap();
    let (status, event) = alice
        .get(&format!("/_matrix/client/v3/rooms/{}/event/{}", enc(&room), enc(id.as_str())))
        .await;
    assert_eq!(status, 200, "{event}");
    assert_eq!(event["content"], json!({}));

    // A bad signature, another server's sender, unknown prev events or room: refused.
    let mut obj = forge.build(&state, message(&alice.user_id, "x")).await;
    obj.insert("origin_server_ts".into(), CanonicalJsonValue::Integer(int(1)));
    refused(forge.receive(obj).await, 403, "M_FORBIDDEN");
    let obj = forge.build(&state, message("@mallory:elsewhere.example", "x")).await;
    refused(forge.receive(obj).await, 501, "M_UNRECOGNIZED");
    let mut spec = message(&alice.user_id, "x");
    spec.prev = vec!["$unknownunknownunknownunknownunknownunknown0".to_owned()];
    refused(forge.receive(forge.build(&state, spec).await).await, 501, "M_UNRECOGNIZED");
    let other = Forge { room_id: "!nowhere:localhost".to_owned(), ..forge };
    let obj = other.build(&state, message(&alice.user_id, "x")).await;
    refused(other.receive(obj).await, 501, "M_UNRECOGNIZED");
    let forge = Forge { room_id: room.clone(), ..other };
    let mut obj = forge.build(&state, message(&alice.user_id, "x")).await;
    obj.remove("sender");
    refused(forge.receive(obj).await, 400, "M_BAD_JSON");

    // Rejected by the authorization rules (bob may not change power levels): nothing stored.
    let levels = Spec {
        kind: "m.room.power_levels",
        state_key: Some(""),
        content: json!({"users": {bob.user_id.clone(): 100}}),
        ..message(&bob.user_id, "")
    };
    let before = last_event(&alice, &room).await;
    refused(forge.receive(forge.build(&state, levels).await).await, 403, "M_FORBIDDEN");
    assert_eq!(last_event(&alice, &room).await, before);
    let (after, _) = current_state(&alice, &room).await;
    assert_eq!(after, state);

    // Too large: over 65,536 bytes of canonical JSON.
    let mut big = forge.build(&state, message(&alice.user_id, "x")).await;
    big.insert("content".into(), to_canonical_value(json!({"body": "x".repeat(66_000)})).unwrap());
    refused(forge.receive(big).await, 413, "M_TOO_LARGE");
}
