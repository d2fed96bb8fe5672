//! Reporting content (spec: client-server-api "Reporting content"): events (by members of
//! their room), rooms and users, stored for administrators. Unknown targets are `M_NOT_FOUND`.

use std::sync::{Arc, Weak};

use hearth_core::{Error, Result};
use hearth_storage::{NewReport, ReportTarget};
use ruma::{EventId, RoomId, UserId, events::room::member::MembershipState};
use serde_json::Value;

use crate::{Ctx, Services, accounts::Session};

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        Service { ctx, services }
    }

    /// `POST /rooms/{roomId}/report/{eventId}`: the reporter must be joined and able to see
    /// the event. `score`, dropped from the spec in v1.18, is checked when given (Synapse).
    pub async fn report_event(
        &self,
        session: &Session,
        room_id: &RoomId,
        event_id: &EventId,
        reason: Option<String>,
        score: Option<&Value>,
    ) -> Result<()> {
        session.forbid_guest()?;
        let score = match score {
            None | Some(Value::Null) => None,
            Some(v) => {
                Some(v.as_i64().filter(|s| (-100..=0).contains(s)).ok_or_else(|| {
                    Error::invalid_param("score must be an integer from -100 to 0")
                })?)
            }
        };
        let not_found =
            || Error::not_found("The event was not found or you are not joined to the room");
        let user = &session.user_id;
        let member = self.ctx.storage.membership(room_id, user).await?;
        if member.is_none_or(|m| m.membership != MembershipState::Join) {
            return Err(not_found());
        }
        let record = self.ctx.storage.get_event(event_id).await?.ok_or_else(not_found)?;
        let services = self.services()?;
        if record.room_id != room_id
            || record.outlier
            || record.rejected
            || !services.rooms.can_see_event(user, &record).await?
        {
            return Err(not_found());
        }
        let target =
            ReportTarget::Event { room_id: room_id.to_owned(), event_id: event_id.to_owned() };
        self.store(session, target, reason, score).await
    }

    /// `POST /rooms/{roomId}/report`: any known room, member or not.
    pub async fn report_room(
        &self,
        session: &Session,
        room_id: &RoomId,
        reason: String,
    ) -> Result<()> {
        session.forbid_guest()?;
        if self.services()?.rooms.room_version(room_id).await?.is_none() {
            return Err(Error::not_found("The room was not found"));
        }
        self.store(session, ReportTarget::Room(room_id.to_owned()), Some(reason), None).await
    }

    /// `POST /users/{userId}/report`: a local user must exist; users of other servers cannot be
    /// checked without federation and are taken as given.
    pub async fn report_user(
        &self,
        session: &Session,
        user_id: &UserId,
        reason: String,
    ) -> Result<()> {
        session.forbid_guest()?;
        let local = user_id.server_name() == self.ctx.config.server_name;
        if local && self.ctx.storage.get_user(user_id).await?.is_none() {
            return Err(Error::not_found("The user was not found"));
        }
        self.store(session, ReportTarget::User(user_id.to_owned()), Some(reason), None).await
    }

    async fn store(
        &self,
        session: &Session,
        target: ReportTarget,
        reason: Option<String>,
        score: Option<i64>,
    ) -> Result<()> {
        let report = NewReport { reporter: session.user_id.clone(), target, reason, score };
        let id = self.ctx.storage.add_report(report).await?;
        tracing::info!(report = id, reporter = %session.user_id, "content reported");
        Ok(())
    }

    fn services(&self) -> Result<Arc<Services>> {
        crate::upgrade(&self.services)
    }
}
