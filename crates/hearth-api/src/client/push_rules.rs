//! Push rules (spec: client-server-api "Push Rules: API").

use std::net::IpAddr;

use axum::{
    Router,
    extract::{Path, Request, State},
    response::{IntoResponse, Response},
    routing::{any, get, put},
};
use hearth_core::Error;
use http::StatusCode;
use ruma::api::client::push::{
    RuleKind, delete_pushrule, get_pushrule, get_pushrule_actions, get_pushrule_enabled,
    get_pushrules_all, get_pushrules_global_scope, set_pushrule, set_pushrule_actions,
    set_pushrule_enabled,
};

use crate::{
    ApiError, AppState, RouterExt, Ruma, RumaResponse, middleware::ClientIp,
    ruma_wrapper::extract_access_token,
};

pub(crate) fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .ruma::<get_pushrules_all::v3::Request, _, _>(get_all)
        .ruma::<get_pushrules_global_scope::v3::Request, _, _>(get_global)
        .ruma::<get_pushrule::v3::Request, _, _>(get_rule)
        .ruma::<set_pushrule::v3::Request, _, _>(set_rule)
        .ruma::<delete_pushrule::v3::Request, _, _>(delete_rule)
        .ruma::<get_pushrule_enabled::v3::Request, _, _>(get_enabled)
        .ruma::<set_pushrule_enabled::v3::Request, _, _>(set_enabled)
        .ruma::<get_pushrule_actions::v3::Request, _, _>(get_actions)
        .ruma::<set_pushrule_actions::v3::Request, _, _>(set_actions);
    // Any other path under /pushrules/ (no scope, another scope, no rule ID, an unknown
    // attribute...) is a malformed push rule path: 400, as Synapse answers.
    for version in ["r0", "v3"] {
        let base = format!("/_matrix/client/{version}/pushrules/");
        router = router
            .route(&format!("{base}{{*rest}}"), any(malformed))
            .route(&base, put(malformed).post(malformed).delete(malformed))
            .route(
                &format!("{base}global/{{kind}}/"),
                get(rules_of_kind).put(malformed).post(malformed).delete(malformed),
            );
    }
    router
}

async fn malformed() -> Response {
    ApiError(Error::unrecognized(StatusCode::BAD_REQUEST, "Malformed push rule path"))
        .into_response()
}

/// `GET /pushrules/global/{kind}/`: Synapse lists the rules of one kind; ruma has no type for
/// it, so the caller is authenticated here.
async fn rules_of_kind(
    State(services): State<AppState>,
    Path(kind): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, _) = req.into_parts();
    let token = extract_access_token(&parts).ok_or_else(Error::missing_token)?;
    let ip = parts.extensions.get::<ClientIp>().map_or(IpAddr::from([0; 4]), |c| c.0);
    let session = services.accounts.authenticate(&token, ip).await?;
    let rules = services.push.rules_of_kind(&session, &RuleKind::from(kind)).await?;
    let body = serde_json::to_vec(&rules).map_err(Error::internal)?;
    Ok(([(http::header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn get_all(
    State(services): State<AppState>,
    req: Ruma<get_pushrules_all::v3::Request>,
) -> Result<RumaResponse<get_pushrules_all::v3::Response>, ApiError> {
    let rules = services.push.rules(req.session()).await?;
    Ok(get_pushrules_all::v3::Response::new(rules).into())
}

async fn get_global(
    State(services): State<AppState>,
    req: Ruma<get_pushrules_global_scope::v3::Request>,
) -> Result<RumaResponse<get_pushrules_global_scope::v3::Response>, ApiError> {
    let rules = services.push.rules(req.session()).await?;
    Ok(get_pushrules_global_scope::v3::Response::new(rules).into())
}

async fn get_rule(
    State(services): State<AppState>,
    req: Ruma<get_pushrule::v3::Request>,
) -> Result<RumaResponse<get_pushrule::v3::Response>, ApiError> {
    let rule = services.push.rule(req.session(), &req.kind, &req.rule_id).await?;
    Ok(get_pushrule::v3::Response::new(rule).into())
}

async fn set_rule(
    State(services): State<AppState>,
    req: Ruma<set_pushrule::v3::Request>,
) -> Result<RumaResponse<set_pushrule::v3::Response>, ApiError> {
    let (session, body) = (req.session(), &req.body);
    let (before, after) = (body.before.as_deref(), body.after.as_deref());
    services.push.set_rule(session, body.rule.clone(), before, after).await?;
    Ok(set_pushrule::v3::Response::new().into())
}

async fn delete_rule(
    State(services): State<AppState>,
    req: Ruma<delete_pushrule::v3::Request>,
) -> Result<RumaResponse<delete_pushrule::v3::Response>, ApiError> {
    services.push.delete_rule(req.session(), &req.kind, &req.rule_id).await?;
    Ok(delete_pushrule::v3::Response::new().into())
}

async fn get_enabled(
    State(services): State<AppState>,
    req: Ruma<get_pushrule_enabled::v3::Request>,
) -> Result<RumaResponse<get_pushrule_enabled::v3::Response>, ApiError> {
    let rule = services.push.rule(req.session(), &req.kind, &req.rule_id).await?;
    Ok(get_pushrule_enabled::v3::Response::new(rule.enabled).into())
}

async fn set_enabled(
    State(services): State<AppState>,
    req: Ruma<set_pushrule_enabled::v3::Request>,
) -> Result<RumaResponse<set_pushrule_enabled::v3::Response>, ApiError> {
    let (session, body) = (req.session(), &req.body);
    services.push.set_rule_enabled(session, &body.kind, &body.rule_id, body.enabled).await?;
    Ok(set_pushrule_enabled::v3::Response::new().into())
}

async fn get_actions(
    State(services): State<AppState>,
    req: Ruma<get_pushrule_actions::v3::Request>,
) -> Result<RumaResponse<get_pushrule_actions::v3::Response>, ApiError> {
    let rule = services.push.rule(req.session(), &req.kind, &req.rule_id).await?;
    Ok(get_pushrule_actions::v3::Response::new(rule.actions).into())
}

async fn set_actions(
    State(services): State<AppState>,
    req: Ruma<set_pushrule_actions::v3::Request>,
) -> Result<RumaResponse<set_pushrule_actions::v3::Response>, ApiError> {
    let (session, body) = (req.session(), &req.body);
    let actions = body.actions.clone();
    services.push.set_rule_actions(session, &body.kind, &body.rule_id, actions).await?;
    Ok(set_pushrule_actions::v3::Response::new().into())
}
