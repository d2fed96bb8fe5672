//! Real-client tests: the `matrix-sdk` crate (and `matrix-sdk-ui`) drives a real Hearth over
//! HTTP, as Element X does. A test binary of its own so the HTTP tests do not link the SDK.

// matrix-sdk's sync future is deeply nested: proving it `Send` for `tokio::spawn` needs more
// than the default.
#![recursion_limit = "256"]
#[path = "../common/mod.rs"]
mod common;

mod e2ee;
mod sliding_sync;
