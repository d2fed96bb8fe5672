//! The room directory (spec: client-server-api "Room aliases", "Room directory", "Room
//! summaries"): local aliases, `m.room.canonical_alias` validation, the published room list,
//! and the facts shown about a room.

mod aliases;
mod info;
mod preview;
mod published;

use std::sync::{Arc, Weak};

use hearth_core::Result;
use ruma::{
    RoomId, UserId,
    events::{StateEventType, room::member::MembershipState},
};

pub use published::{PublicRoomsPage, PublicRoomsQuery};

use crate::{Ctx, Services};

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        Service { ctx, services }
    }

    fn services(&self) -> Result<Arc<Services>> {
        crate::upgrade(&self.services)
    }

    /// Whether `user` may edit the room's directory entries (delete others' aliases, publish the
    /// room): joined, with the power to send `m.room.canonical_alias` (Synapse).
    async fn can_edit_directory(&self, room_id: &RoomId, user: &UserId) -> Result<bool> {
        let joined = self
            .ctx
            .storage
            .membership(room_id, user)
            .await?
            .is_some_and(|m| m.membership == MembershipState::Join);
        if !joined {
            return Ok(false);
        }
        let rooms = &self.services()?.rooms;
        let state = rooms.head_state(room_id).await?;
        let levels = rooms.power_levels_in(room_id, &state).await?;
        Ok(levels.user_can_send_state(user, StateEventType::RoomCanonicalAlias))
    }
}
