//! Stripped state for invites and knocks (spec: "Stripped state"): what a user who is not in
//! a room may see of it, from the state when they were invited or knocked, and the membership
//! event itself.

use hearth_core::Result;
use hearth_storage::{EventRecord, MembershipRecord};
use serde_json::{json, value::RawValue};

use super::{Pass, Service};
use crate::rooms::PduRef;

/// The state types shared with invitees and knockers (the spec's recommended set).
const STRIPPED_TYPES: &[&str] = &[
    "m.room.create",
    "m.room.name",
    "m.room.avatar",
    "m.room.topic",
    "m.room.join_rules",
    "m.room.canonical_alias",
    "m.room.encryption",
];

impl Pass<'_> {
    pub async fn stripped_state(
        &self,
        membership: &MembershipRecord,
    ) -> Result<Vec<Box<RawValue>>> {
        let Some((mut out, (record, pdu))) = self.svc.stripped_parts(membership).await? else {
            return Ok(Vec::new());
        };
        out.extend(self.render_all(&[(record, pdu)]).await?);
        Ok(out)
    }
}

impl Service {
    /// The stripped state events of an invite or knock, and the membership event itself for
    /// the caller to render (`/sync` with its filter, sliding sync as is); `None` when the
    /// membership event is unknown.
    pub(crate) async fn stripped_parts(
        &self,
        membership: &MembershipRecord,
    ) -> Result<Option<(Vec<Box<RawValue>>, (EventRecord, PduRef))>> {
        let services = self.services()?;
        let storage = &services.ctx.storage;
        let Some(record) = storage.get_event(&membership.event_id).await? else {
            return Ok(None);
        };
        let state = match record.state_group_before {
            Some(group) => services.rooms.state_group(group).await?.map,
            None => Default::default(),
        };
        let mut ids: Vec<_> = STRIPPED_TYPES
            .iter()
            .filter_map(|kind| state.get(&((*kind).to_owned(), String::new())).cloned())
            .collect();
        // The member event of whoever invited them, for the client to show who it was.
        if membership.sender != membership.user_id
            && let Some(id) =
                state.get(&("m.room.member".to_owned(), membership.sender.to_string()))
        {
            ids.push(id.clone());
        }
        let mut out = Vec::with_capacity(ids.len() + 1);
        for (_, pdu) in self.load_events(ids).await? {
            let stripped = json!({
                "type": pdu.kind,
                "state_key": pdu.state_key,
                "sender": pdu.sender,
                "content": pdu.content,
            });
            out.push(serde_json::value::to_raw_value(&stripped)?);
        }
        Ok(Some((out, services.rooms.loaded(record).await?)))
    }
}
