//! Login, logout and refresh (spec: client-server-api "Login", "Refreshing access tokens").

use axum::{Router, extract::State};
use ruma::api::client::session::{
    get_login_token, get_login_types, login, logout, logout_all, refresh_token,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<get_login_types::v3::Request, _, _>(login_types)
        .ruma::<login::v3::Request, _, _>(login)
        .ruma::<get_login_token::v1::Request, _, _>(get_login_token)
        .ruma::<logout::v3::Request, _, _>(logout)
        .ruma::<logout_all::v3::Request, _, _>(logout_all)
        .ruma::<refresh_token::v3::Request, _, _>(refresh)
}

async fn login_types(
    State(services): State<AppState>,
    _req: Ruma<get_login_types::v3::Request>,
) -> Result<RumaResponse<get_login_types::v3::Response>, ApiError> {
    Ok(get_login_types::v3::Response::new(services.accounts.login_types()).into())
}

async fn login(
    State(services): State<AppState>,
    req: Ruma<login::v3::Request>,
) -> Result<RumaResponse<login::v3::Response>, ApiError> {
    let ip = req.client_ip;
    Ok(services.accounts.login(req.body, ip).await?.into())
}

async fn get_login_token(
    State(services): State<AppState>,
    req: Ruma<get_login_token::v1::Request>,
) -> Result<RumaResponse<get_login_token::v1::Response>, ApiError> {
    Ok(services.accounts.get_login_token(req.session(), req.auth.as_ref()).await?.into())
}

async fn logout(
    State(services): State<AppState>,
    req: Ruma<logout::v3::Request>,
) -> Result<RumaResponse<logout::v3::Response>, ApiError> {
    services.accounts.logout(req.session()).await?;
    Ok(logout::v3::Response::new().into())
}

async fn logout_all(
    State(services): State<AppState>,
    req: Ruma<logout_all::v3::Request>,
) -> Result<RumaResponse<logout_all::v3::Response>, ApiError> {
    services.accounts.logout_all(req.session()).await?;
    Ok(logout_all::v3::Response::new().into())
}

async fn refresh(
    State(services): State<AppState>,
    req: Ruma<refresh_token::v3::Request>,
) -> Result<RumaResponse<refresh_token::v3::Response>, ApiError> {
    Ok(services.accounts.refresh(&req.refresh_token).await?.into())
}
