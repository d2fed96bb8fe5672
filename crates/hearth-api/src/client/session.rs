//! Login (spec: client-server-api "Login").

use axum::Router;
use hearth_core::Error;
use hearth_service::accounts::DeviceRequest;
use ruma::api::client::{
    session::login::{self, v3::LoginInfo},
    uiaa::UserIdentifier,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<login::v3::Request, _, _>(login)
}

async fn login(
    axum::extract::State(services): axum::extract::State<AppState>,
    req: Ruma<login::v3::Request>,
) -> Result<RumaResponse<login::v3::Response>, ApiError> {
    let LoginInfo::Password(password) = &req.login_info else {
        return Err(Error::unknown(http::StatusCode::BAD_REQUEST, "Unsupported login type").into());
    };
    let user = match &password.identifier {
        Some(UserIdentifier::Matrix(id)) => id.user.clone(),
        _ => return Err(Error::forbidden("Unsupported identifier").into()),
    };
    let user_id = if user.starts_with('@') {
        ruma::UserId::parse(user.to_lowercase())
            .map_err(|_| Error::forbidden("Invalid username or password"))?
    } else {
        services.accounts.user_id(&user)?
    };
    services.accounts.check_password(&user_id, &password.password).await?;
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
    let mut response =
        login::v3::Response::new(tokens.user_id, tokens.access_token, tokens.device_id);
    response.refresh_token = tokens.refresh_token;
    response.expires_in = tokens.expires_in_ms.map(std::time::Duration::from_millis);
    Ok(response.into())
}
