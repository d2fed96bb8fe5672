//! User directory search (spec: client-server-api "User directory").

use axum::{Router, extract::State};
use ruma::api::client::user_directory::search_users;

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<search_users::v3::Request, _, _>(search)
}

async fn search(
    State(services): State<AppState>,
    req: Ruma<search_users::v3::Request>,
) -> Result<RumaResponse<search_users::v3::Response>, ApiError> {
    let limit = usize::try_from(u64::from(req.limit)).unwrap_or(usize::MAX);
    let response = services.user_directory.search(req.session(), &req.search_term, limit).await?;
    Ok(response.into())
}
