//! Event relationships and threads (spec: client-server-api "Relationships API", "Querying
//! threads in a room").

use axum::{Router, extract::State};
use hearth_core::Error;
use hearth_service::{
    relations::{RelationsPage, RelationsRequest},
    rooms::{TimelineDirection, Viewer},
};
use ruma::{
    UInt,
    api::{
        Direction,
        client::{
            relations::{
                get_relating_events, get_relating_events_with_rel_type,
                get_relating_events_with_rel_type_and_event_type,
            },
            threads::get_threads::{self, v1::IncludeThreads},
        },
    },
    serde::Raw,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<get_relating_events::v1::Request, _, _>(relations)
        .ruma::<get_relating_events_with_rel_type::v1::Request, _, _>(relations_of_type)
        .ruma::<get_relating_events_with_rel_type_and_event_type::v1::Request, _, _>(
            relations_of_type_and_event_type,
        )
        .merge(
            Router::new()
                .ruma::<get_threads::v1::Request, _, _>(threads)
                .route_layer(axum::middleware::map_request(default_include)),
        )
}

/// ruma 0.16 insists on `include` in `/threads`' query, which the spec makes optional
/// (default `all`): add it when missing.
async fn default_include(mut req: axum::extract::Request) -> axum::extract::Request {
    let query = req.uri().query().unwrap_or_default();
    if form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "include") {
        return req;
    }
    let query =
        if query.is_empty() { "include=all".to_owned() } else { format!("{query}&include=all") };
    let mut parts = req.uri().clone().into_parts();
    if let Ok(pq) = format!("{}?{query}", req.uri().path()).parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

fn direction(dir: Direction) -> TimelineDirection {
    match dir {
        Direction::Forward => TimelineDirection::Forward,
        _ => TimelineDirection::Backward,
    }
}

/// The parts every form of the endpoint shares.
macro_rules! relations_response {
    ($module:ident, $page:expr) => {{
        let page: RelationsPage = $page;
        let mut response =
            $module::v1::Response::new(page.chunk.into_iter().map(Raw::from_json).collect());
        response.next_batch = page.next_batch;
        response.prev_batch = page.prev_batch;
        response.recursion_depth = page.recursion_depth.map(UInt::from);
        Ok(response.into())
    }};
}

async fn relations(
    State(services): State<AppState>,
    req: Ruma<get_relating_events::v1::Request>,
) -> Result<RumaResponse<get_relating_events::v1::Response>, ApiError> {
    let s = req.session();
    let viewer = Viewer { user: &s.user_id, device: Some(&s.device_id) };
    let page = services
        .relations
        .relations(
            viewer,
            RelationsRequest {
                room_id: &req.room_id,
                event_id: &req.event_id,
                rel_type: None,
                event_type: None,
                from: req.from.as_deref(),
                to: req.to.as_deref(),
                dir: direction(req.dir),
                limit: req.limit.map(u64::from),
                recurse: req.recurse,
            },
        )
        .await?;
    relations_response!(get_relating_events, page)
}

async fn relations_of_type(
    State(services): State<AppState>,
    req: Ruma<get_relating_events_with_rel_type::v1::Request>,
) -> Result<RumaResponse<get_relating_events_with_rel_type::v1::Response>, ApiError> {
    let s = req.session();
    let viewer = Viewer { user: &s.user_id, device: Some(&s.device_id) };
    let page = services
        .relations
        .relations(
            viewer,
            RelationsRequest {
                room_id: &req.room_id,
                event_id: &req.event_id,
                rel_type: Some(req.rel_type.to_string()),
                event_type: None,
                from: req.from.as_deref(),
                to: req.to.as_deref(),
                dir: direction(req.dir),
                limit: req.limit.map(u64::from),
                recurse: req.recurse,
            },
        )
        .await?;
    relations_response!(get_relating_events_with_rel_type, page)
}

async fn relations_of_type_and_event_type(
    State(services): State<AppState>,
    req: Ruma<get_relating_events_with_rel_type_and_event_type::v1::Request>,
) -> Result<RumaResponse<get_relating_events_with_rel_type_and_event_type::v1::Response>, ApiError>
{
    let s = req.session();
    let viewer = Viewer { user: &s.user_id, device: Some(&s.device_id) };
    let page = services
        .relations
        .relations(
            viewer,
            RelationsRequest {
                room_id: &req.room_id,
                event_id: &req.event_id,
                rel_type: Some(req.rel_type.to_string()),
                event_type: Some(req.event_type.to_string()),
                from: req.from.as_deref(),
                to: req.to.as_deref(),
                dir: direction(req.dir),
                limit: req.limit.map(u64::from),
                recurse: req.recurse,
            },
        )
        .await?;
    relations_response!(get_relating_events_with_rel_type_and_event_type, page)
}

async fn threads(
    State(services): State<AppState>,
    req: Ruma<get_threads::v1::Request>,
) -> Result<RumaResponse<get_threads::v1::Response>, ApiError> {
    let s = req.session();
    let participated = match &req.include {
        IncludeThreads::All => false,
        IncludeThreads::Participated => true,
        other => {
            let msg = format!("Unknown value {:?} of `include`", other.as_str());
            return Err(Error::invalid_param(msg).into());
        }
    };
    let viewer = Viewer { user: &s.user_id, device: Some(&s.device_id) };
    let page = services
        .relations
        .threads(viewer, &req.room_id, participated, req.from.as_deref(), req.limit.map(u64::from))
        .await?;
    let mut response =
        get_threads::v1::Response::new(page.chunk.into_iter().map(Raw::from_json).collect());
    response.next_batch = page.next_batch;
    Ok(response.into())
}
