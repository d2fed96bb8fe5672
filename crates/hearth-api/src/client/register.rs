//! Registration (spec: client-server-api "Account registration").

use axum::{Router, extract::State, response::Response};
use hearth_core::Error;
use hearth_service::accounts::threepid;
use http::StatusCode;
use ruma::api::{
    OutgoingResponse,
    client::account::{
        check_registration_token_validity, get_username_availability, register,
        request_registration_token_via_email, request_registration_token_via_msisdn,
    },
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse, error::json_response};

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
) -> Result<Response, ApiError> {
    let ip = req.client_ip;
    let response = services.accounts.register(req.body, ip).await?;
    without_null_device_id(response)
}

/// ruma writes `"device_id": null` after `inhibit_login`; the spec (and SyTest) want no
/// `device_id` then.
fn without_null_device_id(response: register::v3::Response) -> Result<Response, ApiError> {
    let rendered = response.try_into_http_response::<Vec<u8>>().map_err(Error::internal)?;
    let mut body: serde_json::Value =
        serde_json::from_slice(rendered.body()).map_err(Error::internal)?;
    if let Some(obj) = body.as_object_mut()
        && obj.get("device_id").is_some_and(serde_json::Value::is_null)
    {
        obj.remove("device_id");
    }
    let bytes = serde_json::to_vec(&body).map_err(Error::internal)?;
    Ok(json_response(StatusCode::OK, bytes))
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
