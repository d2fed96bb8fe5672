//! The content repository's HTTP surface: the authenticated `/_matrix/client/v1/media/*`
//! endpoints, the deprecated `/_matrix/media/v3/*` ones, uploads and `/_matrix/media/v1/create`.

mod config;
mod download;
mod preview;
mod response;
mod thumbnail;
mod upload;

use axum::Router;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(upload::routes())
        .merge(download::routes())
        .merge(thumbnail::routes())
        .merge(config::routes())
        .merge(preview::routes())
}
