//! `POST /_matrix/client/unstable/org.matrix.simplified_msc3575/sync` (MSC4186, simplified
//! sliding sync).

use std::collections::BTreeMap;

use axum::{Router, extract::State};
use hearth_core::Error;
use hearth_service::sliding_sync::{ExtraFilters, SlidingSyncRequest};
use ruma::api::client::sync::sync_events::v5;
use serde::Deserialize;

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().ruma::<v5::Request, _, _>(sliding_sync)
}

async fn sliding_sync(
    State(services): State<AppState>,
    req: Ruma<v5::Request>,
) -> Result<RumaResponse<v5::Response>, ApiError> {
    let session = req.session();
    let extra = extra_filters(&req.raw_body)?;
    let response = services
        .sliding_sync
        .sync(SlidingSyncRequest {
            user: &session.user_id,
            device: &session.device_id,
            body: &req.body,
            extra_filters: &extra,
        })
        .await?;
    Ok(response.into())
}

/// List filters of the MSC's current text that ruma's request type lacks (`spaces`, `tags`,
/// `not_tags`, `is_invited`), by list key; `M_BAD_JSON` when one has the wrong shape.
fn extra_filters(body: &[u8]) -> Result<BTreeMap<String, ExtraFilters>, Error> {
    #[derive(Deserialize)]
    struct List {
        #[serde(default)]
        filters: Option<ExtraFilters>,
    }
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        lists: BTreeMap<String, List>,
    }
    if body.is_empty() {
        return Ok(BTreeMap::new());
    }
    let body: Body = serde_json::from_slice(body)
        .map_err(|e| Error::bad_json(format!("Invalid list filters: {e}")))?;
    Ok(body.lists.into_iter().filter_map(|(key, list)| Some((key, list.filters?))).collect())
}
