//! Keys (spec: client-server-api "Key management API", "Cross-signing").

use axum::{Router, extract::State};
use hearth_service::e2ee::{SigningKeysUpload, UploadedKeys};
use ruma::api::client::keys::{
    claim_keys, get_key_changes, get_keys, upload_keys, upload_signatures, upload_signing_keys,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<upload_keys::v3::Request, _, _>(upload)
        .ruma::<get_keys::v3::Request, _, _>(query)
        .ruma::<claim_keys::v3::Request, _, _>(claim)
        .ruma::<get_key_changes::v3::Request, _, _>(changes)
        .ruma::<upload_signing_keys::v3::Request, _, _>(upload_signing)
        .ruma::<upload_signatures::v3::Request, _, _>(upload_signatures)
}

async fn upload(
    State(services): State<AppState>,
    req: Ruma<upload_keys::v3::Request>,
) -> Result<RumaResponse<upload_keys::v3::Response>, ApiError> {
    let session = req.session();
    let keys = UploadedKeys {
        device_keys: req.device_keys.as_ref(),
        one_time_keys: &req.one_time_keys,
        fallback_keys: &req.fallback_keys,
    };
    let counts = services.e2ee.upload_keys(&session.user_id, &session.device_id, keys).await?;
    Ok(upload_keys::v3::Response::new(counts.one_time_key_counts).into())
}

async fn query(
    State(services): State<AppState>,
    req: Ruma<get_keys::v3::Request>,
) -> Result<RumaResponse<get_keys::v3::Response>, ApiError> {
    let user = req.session().user_id.clone();
    let body = req.body;
    let result = services.e2ee.query_keys(&user, body.device_keys, body.timeout).await?;
    let mut response = get_keys::v3::Response::new();
    response.failures = result.failures;
    response.device_keys = result.device_keys;
    response.master_keys = result.master_keys;
    response.self_signing_keys = result.self_signing_keys;
    response.user_signing_keys = result.user_signing_keys;
    Ok(response.into())
}

async fn claim(
    State(services): State<AppState>,
    req: Ruma<claim_keys::v3::Request>,
) -> Result<RumaResponse<claim_keys::v3::Response>, ApiError> {
    let body = req.body;
    let result = services.e2ee.claim_keys(body.one_time_keys, body.timeout).await?;
    let mut response = claim_keys::v3::Response::new(result.one_time_keys);
    response.failures = result.failures;
    Ok(response.into())
}

async fn changes(
    State(services): State<AppState>,
    req: Ruma<get_key_changes::v3::Request>,
) -> Result<RumaResponse<get_key_changes::v3::Response>, ApiError> {
    let lists = services.e2ee.key_changes(&req.session().user_id, &req.from, &req.to).await?;
    Ok(get_key_changes::v3::Response::new(lists.changed, lists.left).into())
}

async fn upload_signing(
    State(services): State<AppState>,
    req: Ruma<upload_signing_keys::v3::Request>,
) -> Result<RumaResponse<upload_signing_keys::v3::Response>, ApiError> {
    let upload = SigningKeysUpload {
        auth: req.auth.as_ref(),
        master_key: req.master_key.as_ref(),
        self_signing_key: req.self_signing_key.as_ref(),
        user_signing_key: req.user_signing_key.as_ref(),
    };
    services.e2ee.upload_signing_keys(req.session(), upload).await?;
    Ok(upload_signing_keys::v3::Response::new().into())
}

async fn upload_signatures(
    State(services): State<AppState>,
    req: Ruma<upload_signatures::v3::Request>,
) -> Result<RumaResponse<upload_signatures::v3::Response>, ApiError> {
    let failures = services.e2ee.upload_signatures(req.session(), &req.signed_keys).await?;
    let mut response = upload_signatures::v3::Response::new();
    response.failures = failures;
    Ok(response.into())
}
