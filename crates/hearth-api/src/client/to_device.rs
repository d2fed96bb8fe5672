//! Send-to-device messaging (spec: client-server-api "Send-to-Device messaging").

use axum::{Router, extract::State};
use ruma::api::client::to_device::send_event_to_device;

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<send_event_to_device::v3::Request, _, _>(send)
}

async fn send(
    State(services): State<AppState>,
    req: Ruma<send_event_to_device::v3::Request>,
) -> Result<RumaResponse<send_event_to_device::v3::Response>, ApiError> {
    let session = req.session();
    services
        .e2ee
        .send_to_device(
            &session.user_id,
            &session.device_id,
            &req.event_type,
            &req.txn_id,
            &req.messages,
        )
        .await?;
    Ok(send_event_to_device::v3::Response::new().into())
}
