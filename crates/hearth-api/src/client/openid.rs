//! OpenID (spec: client-server-api "OpenID"): tokens for third parties, and
//! `/_matrix/federation/v1/openid/userinfo`, where they are exchanged for the user's ID. That
//! one belongs to the federation API; it is served here, on every listener, because clients
//! and SyTest call it on the client base URL (as Synapse serves it).

use axum::{Router, extract::State, routing::get};
use hearth_core::Error;
use hearth_service::accounts::OPENID_TOKEN_LIFETIME;
use ruma::api::{client::account::request_openid_token, federation::openid::get_openid_userinfo};
use ruma::authentication::TokenType;
use serde::Deserialize;

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse, extract::QueryArgs};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<request_openid_token::v3::Request, _, _>(request_token)
        .route("/_matrix/federation/v1/openid/userinfo", get(userinfo))
}

async fn request_token(
    State(services): State<AppState>,
    req: Ruma<request_openid_token::v3::Request>,
) -> Result<RumaResponse<request_openid_token::v3::Response>, ApiError> {
    let token = services.accounts.request_openid_token(req.session(), &req.user_id)?;
    let server_name = services.config().server_name.clone();
    Ok(request_openid_token::v3::Response::new(
        token,
        TokenType::Bearer,
        server_name,
        OPENID_TOKEN_LIFETIME,
    )
    .into())
}

#[derive(Deserialize)]
struct UserinfoQuery {
    access_token: Option<String>,
}

/// Not ruma's request type: without a token it answers 400; the spec's answer is 401.
async fn userinfo(
    State(services): State<AppState>,
    QueryArgs(q): QueryArgs<UserinfoQuery>,
) -> Result<RumaResponse<get_openid_userinfo::v1::Response>, ApiError> {
    let token = q.access_token.ok_or_else(Error::missing_token)?;
    let user_id = services.accounts.openid_user(&token)?;
    Ok(get_openid_userinfo::v1::Response::new(user_id).into())
}
