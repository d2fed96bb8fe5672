//! Device management (spec: client-server-api "Device management").

use axum::{Router, extract::State};
use ruma::api::client::device::{
    delete_device, delete_devices, get_device, get_devices, update_device,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<get_devices::v3::Request, _, _>(get_devices)
        .ruma::<get_device::v3::Request, _, _>(get_device)
        .ruma::<update_device::v3::Request, _, _>(update_device)
        .ruma::<delete_device::v3::Request, _, _>(delete_device)
        .ruma::<delete_devices::v3::Request, _, _>(delete_devices)
}

async fn get_devices(
    State(services): State<AppState>,
    req: Ruma<get_devices::v3::Request>,
) -> Result<RumaResponse<get_devices::v3::Response>, ApiError> {
    let devices = services.accounts.devices(&req.session().user_id).await?;
    Ok(get_devices::v3::Response::new(devices).into())
}

async fn get_device(
    State(services): State<AppState>,
    req: Ruma<get_device::v3::Request>,
) -> Result<RumaResponse<get_device::v3::Response>, ApiError> {
    let device = services.accounts.device(&req.session().user_id, &req.device_id).await?;
    Ok(get_device::v3::Response::new(device).into())
}

async fn update_device(
    State(services): State<AppState>,
    req: Ruma<update_device::v3::Request>,
) -> Result<RumaResponse<update_device::v3::Response>, ApiError> {
    let user_id = &req.session().user_id;
    services.accounts.update_device(user_id, &req.device_id, req.display_name.clone()).await?;
    Ok(update_device::v3::Response::new().into())
}

async fn delete_device(
    State(services): State<AppState>,
    req: Ruma<delete_device::v3::Request>,
) -> Result<RumaResponse<delete_device::v3::Response>, ApiError> {
    let devices = vec![req.device_id.clone()];
    services.accounts.delete_devices(req.session(), devices, req.auth.as_ref()).await?;
    Ok(delete_device::v3::Response::new().into())
}

async fn delete_devices(
    State(services): State<AppState>,
    req: Ruma<delete_devices::v3::Request>,
) -> Result<RumaResponse<delete_devices::v3::Response>, ApiError> {
    let devices = req.devices.clone();
    services.accounts.delete_devices(req.session(), devices, req.auth.as_ref()).await?;
    Ok(delete_devices::v3::Response::new().into())
}
