//! Room tags (spec: client-server-api "Room Tagging").

use axum::{Router, extract::State};
use hearth_core::Error;
use ruma::api::client::tag::{create_tag, delete_tag, get_tags};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<get_tags::v3::Request, _, _>(get)
        .ruma::<create_tag::v3::Request, _, _>(put)
        .ruma::<delete_tag::v3::Request, _, _>(delete)
}

async fn get(
    State(services): State<AppState>,
    req: Ruma<get_tags::v3::Request>,
) -> Result<RumaResponse<get_tags::v3::Response>, ApiError> {
    let tags = services.tags.tags(req.session(), &req.user_id, &req.room_id).await?;
    let tags = serde_json::from_value(serde_json::Value::Object(tags)).map_err(Error::internal)?;
    Ok(get_tags::v3::Response::new(tags).into())
}

async fn put(
    State(services): State<AppState>,
    req: Ruma<create_tag::v3::Request>,
) -> Result<RumaResponse<create_tag::v3::Response>, ApiError> {
    let order = req.tag_info.order;
    services.tags.set_tag(req.session(), &req.user_id, &req.room_id, &req.tag, order).await?;
    Ok(create_tag::v3::Response::new().into())
}

async fn delete(
    State(services): State<AppState>,
    req: Ruma<delete_tag::v3::Request>,
) -> Result<RumaResponse<delete_tag::v3::Response>, ApiError> {
    services.tags.delete_tag(req.session(), &req.user_id, &req.room_id, &req.tag).await?;
    Ok(delete_tag::v3::Response::new().into())
}
