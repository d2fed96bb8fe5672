//! Reading the room's current state from its head, and power levels (spec: client-server-api
//! "m.room.power_levels"; since v12 creators outrank everyone).

use hearth_core::{Error, Result};
use ruma::{
    RoomId, UserId,
    events::room::power_levels::{
        RoomPowerLevels, RoomPowerLevelsEventContent, RoomPowerLevelsSource,
    },
    state_res::events::RoomCreateEvent,
};

use super::{Service, pdu::PduRef, state::StateMap};

impl Service {
    /// The room's current state as its head has it (including events still committing).
    pub(crate) async fn head_state(&self, room_id: &RoomId) -> Result<StateMap> {
        let slot = self.slot(room_id);
        let mut guard = slot.lock().await;
        Ok(self.loaded_head(&mut guard, room_id).await?.state.clone())
    }

    /// One event of the room's current state.
    pub(crate) async fn state_pdu(
        &self,
        state: &StateMap,
        kind: &str,
        key: &str,
    ) -> Result<Option<PduRef>> {
        match state.get(&(kind.to_owned(), key.to_owned())) {
            Some(id) => self.pdu(id).await,
            None => Ok(None),
        }
    }

    /// The room's power levels in `state`, creators included.
    pub(crate) async fn power_levels_in(
        &self,
        room_id: &RoomId,
        state: &StateMap,
    ) -> Result<RoomPowerLevels> {
        let (_, rules) =
            self.room_version(room_id).await?.ok_or_else(|| Error::not_found("Unknown room"))?;
        let create = self
            .state_pdu(state, "m.room.create", "")
            .await?
            .ok_or_else(|| Error::internal(format!("room {room_id} has no create event")))?;
        let creators =
            RoomCreateEvent::new(create).creators(&rules.authorization).unwrap_or_default();
        let source = match self.state_pdu(state, "m.room.power_levels", "").await? {
            Some(pl) => RoomPowerLevelsSource::Original(
                serde_json::from_str::<RoomPowerLevelsEventContent>(pl.content.get())
                    .map_err(|e| Error::internal(format!("stored power levels: {e}")))?,
            ),
            None => RoomPowerLevelsSource::None,
        };
        Ok(RoomPowerLevels::new(source, &rules.authorization, creators))
    }

    /// Whether `user` may redact others' events.
    pub(crate) async fn has_power(
        &self,
        room_id: &RoomId,
        user: &UserId,
        action: &str,
    ) -> Result<bool> {
        let state = self.head_state(room_id).await?;
        let levels = self.power_levels_in(room_id, &state).await?;
        Ok(match action {
            "redact" => levels.user_can_redact_event_of_other(user),
            "invite" => levels.user_can_invite(user),
            _ => false,
        })
    }
}
