//! Accounts, devices and their sessions (access and refresh tokens), registration tokens.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedDeviceId, OwnedUserId, UserId};

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user_id: OwnedUserId,
    /// argon2id PHC string; `None` when the account cannot log in with a password.
    pub password_hash: Option<String>,
    pub is_admin: bool,
    pub is_guest: bool,
    pub deactivated: bool,
    pub created_ts: u64,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_id: OwnedUserId,
    pub password_hash: Option<String>,
    pub is_admin: bool,
    pub is_guest: bool,
}

/// A logged-in device: the device row plus the tokens that authenticate it.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub user_id: OwnedUserId,
    pub device_id: OwnedDeviceId,
    pub display_name: Option<String>,
    /// SHA-256 of the access token.
    pub access_token_hash: [u8; 32],
    /// When the access token stops working (ms since epoch); `None`: never.
    pub expires_ts: Option<u64>,
    /// SHA-256 of the refresh token, for clients that asked for one.
    pub refresh_token_hash: Option<[u8; 32]>,
    pub ip: Option<String>,
}

/// What an access token resolves to.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub user_id: OwnedUserId,
    pub device_id: OwnedDeviceId,
    pub expires_ts: Option<u64>,
    pub is_guest: bool,
}

#[async_trait]
pub trait AccountStore {
    /// Create the user; `Ok(false)` if the user ID is taken (nothing is written then).
    async fn create_user(&self, user: NewUser) -> Result<bool>;

    async fn get_user(&self, user_id: &UserId) -> Result<Option<UserRecord>>;

    /// Create the device if it does not exist (keeping it otherwise) and issue its tokens.
    async fn create_session(&self, session: NewSession) -> Result<()>;

    /// Find the session an access token (by its hash) belongs to.
    async fn find_access_token(&self, token_hash: [u8; 32]) -> Result<Option<TokenOwner>>;
}
