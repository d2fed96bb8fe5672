//! Registration (spec: client-server-api "Account registration").

use axum::{Router, extract::State};
use hearth_core::Error;
use hearth_service::accounts::DeviceRequest;
use ruma::api::client::{
    account::register,
    uiaa::{AuthData, AuthFlow, AuthType, UiaaInfo},
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<register::v3::Request, _, _>(register)
}

async fn register(
    State(services): State<AppState>,
    req: Ruma<register::v3::Request>,
) -> Result<RumaResponse<register::v3::Response>, ApiError> {
    if !services.config().registration_open() {
        return Err(Error::forbidden("Registration is disabled").into());
    }
    if !matches!(req.auth, Some(AuthData::Dummy(_))) {
        let mut info = UiaaInfo::new(vec![AuthFlow::new(vec![AuthType::Dummy])]);
        info.session = Some(hearth_core::utils::random_string(24));
        return Err(Error::Uiaa(Box::new(info)).into());
    }
    let localpart = req
        .username
        .clone()
        .unwrap_or_else(|| hearth_core::utils::random_string(12).to_lowercase());
    let user_id = services.accounts.user_id(&localpart)?;
    services.accounts.create_user(&user_id, req.password.clone(), false, false).await?;
    let mut response = register::v3::Response::new(user_id.clone());
    if !req.inhibit_login {
        let tokens = services
            .accounts
            .issue_session(
                &user_id,
                DeviceRequest {
                    device_id: req.device_id.clone(),
                    display_name: req.initial_device_display_name.clone(),
                    refresh_token: req.refresh_token,
                    ip: Some(req.client_ip.to_string()),
                },
            )
            .await?;
        response.access_token = Some(tokens.access_token);
        response.device_id = Some(tokens.device_id);
        response.refresh_token = tokens.refresh_token;
        response.expires_in = tokens.expires_in_ms.map(std::time::Duration::from_millis);
    }
    Ok(response.into())
}
