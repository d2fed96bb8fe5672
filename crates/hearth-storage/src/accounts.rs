//! Accounts, devices and their sessions (access and refresh tokens), registration tokens and
//! login tokens.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{DeviceId, OwnedDeviceId, OwnedUserId, UserId};

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user_id: OwnedUserId,
    /// argon2id PHC string; `None` when the account cannot log in with a password.
    pub password_hash: Option<String>,
    pub is_admin: bool,
    pub is_guest: bool,
    pub deactivated: bool,
    /// Deactivated with `erase`: others who were not in a room when the user sent an event
    /// there see it redacted.
    pub erased: bool,
    pub created_ts: u64,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_id: OwnedUserId,
    pub password_hash: Option<String>,
    pub is_admin: bool,
    pub is_guest: bool,
    /// The profile's first `displayname` (Synapse gives new accounts their localpart).
    pub displayname: Option<String>,
    /// A registration token to spend on this account, in the same transaction: if it is no
    /// longer valid, nothing is written and `create_user` fails with `M_FORBIDDEN`.
    pub registration_token: Option<String>,
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
    /// The stored hash, for a constant-time comparison with the presented one.
    pub token_hash: [u8; 32],
    pub user_id: OwnedUserId,
    pub device_id: OwnedDeviceId,
    pub expires_ts: Option<u64>,
    pub is_guest: bool,
    /// Set on an access token issued by a refresh: the first use of it retires the refresh
    /// token that was spent to get it.
    pub retires_refresh: bool,
}

#[derive(Debug, Clone)]
pub struct DeviceRecord {
    pub device_id: OwnedDeviceId,
    pub display_name: Option<String>,
    pub last_seen_ip: Option<String>,
    pub last_seen_ts: Option<u64>,
    /// The `User-Agent` of the last request seen.
    pub last_seen_user_agent: Option<String>,
}

/// A device seen in use: written lazily, in batches.
#[derive(Debug, Clone)]
pub struct LastSeen {
    pub user_id: OwnedUserId,
    pub device_id: OwnedDeviceId,
    pub ip: String,
    pub ts: u64,
    pub user_agent: Option<String>,
}

/// New tokens replacing a refresh token (spec: client-server-api "Refreshing access tokens").
#[derive(Debug, Clone)]
pub struct Refresh {
    pub old_refresh_hash: [u8; 32],
    pub access_token_hash: [u8; 32],
    pub refresh_token_hash: [u8; 32],
    pub expires_ts: Option<u64>,
}

/// What happens to a user's sessions when their password changes.
#[derive(Debug, Clone)]
pub enum SessionsOnPasswordChange {
    Keep,
    /// Delete every device (with its tokens) except `keep`.
    DeleteDevices {
        keep: Option<OwnedDeviceId>,
    },
    /// Revoke every access and refresh token but keep the devices, so that no other area has
    /// to hear of it (admin tooling that runs without the server).
    RevokeTokens,
}

#[derive(Debug, Clone)]
pub struct RegistrationTokenRecord {
    pub token: String,
    /// How many accounts it may still create in total; `None`: unlimited.
    pub uses_allowed: Option<u32>,
    pub completed: u32,
    /// When it stops working (ms since epoch); `None`: never.
    pub expiry_ts: Option<u64>,
}

#[async_trait]
pub trait AccountStore {
    /// Create the user; `Ok(false)` if the user ID is taken (nothing is written then).
    async fn create_user(&self, user: NewUser) -> Result<bool>;

    async fn get_user(&self, user_id: &UserId) -> Result<Option<UserRecord>>;

    /// Make an active guest account a full one with this password; `Ok(false)` (nothing
    /// written) if the user is not an active guest.
    async fn upgrade_guest(&self, user_id: &UserId, password_hash: String) -> Result<bool>;

    /// Set (or clear) the password, and end sessions as `sessions` says, in one transaction.
    /// Returns the devices deleted. `M_NOT_FOUND` if there is no such user.
    async fn set_password(
        &self,
        user_id: &UserId,
        password_hash: Option<String>,
        sessions: SessionsOnPasswordChange,
    ) -> Result<Vec<OwnedDeviceId>>;

    /// Mark the user deactivated (and erased when `erase`), clear its password, delete every
    /// device and token. Returns the devices deleted.
    async fn deactivate_user(&self, user_id: &UserId, erase: bool) -> Result<Vec<OwnedDeviceId>>;

    /// Create the device if it does not exist (keeping it otherwise) and issue its tokens.
    /// Tokens the device had before are revoked (spec: "Relationship between access tokens and
    /// devices").
    async fn create_session(&self, session: NewSession) -> Result<()>;

    /// Find the session an access token (by its hash) belongs to.
    async fn find_access_token(&self, token_hash: [u8; 32]) -> Result<Option<TokenOwner>>;

    /// Spend a refresh token for new tokens of the same device. `None` if it is unknown.
    async fn refresh_session(
        &self,
        refresh: Refresh,
    ) -> Result<Option<(OwnedUserId, OwnedDeviceId)>>;

    /// The access token was used: revoke the refresh token spent to obtain it.
    async fn retire_spent_refresh_token(&self, access_token_hash: [u8; 32]) -> Result<()>;

    async fn get_devices(&self, user_id: &UserId) -> Result<Vec<DeviceRecord>>;

    async fn get_device(
        &self,
        user_id: &UserId,
        device_id: &DeviceId,
    ) -> Result<Option<DeviceRecord>>;

    /// Set a device's display name; `Ok(false)` if there is no such device.
    async fn set_device_display_name(
        &self,
        user_id: &UserId,
        device_id: &DeviceId,
        display_name: Option<String>,
    ) -> Result<bool>;

    /// Delete devices and their tokens. Unknown device IDs are ignored.
    async fn delete_devices(&self, user_id: &UserId, device_ids: Vec<OwnedDeviceId>) -> Result<()>;

    /// Delete every device of the user and their tokens; returns the devices deleted.
    async fn delete_all_devices(&self, user_id: &UserId) -> Result<Vec<OwnedDeviceId>>;

    /// Record when and from where devices were last seen.
    async fn record_last_seen(&self, seen: Vec<LastSeen>) -> Result<()>;

    async fn create_registration_token(&self, token: RegistrationTokenRecord) -> Result<bool>;

    /// Whether the token exists, has not expired and has uses left at `now`.
    async fn registration_token_valid(&self, token: &str, now: u64) -> Result<bool>;

    /// Store a single-use login token (by hash) for `m.login.token`.
    async fn create_login_token(
        &self,
        token_hash: [u8; 32],
        user_id: &UserId,
        expires_ts: u64,
    ) -> Result<()>;

    /// Consume a login token: its user if it existed and had not expired at `now`.
    async fn take_login_token(&self, token_hash: [u8; 32], now: u64)
    -> Result<Option<OwnedUserId>>;
}
