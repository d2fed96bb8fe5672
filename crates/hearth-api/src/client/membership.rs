//! Room membership (spec: client-server-api "Room membership"): joining, inviting, leaving,
//! forgetting, kicking, banning, knocking, and member lists.

use axum::{Router, extract::State, response::Response};
use hearth_core::Error;
use http::StatusCode;
use ruma::{
    OwnedRoomOrAliasId,
    api::client::{
        knock::knock_room,
        membership::{
            ban_user, forget_room, get_member_events, invite_user, join_room_by_id,
            join_room_by_id_or_alias, joined_members, joined_rooms, kick_user, leave_room,
            unban_user,
        },
    },
    events::room::member::MembershipState,
    serde::Raw,
};

use serde_json::json;

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse, error::json_response};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<join_room_by_id::v3::Request, _, _>(join_by_id)
        .ruma::<join_room_by_id_or_alias::v3::Request, _, _>(join)
        .ruma::<knock_room::v3::Request, _, _>(knock)
        .ruma::<invite_user::v3::Request, _, _>(invite)
        .ruma::<leave_room::v3::Request, _, _>(leave)
        .ruma::<forget_room::v3::Request, _, _>(forget)
        .ruma::<kick_user::v3::Request, _, _>(kick)
        .ruma::<ban_user::v3::Request, _, _>(ban)
        .ruma::<unban_user::v3::Request, _, _>(unban)
        .ruma::<get_member_events::v3::Request, _, _>(members)
        .ruma::<joined_members::v3::Request, _, _>(joined_members)
        .ruma::<joined_rooms::v3::Request, _, _>(joined_rooms)
}

async fn join_by_id(
    State(services): State<AppState>,
    req: Ruma<join_room_by_id::v3::Request>,
) -> Result<RumaResponse<join_room_by_id::v3::Response>, ApiError> {
    let s = req.session();
    let room: OwnedRoomOrAliasId = req.room_id.clone().into();
    let extra = member_content_fields(&req.raw_body);
    let room_id =
        services.rooms.join(&s.user_id, s.is_guest, &room, req.reason.clone(), &[], extra).await?;
    Ok(join_room_by_id::v3::Response::new(room_id).into())
}

async fn join(
    State(services): State<AppState>,
    req: Ruma<join_room_by_id_or_alias::v3::Request>,
) -> Result<RumaResponse<join_room_by_id_or_alias::v3::Response>, ApiError> {
    let s = req.session();
    let extra = member_content_fields(&req.raw_body);
    let room_id = services
        .rooms
        .join(&s.user_id, s.is_guest, &req.room_id_or_alias, req.reason.clone(), &req.via, extra)
        .await?;
    Ok(join_room_by_id_or_alias::v3::Response::new(room_id).into())
}

/// The join body's fields that go into the member event (Synapse puts the whole body there;
/// a third-party signature is a proof for the server, not content).
fn member_content_fields(body: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    let mut fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(body).unwrap_or_default();
    fields.remove("third_party_signed");
    fields
}

async fn knock(
    State(services): State<AppState>,
    req: Ruma<knock_room::v3::Request>,
) -> Result<RumaResponse<knock_room::v3::Response>, ApiError> {
    let room_id = services
        .rooms
        .knock(&req.session().user_id, &req.room_id_or_alias, req.reason.clone(), &req.via)
        .await?;
    Ok(knock_room::v3::Response::new(room_id).into())
}

async fn invite(
    State(services): State<AppState>,
    req: Ruma<invite_user::v3::Request>,
) -> Result<RumaResponse<invite_user::v3::Response>, ApiError> {
    let invite_user::v3::InvitationRecipient::UserId(recipient) = &req.recipient else {
        services.rooms.invite_3pid(&req.room_id).await?;
        return Ok(invite_user::v3::Response::new().into());
    };
    services
        .rooms
        .change_membership(
            &req.session().user_id,
            &req.room_id,
            &recipient.user_id,
            MembershipState::Invite,
            recipient.reason.clone(),
            false,
        )
        .await?;
    Ok(invite_user::v3::Response::new().into())
}

async fn leave(
    State(services): State<AppState>,
    req: Ruma<leave_room::v3::Request>,
) -> Result<RumaResponse<leave_room::v3::Response>, ApiError> {
    let user = &req.session().user_id;
    services
        .rooms
        .change_membership(
            user,
            &req.room_id,
            user,
            MembershipState::Leave,
            req.reason.clone(),
            false,
        )
        .await?;
    Ok(leave_room::v3::Response::new().into())
}

async fn forget(
    State(services): State<AppState>,
    req: Ruma<forget_room::v3::Request>,
) -> Result<RumaResponse<forget_room::v3::Response>, ApiError> {
    services.rooms.forget(&req.session().user_id, &req.room_id).await?;
    Ok(forget_room::v3::Response::new().into())
}

async fn kick(
    State(services): State<AppState>,
    req: Ruma<kick_user::v3::Request>,
) -> Result<RumaResponse<kick_user::v3::Response>, ApiError> {
    services
        .rooms
        .kick(&req.session().user_id, &req.room_id, &req.user_id, req.reason.clone())
        .await?;
    Ok(kick_user::v3::Response::new().into())
}

async fn ban(
    State(services): State<AppState>,
    req: Ruma<ban_user::v3::Request>,
) -> Result<RumaResponse<ban_user::v3::Response>, ApiError> {
    services
        .rooms
        .change_membership(
            &req.session().user_id,
            &req.room_id,
            &req.user_id,
            MembershipState::Ban,
            req.reason.clone(),
            false,
        )
        .await?;
    Ok(ban_user::v3::Response::new().into())
}

async fn unban(
    State(services): State<AppState>,
    req: Ruma<unban_user::v3::Request>,
) -> Result<RumaResponse<unban_user::v3::Response>, ApiError> {
    services
        .rooms
        .unban(&req.session().user_id, &req.room_id, &req.user_id, req.reason.clone())
        .await?;
    Ok(unban_user::v3::Response::new().into())
}

async fn members(
    State(services): State<AppState>,
    req: Ruma<get_member_events::v3::Request>,
) -> Result<RumaResponse<get_member_events::v3::Response>, ApiError> {
    let events = services
        .rooms
        .members(
            &req.session().user_id,
            &req.room_id,
            req.at.as_deref(),
            req.membership.as_ref(),
            req.not_membership.as_ref(),
        )
        .await?;
    Ok(get_member_events::v3::Response::new(events.into_iter().map(Raw::from_json).collect())
        .into())
}

/// Rendered by hand: each member lists `display_name` and `avatar_url`, `null` when unset, as
/// Synapse does (ruma leaves them out).
async fn joined_members(
    State(services): State<AppState>,
    req: Ruma<joined_members::v3::Request>,
) -> Result<Response, ApiError> {
    let members = services.rooms.joined_members(&req.session().user_id, &req.room_id).await?;
    let joined: serde_json::Map<String, serde_json::Value> = members
        .into_iter()
        .map(|(user, m)| {
            (user.into(), json!({"display_name": m.display_name, "avatar_url": m.avatar_url}))
        })
        .collect();
    let body = serde_json::to_vec(&json!({ "joined": joined })).map_err(Error::internal)?;
    Ok(json_response(StatusCode::OK, body))
}

async fn joined_rooms(
    State(services): State<AppState>,
    req: Ruma<joined_rooms::v3::Request>,
) -> Result<RumaResponse<joined_rooms::v3::Response>, ApiError> {
    let rooms = services.rooms.joined_rooms(&req.session().user_id).await?;
    Ok(joined_rooms::v3::Response::new(rooms).into())
}
