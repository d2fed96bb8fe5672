//! Room membership (spec: client-server-api "Room membership"): joining, inviting, leaving,
//! forgetting, kicking, banning, knocking, and member lists.

use axum::{Router, extract::State};
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

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

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
    let room_id =
        services.rooms.join(&s.user_id, s.is_guest, &room, req.reason.clone(), &[]).await?;
    Ok(join_room_by_id::v3::Response::new(room_id).into())
}

async fn join(
    State(services): State<AppState>,
    req: Ruma<join_room_by_id_or_alias::v3::Request>,
) -> Result<RumaResponse<join_room_by_id_or_alias::v3::Response>, ApiError> {
    let s = req.session();
    let room_id = services
        .rooms
        .join(&s.user_id, s.is_guest, &req.room_id_or_alias, req.reason.clone(), &req.via)
        .await?;
    Ok(join_room_by_id_or_alias::v3::Response::new(room_id).into())
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
        .change_membership(
            &req.session().user_id,
            &req.room_id,
            &req.user_id,
            MembershipState::Leave,
            req.reason.clone(),
            false,
        )
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

async fn joined_members(
    State(services): State<AppState>,
    req: Ruma<joined_members::v3::Request>,
) -> Result<RumaResponse<joined_members::v3::Response>, ApiError> {
    let members = services.rooms.joined_members(&req.session().user_id, &req.room_id).await?;
    let joined = members
        .into_iter()
        .map(|(user, m)| {
            let mut member = joined_members::v3::RoomMember::new();
            member.display_name = m.display_name;
            member.avatar_url = m.avatar_url.map(Into::into);
            (user, member)
        })
        .collect();
    Ok(joined_members::v3::Response::new(joined).into())
}

async fn joined_rooms(
    State(services): State<AppState>,
    req: Ruma<joined_rooms::v3::Request>,
) -> Result<RumaResponse<joined_rooms::v3::Response>, ApiError> {
    let rooms = services.rooms.joined_rooms(&req.session().user_id).await?;
    Ok(joined_rooms::v3::Response::new(rooms).into())
}
