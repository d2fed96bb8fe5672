//! End-to-end encryption with real clients (issue 6): matrix-sdk devices exchange Olm and
//! Megolm keys through Hearth, verify each other and restore history from key backup. Any
//! wrong field on the server shows up here as a message that does not decrypt.

mod backup;
mod deleted_device;
mod room_keys;
mod support;
mod verification;
