//! Registration (spec: client-server-api "Account registration").

use axum::{Router, extract::State};
use hearth_service::accounts::threepid;
use ruma::api::client::account::{
    check_registration_token_validity, get_username_availability, register,
    request_registration_token_via_email, request_registration_token_via_msisdn,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<register::v3::Request, _, _>(register)
        .ruma::<get_username_availability::v3::Request, _, _>(available)
        .ruma::<check_registration_token_validity::v1::Request, _, _>(token_validity)
        .ruma::<request_registration_token_via_email::v3::Request, _, _>(email_token)
        .ruma::<request_registration_token_via_msisdn::v3::Request, _, _>(msisdn_token)
}

async fn register(
    State(services): State<AppState>,
    req: Ruma<register::v3::Request>,
) -> Result<RumaResponse<register::v3::Response>, ApiError> {
    let ip = req.client_ip;
    Ok(services.accounts.register(req.body, ip).await?.into())
}

async fn available(
    State(services): State<AppState>,
    req: Ruma<get_username_availability::v3::Request>,
) -> Result<RumaResponse<get_username_availability::v3::Response>, ApiError> {
    services.accounts.username_available(&req.username, req.client_ip).await?;
    Ok(get_username_availability::v3::Response::new(true).into())
}

async fn token_validity(
    State(services): State<AppState>,
    req: Ruma<check_registration_token_validity::v1::Request>,
) -> Result<RumaResponse<check_registration_token_validity::v1::Response>, ApiError> {
    let valid = services.accounts.registration_token_valid(&req.token, req.client_ip).await?;
    Ok(check_registration_token_validity::v1::Response::new(valid).into())
}

async fn email_token(
    _req: Ruma<request_registration_token_via_email::v3::Request>,
) -> Result<RumaResponse<request_registration_token_via_email::v3::Response>, ApiError> {
    Err(threepid::request_token_denied().into())
}

async fn msisdn_token(
    _req: Ruma<request_registration_token_via_msisdn::v3::Request>,
) -> Result<RumaResponse<request_registration_token_via_msisdn::v3::Response>, ApiError> {
    Err(threepid::request_token_denied().into())
}
