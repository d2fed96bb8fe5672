//! What wraps every route: client IP, CORS, panics, unknown paths and methods.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    Router,
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use hearth_core::Error;
use hearth_service::Services;
use http::{HeaderValue, Method, StatusCode, header};
use tower_http::{catch_panic::CatchPanicLayer, cors::CorsLayer};

use crate::{ApiError, AppState};

/// The address of the client, after trusted proxies.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

pub(crate) fn wrap(routes: Router<AppState>, services: Arc<Services>) -> Router<AppState> {
    routes
        .fallback(unrecognized)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(services, client_ip))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            ApiError(Error::internal("handler panicked")).into_response()
        }))
        .layer(cors())
}

/// Spec: client-server-api, "Web Browser Clients": every response carries these headers and
/// OPTIONS preflights succeed on every path.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::any())
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::HeaderName::from_static("x-requested-with"),
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
        ])
}

async fn unrecognized() -> Response {
    ApiError(Error::unrecognized(StatusCode::NOT_FOUND, "Unrecognized request")).into_response()
}

async fn method_not_allowed() -> Response {
    ApiError(Error::unrecognized(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed"))
        .into_response()
}

/// Take the client IP from the connection, or from `X-Forwarded-For` when the connection comes
/// from a configured trusted proxy: the right-most address not itself a trusted proxy.
async fn client_ip(State(services): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let trusted = &services.config().http.trusted_proxies;
    let ip = if trusted.contains(&peer) {
        forwarded_for(req.headers().get("x-forwarded-for"), trusted).unwrap_or(peer)
    } else {
        peer
    };
    req.extensions_mut().insert(ClientIp(ip));
    // One debug line per request; the path only, since a query may carry an access token.
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    tracing::debug!(
        %ip, %method, path, status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64, "request"
    );
    response
}

fn forwarded_for(value: Option<&HeaderValue>, trusted: &[IpAddr]) -> Option<IpAddr> {
    let value = value?.to_str().ok()?;
    value
        .rsplit(',')
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .find(|ip| !trusted.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_skips_trusted_proxies() {
        let trusted: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap()];
        let header = HeaderValue::from_static("1.2.3.4, 5.6.7.8, 10.0.0.1");
        assert_eq!(forwarded_for(Some(&header), &trusted), Some("5.6.7.8".parse().unwrap()));
        assert_eq!(forwarded_for(None, &trusted), None);
    }
}
