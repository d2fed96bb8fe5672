//! History visibility (spec: client-server-api "History visibility"): whether a user may see an
//! event, from the room's `m.room.history_visibility` at the event and the user's membership
//! at the event and now. Sync, search and relations use the same check.

use std::collections::HashMap;

use hearth_core::Result;
use hearth_storage::EventRecord;
use ruma::{RoomId, UserId, events::room::member::MembershipState};

use super::{Service, pdu::PduRef};

impl Service {
    /// The events of `room_id` (in order) that `user` may see.
    pub async fn filter_visible(
        &self,
        user: &UserId,
        room_id: &RoomId,
        events: Vec<(EventRecord, PduRef)>,
    ) -> Result<Vec<(EventRecord, PduRef)>> {
        let current = self.ctx.storage.membership(room_id, user).await?.map(|m| m.membership);
        let mut memo: HashMap<(Option<i64>, Option<i64>), bool> = HashMap::new();
        let mut out = Vec::with_capacity(events.len());
        for (record, pdu) in events {
            let key = (record.state_group_before, record.state_group_after);
            let own_member_event = pdu.kind == ruma::events::TimelineEventType::RoomMember
                && pdu.state_key.as_deref() == Some(user.as_str());
            // One's own membership events are always visible, so a user who leaves (or
            // rejects an invite) under restricted history still sees it happen (Synapse).
            let own_visibility = visibility_set_by(&pdu);
            let visible = match memo.get(&key) {
                _ if own_member_event => true,
                _ if own_visibility.is_some() => {
                    self.visible_at(user, &record, own_visibility, current.as_ref()).await?
                }
                Some(v) => *v,
                _ => {
                    let v = self.visible_at(user, &record, None, current.as_ref()).await?;
                    memo.insert(key, v);
                    v
                }
            };
            if visible {
                out.push((record, pdu));
            }
        }
        Ok(out)
    }

    /// Whether `user` may see one event.
    pub async fn can_see_event(&self, user: &UserId, record: &EventRecord) -> Result<bool> {
        let current =
            self.ctx.storage.membership(&record.room_id, user).await?.map(|m| m.membership);
        let own = match self.pdu(&record.event_id).await? {
            Some(pdu) => visibility_set_by(&pdu),
            None => None,
        };
        self.visible_at(user, record, own, current.as_ref()).await
    }

    /// `own`: the visibility a history-visibility event sets; such an event is seen under
    /// the more permissive of that and the one before it (Synapse), so those who may see
    /// what follows a change also see the change.
    async fn visible_at(
        &self,
        user: &UserId,
        record: &EventRecord,
        own: Option<Visibility>,
        current: Option<&MembershipState>,
    ) -> Result<bool> {
        let before = match record.state_group_before {
            Some(g) => {
                let state = self.state_group(g).await?.map;
                match self.state_pdu(&state, "m.room.history_visibility", "").await? {
                    Some(e) => Visibility::of(&e.content_value()),
                    None => Visibility::Shared,
                }
            }
            None => Visibility::Shared,
        };
        let visibility = match own {
            Some(own) => own.min(before),
            None => before,
        };
        let visibility = visibility.as_str();
        if visibility == "world_readable" {
            return Ok(true);
        }
        // Membership at the event: the state after it, so one's own join is visible.
        let at = match record.state_group_after.or(record.state_group_before) {
            Some(g) => {
                let state = self.state_group(g).await?.map;
                match self.state_pdu(&state, "m.room.member", user.as_str()).await? {
                    Some(e) => {
                        e.content_value()["membership"].as_str().unwrap_or("leave").to_owned()
                    }
                    None => "leave".to_owned(),
                }
            }
            None => "leave".to_owned(),
        };
        let currently_joined = current == Some(&MembershipState::Join);
        Ok(at == "join"
            || (visibility == "shared" && currently_joined)
            || (visibility == "invited" && at == "invite"))
    }
}

/// History visibilities from the most permissive to the least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Visibility {
    WorldReadable,
    Shared,
    Invited,
    Joined,
}

impl Visibility {
    /// An unknown value counts as `shared`, the spec's default.
    fn of(content: &serde_json::Value) -> Visibility {
        match content["history_visibility"].as_str() {
            Some("world_readable") => Visibility::WorldReadable,
            Some("invited") => Visibility::Invited,
            Some("joined") => Visibility::Joined,
            _ => Visibility::Shared,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Visibility::WorldReadable => "world_readable",
            Visibility::Shared => "shared",
            Visibility::Invited => "invited",
            Visibility::Joined => "joined",
        }
    }
}

/// The visibility an `m.room.history_visibility` event sets; `None` for other events.
fn visibility_set_by(pdu: &PduRef) -> Option<Visibility> {
    let is_change = pdu.kind == ruma::events::TimelineEventType::RoomHistoryVisibility
        && pdu.state_key.as_deref() == Some("");
    is_change.then(|| Visibility::of(&pdu.content_value()))
}
