//! Repeating a state change is not a new event (Synapse): setting a state event its sender
//! already set with the same content, or joining a room one has joined with the same
//! profile, answers the existing event's ID.

use hearth_core::Result;
use ruma::{OwnedEventId, RoomId, UserId};

use super::{EventTemplate, Service};

impl Service {
    /// The current state event `template` would repeat: same type, state key, sender and
    /// content.
    pub(crate) async fn duplicate_state(
        &self,
        room_id: &RoomId,
        sender: &UserId,
        template: &EventTemplate,
    ) -> Result<Option<OwnedEventId>> {
        let Some(key) = &template.state_key else { return Ok(None) };
        if self.room_version(room_id).await?.is_none() {
            return Ok(None);
        }
        let state = self.head_state(room_id).await?;
        let Some(existing) = self.state_pdu(&state, &template.kind.to_string(), key).await? else {
            return Ok(None);
        };
        let same = existing.sender == sender && existing.content_value() == template.content;
        Ok(same.then(|| existing.event_id.clone()))
    }
}
