//! Receipts and read markers (spec: client-server-api "Receipts", "Read and unread markers").

use axum::{Router, extract::State};
use ruma::api::client::{read_marker::set_read_marker, receipt::create_receipt};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<create_receipt::v3::Request, _, _>(receipt)
        .ruma::<set_read_marker::v3::Request, _, _>(read_markers)
}

async fn receipt(
    State(services): State<AppState>,
    req: Ruma<create_receipt::v3::Request>,
) -> Result<RumaResponse<create_receipt::v3::Response>, ApiError> {
    let session = req.session();
    session.forbid_guest()?;
    services
        .receipts
        .send_receipt(&session.user_id, &req.room_id, &req.receipt_type, &req.event_id, &req.thread)
        .await?;
    Ok(create_receipt::v3::Response::new().into())
}

async fn read_markers(
    State(services): State<AppState>,
    req: Ruma<set_read_marker::v3::Request>,
) -> Result<RumaResponse<set_read_marker::v3::Response>, ApiError> {
    let session = req.session();
    session.forbid_guest()?;
    services
        .receipts
        .set_read_markers(
            &session.user_id,
            &req.room_id,
            req.fully_read.as_deref(),
            req.read_receipt.as_deref(),
            req.private_read_receipt.as_deref(),
        )
        .await?;
    Ok(set_read_marker::v3::Response::new().into())
}
