//! `GET /notifications` (spec: client-server-api "Listing Notifications").

use axum::{Router, extract::State, response::Response};
use hearth_core::Error;
use http::StatusCode;
use ruma::api::client::push::get_notifications;
use serde_json::{Value, json};

use crate::{ApiError, AppState, RouterExt, Ruma, error::json_response};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<get_notifications::v3::Request, _, _>(get_notifications)
}

async fn get_notifications(
    State(services): State<AppState>,
    req: Ruma<get_notifications::v3::Request>,
) -> Result<Response, ApiError> {
    let (session, from, only) = (req.session(), req.from.as_deref(), req.only.as_deref());
    let page = services.push.notifications(session, from, req.limit, only).await?;
    let mut body = json!({ "notifications": page.notifications });
    if let Some(token) = page.next_token {
        body["next_token"] = token.into();
    }
    // `profile_tag` (of the matching rule: rules have none nowadays) is left out by ruma when
    // unset; Synapse sends `null`, and SyTest checks that it is there.
    if let Some(Value::Array(list)) = body.get_mut("notifications") {
        for n in list.iter_mut().filter_map(Value::as_object_mut) {
            n.entry("profile_tag").or_insert(Value::Null);
        }
    }
    let body = serde_json::to_vec(&body).map_err(Error::internal)?;
    Ok(json_response(StatusCode::OK, body))
}
