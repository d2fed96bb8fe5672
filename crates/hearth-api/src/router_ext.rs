//! Registering a handler at every path ruma knows for an endpoint (r0, v3, unstable...).

use axum::{
    Router,
    handler::Handler,
    routing::{MethodFilter, on},
};
use ruma::api::{IncomingRequest, path_builder::PathBuilder};

use crate::AppState;

pub trait RouterExt {
    /// Route `handler` for request type `T` on `T`'s method and all its paths.
    fn ruma<T, H, M>(self, handler: H) -> Self
    where
        T: IncomingRequest,
        H: Handler<M, AppState>,
        M: 'static;
}

impl RouterExt for Router<AppState> {
    fn ruma<T, H, M>(mut self, handler: H) -> Self
    where
        T: IncomingRequest,
        H: Handler<M, AppState>,
        M: 'static,
    {
        let filter =
            MethodFilter::try_from(T::METHOD).expect("ruma endpoints use standard methods");
        for path in T::PATH_BUILDER.all_paths() {
            self = self.route(path, on(filter, handler.clone()));
        }
        self
    }
}
