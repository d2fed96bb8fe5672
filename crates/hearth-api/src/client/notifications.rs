//! `GET /notifications` (spec: client-server-api "Listing Notifications").

use axum::{Router, extract::State};
use ruma::api::client::push::get_notifications;

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<get_notifications::v3::Request, _, _>(get_notifications)
}

async fn get_notifications(
    State(services): State<AppState>,
    req: Ruma<get_notifications::v3::Request>,
) -> Result<RumaResponse<get_notifications::v3::Response>, ApiError> {
    let (session, from, only) = (req.session(), req.from.as_deref(), req.only.as_deref());
    let page = services.push.notifications(session, from, req.limit, only).await?;
    let mut response = get_notifications::v3::Response::new(page.notifications);
    response.next_token = page.next_token;
    Ok(response.into())
}
