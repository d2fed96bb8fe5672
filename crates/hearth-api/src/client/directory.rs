//! Room aliases and the room directory (spec: client-server-api "Room aliases", "Room
//! directory").

use axum::{Router, extract::State};
use hearth_service::directory::{PublicRoomsPage, PublicRoomsQuery};
use ruma::{
    UInt,
    api::client::{
        alias::{create_alias, delete_alias, get_alias},
        directory::{
            get_public_rooms, get_public_rooms_filtered, get_room_visibility, set_room_visibility,
        },
        room::{Visibility, aliases, get_summary},
    },
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<create_alias::v3::Request, _, _>(create)
        .ruma::<get_alias::v3::Request, _, _>(get)
        .ruma::<delete_alias::v3::Request, _, _>(delete)
        .ruma::<aliases::v3::Request, _, _>(room_aliases)
        .ruma::<get_public_rooms::v3::Request, _, _>(public_rooms)
        .ruma::<get_public_rooms_filtered::v3::Request, _, _>(public_rooms_filtered)
        .ruma::<get_room_visibility::v3::Request, _, _>(get_visibility)
        .ruma::<set_room_visibility::v3::Request, _, _>(set_visibility)
        .ruma::<get_summary::v1::Request, _, _>(room_summary)
}

async fn room_summary(
    State(services): State<AppState>,
    req: Ruma<get_summary::v1::Request>,
) -> Result<RumaResponse<get_summary::v1::Response>, ApiError> {
    let user = req.session.as_ref().map(|s| &*s.user_id);
    let (summary, membership) =
        services.directory.room_summary(user, &req.room_id_or_alias, &req.via).await?;
    let mut response = get_summary::v1::Response::new(summary);
    response.membership = membership;
    Ok(response.into())
}

async fn create(
    State(services): State<AppState>,
    req: Ruma<create_alias::v3::Request>,
) -> Result<RumaResponse<create_alias::v3::Response>, ApiError> {
    services.directory.create_alias(req.session(), &req.room_alias, &req.room_id).await?;
    Ok(create_alias::v3::Response::new().into())
}

async fn get(
    State(services): State<AppState>,
    req: Ruma<get_alias::v3::Request>,
) -> Result<RumaResponse<get_alias::v3::Response>, ApiError> {
    let (room_id, servers) = services.directory.resolve_alias(&req.room_alias).await?;
    Ok(get_alias::v3::Response::new(room_id, servers).into())
}

async fn delete(
    State(services): State<AppState>,
    req: Ruma<delete_alias::v3::Request>,
) -> Result<RumaResponse<delete_alias::v3::Response>, ApiError> {
    services.directory.delete_alias(req.session(), &req.room_alias).await?;
    Ok(delete_alias::v3::Response::new().into())
}

async fn room_aliases(
    State(services): State<AppState>,
    req: Ruma<aliases::v3::Request>,
) -> Result<RumaResponse<aliases::v3::Response>, ApiError> {
    let aliases = services.directory.room_aliases(&req.session().user_id, &req.room_id).await?;
    Ok(aliases::v3::Response::new(aliases).into())
}

async fn public_rooms(
    State(services): State<AppState>,
    req: Ruma<get_public_rooms::v3::Request>,
) -> Result<RumaResponse<get_public_rooms::v3::Response>, ApiError> {
    let query = PublicRoomsQuery {
        server: req.server.as_deref(),
        limit: req.limit.map(u64::from),
        since: req.since.as_deref(),
        ..Default::default()
    };
    let page = services.directory.public_rooms(query).await?;
    let PublicRoomsPage { chunk, next_batch, prev_batch, total_room_count_estimate } = page;
    let mut response = get_public_rooms::v3::Response::new(chunk);
    response.next_batch = next_batch;
    response.prev_batch = prev_batch;
    response.total_room_count_estimate = Some(UInt::new_saturating(total_room_count_estimate));
    Ok(response.into())
}

async fn public_rooms_filtered(
    State(services): State<AppState>,
    req: Ruma<get_public_rooms_filtered::v3::Request>,
) -> Result<RumaResponse<get_public_rooms_filtered::v3::Response>, ApiError> {
    let query = PublicRoomsQuery {
        server: req.server.as_deref(),
        limit: req.limit.map(u64::from),
        since: req.since.as_deref(),
        filter: req.filter.clone(),
        network: req.room_network.clone(),
    };
    let page = services.directory.public_rooms(query).await?;
    let mut response = get_public_rooms_filtered::v3::Response::new();
    response.chunk = page.chunk;
    response.next_batch = page.next_batch;
    response.prev_batch = page.prev_batch;
    response.total_room_count_estimate = Some(UInt::new_saturating(page.total_room_count_estimate));
    Ok(response.into())
}

async fn get_visibility(
    State(services): State<AppState>,
    req: Ruma<get_room_visibility::v3::Request>,
) -> Result<RumaResponse<get_room_visibility::v3::Response>, ApiError> {
    let public = services.directory.room_visibility(&req.room_id).await?;
    let visibility = if public { Visibility::Public } else { Visibility::Private };
    Ok(get_room_visibility::v3::Response::new(visibility).into())
}

async fn set_visibility(
    State(services): State<AppState>,
    req: Ruma<set_room_visibility::v3::Request>,
) -> Result<RumaResponse<set_room_visibility::v3::Response>, ApiError> {
    let public = match &req.visibility {
        Visibility::Public => true,
        Visibility::Private => false,
        other => {
            return Err(hearth_core::Error::invalid_param(format!(
                "Unknown visibility {:?}",
                other.as_str()
            ))
            .into());
        }
    };
    services.directory.set_room_visibility(req.session(), &req.room_id, public).await?;
    Ok(set_room_visibility::v3::Response::new().into())
}
