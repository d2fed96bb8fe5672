//! Account management (spec: client-server-api "Account management", "Current account
//! information", "Adding Account Administrative Contact Information").

use axum::{Router, extract::State};
use hearth_service::accounts::threepid;
use ruma::api::client::account::{
    ThirdPartyIdRemovalStatus, add_3pid, bind_3pid, change_password, deactivate, delete_3pid,
    get_3pids, request_3pid_management_token_via_email, request_3pid_management_token_via_msisdn,
    request_password_change_token_via_email, request_password_change_token_via_msisdn, unbind_3pid,
    whoami,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<whoami::v3::Request, _, _>(whoami)
        .ruma::<change_password::v3::Request, _, _>(change_password)
        .ruma::<deactivate::v3::Request, _, _>(deactivate)
        .ruma::<get_3pids::v3::Request, _, _>(get_3pids)
        .ruma::<add_3pid::v3::Request, _, _>(add_3pid)
        .ruma::<bind_3pid::v3::Request, _, _>(bind_3pid)
        .ruma::<delete_3pid::v3::Request, _, _>(delete_3pid)
        .ruma::<unbind_3pid::v3::Request, _, _>(unbind_3pid)
        .ruma::<request_3pid_management_token_via_email::v3::Request, _, _>(email_3pid_token)
        .ruma::<request_3pid_management_token_via_msisdn::v3::Request, _, _>(msisdn_3pid_token)
        .ruma::<request_password_change_token_via_email::v3::Request, _, _>(email_reset_token)
        .ruma::<request_password_change_token_via_msisdn::v3::Request, _, _>(msisdn_reset_token)
}

async fn whoami(
    req: Ruma<whoami::v3::Request>,
) -> Result<RumaResponse<whoami::v3::Response>, ApiError> {
    let session = req.session();
    let mut response = whoami::v3::Response::new(session.user_id.clone(), session.is_guest);
    response.device_id = Some(session.device_id.clone());
    Ok(response.into())
}

async fn change_password(
    State(services): State<AppState>,
    req: Ruma<change_password::v3::Request>,
) -> Result<RumaResponse<change_password::v3::Response>, ApiError> {
    let body = &req.body;
    services
        .accounts
        .change_password(
            req.session.as_ref(),
            body.new_password.clone(),
            body.logout_devices,
            body.auth.as_ref(),
        )
        .await?;
    Ok(change_password::v3::Response::new().into())
}

async fn deactivate(
    State(services): State<AppState>,
    req: Ruma<deactivate::v3::Request>,
) -> Result<RumaResponse<deactivate::v3::Response>, ApiError> {
    services.accounts.deactivate(req.session.as_ref(), req.auth.as_ref(), req.erase).await?;
    // No identity server knows about the account's 3PIDs: there are none.
    Ok(deactivate::v3::Response::new(ThirdPartyIdRemovalStatus::NoSupport).into())
}

async fn get_3pids(
    _req: Ruma<get_3pids::v3::Request>,
) -> Result<RumaResponse<get_3pids::v3::Response>, ApiError> {
    Ok(get_3pids::v3::Response::new(Vec::new()).into())
}

async fn add_3pid(
    _req: Ruma<add_3pid::v3::Request>,
) -> Result<RumaResponse<add_3pid::v3::Response>, ApiError> {
    Err(threepid::add().into())
}

async fn bind_3pid(
    _req: Ruma<bind_3pid::v3::Request>,
) -> Result<RumaResponse<bind_3pid::v3::Response>, ApiError> {
    Err(threepid::bind().into())
}

async fn delete_3pid(
    _req: Ruma<delete_3pid::v3::Request>,
) -> Result<RumaResponse<delete_3pid::v3::Response>, ApiError> {
    Err(threepid::delete().into())
}

async fn unbind_3pid(
    _req: Ruma<unbind_3pid::v3::Request>,
) -> Result<RumaResponse<unbind_3pid::v3::Response>, ApiError> {
    Ok(unbind_3pid::v3::Response::new(ThirdPartyIdRemovalStatus::NoSupport).into())
}

async fn email_3pid_token(
    _req: Ruma<request_3pid_management_token_via_email::v3::Request>,
) -> Result<RumaResponse<request_3pid_management_token_via_email::v3::Response>, ApiError> {
    Err(threepid::request_token_for_account().into())
}

async fn msisdn_3pid_token(
    _req: Ruma<request_3pid_management_token_via_msisdn::v3::Request>,
) -> Result<RumaResponse<request_3pid_management_token_via_msisdn::v3::Response>, ApiError> {
    Err(threepid::request_token_for_account().into())
}

async fn email_reset_token(
    _req: Ruma<request_password_change_token_via_email::v3::Request>,
) -> Result<RumaResponse<request_password_change_token_via_email::v3::Response>, ApiError> {
    Err(threepid::request_token_denied().into())
}

async fn msisdn_reset_token(
    _req: Ruma<request_password_change_token_via_msisdn::v3::Request>,
) -> Result<RumaResponse<request_password_change_token_via_msisdn::v3::Response>, ApiError> {
    Err(threepid::request_token_denied().into())
}
