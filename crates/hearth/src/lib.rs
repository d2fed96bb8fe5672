//! The `hearth` binary's library side: wiring config, storage, services and HTTP into a
//! running server, and the command-line tools. Integration tests start servers through it.

pub mod cli;
pub mod server;
