//! The space hierarchy (spec: client-server-api "Spaces").

use axum::{Router, extract::State};
use hearth_core::Error;
use hearth_service::spaces::HierarchyRequest;
use ruma::{
    api::client::space::{SpaceHierarchyRoomsChunk, get_hierarchy},
    serde::Raw,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<get_hierarchy::v1::Request, _, _>(hierarchy)
}

async fn hierarchy(
    State(services): State<AppState>,
    req: Ruma<get_hierarchy::v1::Request>,
) -> Result<RumaResponse<get_hierarchy::v1::Response>, ApiError> {
    let request = HierarchyRequest {
        room_id: &req.room_id,
        from: req.from.as_deref(),
        limit: req.limit.map(u64::from),
        max_depth: req.max_depth.map(u64::from),
        suggested_only: req.suggested_only,
    };
    let page = services.spaces.hierarchy(&req.session().user_id, request).await?;
    let mut response = get_hierarchy::v1::Response::new();
    for (summary, children) in page.rooms {
        let children = children
            .iter()
            .map(|c| serde_json::value::to_raw_value(c).map(Raw::from_json))
            .collect::<Result<_, _>>()
            .map_err(Error::internal)?;
        response.rooms.push(SpaceHierarchyRoomsChunk::new(summary, children));
    }
    response.next_batch = page.next_batch;
    Ok(response.into())
}
