//! Profiles (spec: client-server-api "Profiles").

use axum::{
    Router,
    extract::State,
    response::{IntoResponse, Response},
};
use http::StatusCode;
use ruma::api::client::profile::{
    delete_profile_field, get_profile, get_profile_field, set_profile_field,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse, error::json_response};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<get_profile::v3::Request, _, _>(get_profile)
        .ruma::<get_profile_field::v3::Request, _, _>(get_field)
        .ruma::<set_profile_field::v3::Request, _, _>(set_field)
        .ruma::<delete_profile_field::v3::Request, _, _>(delete_field)
}

async fn get_profile(
    State(services): State<AppState>,
    req: Ruma<get_profile::v3::Request>,
) -> Result<RumaResponse<get_profile::v3::Response>, ApiError> {
    Ok(services.profile.profile(&req.user_id).await?.into())
}

async fn get_field(
    State(services): State<AppState>,
    req: Ruma<get_profile_field::v3::Request>,
) -> Result<Response, ApiError> {
    match services.profile.field(&req.user_id, &req.field).await? {
        Some(value) => {
            Ok(RumaResponse(get_profile_field::v3::Response::new(value)).into_response())
        }
        // An unset display name or avatar of a known user: `{}`, as Synapse answers.
        None => Ok(json_response(StatusCode::OK, b"{}".to_vec())),
    }
}

async fn set_field(
    State(services): State<AppState>,
    req: Ruma<set_profile_field::v3::Request>,
) -> Result<RumaResponse<set_profile_field::v3::Response>, ApiError> {
    let sender = req.session();
    services.profile.set_field(sender, &req.user_id, req.body.value.clone()).await?;
    Ok(set_profile_field::v3::Response::new().into())
}

async fn delete_field(
    State(services): State<AppState>,
    req: Ruma<delete_profile_field::v3::Request>,
) -> Result<RumaResponse<delete_profile_field::v3::Response>, ApiError> {
    let sender = req.session();
    services.profile.delete_field(sender, &req.user_id, &req.field).await?;
    Ok(delete_profile_field::v3::Response::new().into())
}
