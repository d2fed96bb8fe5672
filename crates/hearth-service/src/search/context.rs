//! The context of a search result (spec: `event_context`): visible events just before and
//! after it, pagination tokens around them, and with `include_profile` the senders' display
//! names and avatars as the room's state at the result had them.

use std::collections::BTreeSet;

use hearth_core::Result;
use hearth_storage::{EventRecord, TimelineDirection};
use ruma::{
    OwnedUserId,
    api::client::search::search_events::v3::{EventContext, EventContextResult, UserProfile},
    serde::Raw,
};

use super::Service;
use crate::rooms::{PaginationToken, PduRef, Viewer};

/// Events on each side at most.
const MAX_CONTEXT: u64 = 100;

impl Service {
    pub(super) async fn context(
        &self,
        viewer: Viewer<'_>,
        record: &EventRecord,
        wanted: &EventContext,
    ) -> Result<EventContextResult> {
        let mut out = EventContextResult::new();
        let Some(pos) = record.stream_pos else { return Ok(out) };
        let before_limit = u64::from(wanted.before_limit).min(MAX_CONTEXT) as usize;
        let after_limit = u64::from(wanted.after_limit).min(MAX_CONTEXT) as usize;
        let before =
            self.around(viewer, record, pos - 1, TimelineDirection::Backward, before_limit).await?;
        let after =
            self.around(viewer, record, pos, TimelineDirection::Forward, after_limit).await?;
        let first = before.last().and_then(|(r, _)| r.stream_pos).unwrap_or(pos);
        let last = after.last().and_then(|(r, _)| r.stream_pos).unwrap_or(pos);
        out.start = Some(PaginationToken::before(first).to_string());
        out.end = Some(PaginationToken::after(last).to_string());
        if wanted.include_profile {
            let senders: BTreeSet<OwnedUserId> =
                before.iter().chain(&after).map(|(_, p)| p.sender.clone()).collect();
            self.profiles(record, senders, &mut out).await?;
        }
        let relations = &self.services()?.relations;
        out.events_before = relations
            .client_events(viewer, &before)
            .await?
            .into_iter()
            .map(Raw::from_json)
            .collect();
        out.events_after = relations
            .client_events(viewer, &after)
            .await?
            .into_iter()
            .map(Raw::from_json)
            .collect();
        Ok(out)
    }

    /// Up to `limit` visible events of the result's room from `from` in `dir`.
    async fn around(
        &self,
        viewer: Viewer<'_>,
        record: &EventRecord,
        from: i64,
        dir: TimelineDirection,
        limit: usize,
    ) -> Result<Vec<(EventRecord, PduRef)>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rooms = &self.services()?.rooms;
        let rows = self.ctx.storage.room_timeline(&record.room_id, from, None, dir, limit).await?;
        let mut loaded = Vec::with_capacity(rows.len());
        for row in rows.into_iter().filter(|r| !r.rejected) {
            loaded.push(rooms.loaded(row).await?);
        }
        rooms.filter_visible(viewer.user, &record.room_id, loaded).await
    }

    /// The senders' member events in the state at the result (the result's sender too).
    async fn profiles(
        &self,
        record: &EventRecord,
        mut senders: BTreeSet<OwnedUserId>,
        out: &mut EventContextResult,
    ) -> Result<()> {
        let rooms = &self.services()?.rooms;
        let (_, result) = rooms.loaded(record.clone()).await?;
        senders.insert(result.sender.clone());
        let Some(group) = record.state_group_after.or(record.state_group_before) else {
            return Ok(());
        };
        let state = rooms.state_group(group).await?.map;
        for sender in senders {
            let Some(member) = rooms.state_pdu(&state, "m.room.member", sender.as_str()).await?
            else {
                continue;
            };
            let content = member.content_value();
            let mut profile = UserProfile::new();
            profile.displayname = content["displayname"].as_str().map(str::to_owned);
            profile.avatar_url = content["avatar_url"].as_str().map(Into::into);
            out.profile_info.insert(sender, profile);
        }
        Ok(())
    }
}
