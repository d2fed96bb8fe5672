//! Filters (spec: client-server-api "Filtering").

use axum::{Router, extract::State};
use ruma::api::client::filter::{create_filter, get_filter};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<create_filter::v3::Request, _, _>(create_filter)
        .ruma::<get_filter::v3::Request, _, _>(get_filter)
}

async fn create_filter(
    State(services): State<AppState>,
    req: Ruma<create_filter::v3::Request>,
) -> Result<RumaResponse<create_filter::v3::Response>, ApiError> {
    let sender = &req.session().user_id;
    let filter_id = services.filters.create(sender, &req.user_id, &req.filter).await?;
    Ok(create_filter::v3::Response::new(filter_id).into())
}

async fn get_filter(
    State(services): State<AppState>,
    req: Ruma<get_filter::v3::Request>,
) -> Result<RumaResponse<get_filter::v3::Response>, ApiError> {
    let sender = &req.session().user_id;
    let filter = services.filters.get(sender, &req.user_id, &req.filter_id).await?;
    Ok(get_filter::v3::Response::new(filter).into())
}
