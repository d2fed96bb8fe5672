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
            let visible = match memo.get(&key) {
                _ if own_member_event => true,
                Some(v) => *v,
                _ => {
                    let v = self.visible_at(user, &record, current.as_ref()).await?;
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
        self.visible_at(user, record, current.as_ref()).await
    }

    async fn visible_at(
        &self,
        user: &UserId,
        record: &EventRecord,
        current: Option<&MembershipState>,
    ) -> Result<bool> {
        let visibility = match record.state_group_before {
            Some(g) => {
                let state = self.state_group(g).await?.map;
                match self.state_pdu(&state, "m.room.history_visibility", "").await? {
                    Some(e) => e.content_value()["history_visibility"]
                        .as_str()
                        .unwrap_or("shared")
                        .to_owned(),
                    None => "shared".to_owned(),
                }
            }
            None => "shared".to_owned(),
        };
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
