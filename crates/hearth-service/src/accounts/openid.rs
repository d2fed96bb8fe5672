//! OpenID tokens (spec: client-server-api "OpenID", server-server-api "OpenID"): a user asks
//! for a token to prove their identity to a third party, which exchanges it with this server
//! (`/_matrix/federation/v1/openid/userinfo`) for their user ID. Tokens are short-lived and
//! kept in memory only: after a restart a client asks for a new one.

use std::{collections::HashMap, time::Duration};

use hearth_core::{
    Error, Result,
    utils::{hash_token, secret_token},
};
use parking_lot::Mutex;
use ruma::{OwnedUserId, UserId};
use tokio::time::Instant;

use super::{Service, Session};

/// How long a token is valid (Synapse's default).
pub const OPENID_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Issued tokens by hash, with their user and expiry.
#[derive(Default)]
pub(super) struct OpenIdTokens(Mutex<HashMap<[u8; 32], (OwnedUserId, Instant)>>);

impl Service {
    /// `POST /user/{userId}/openid/request_token`: only for oneself.
    pub fn request_openid_token(&self, session: &Session, user_id: &UserId) -> Result<String> {
        if session.user_id != user_id {
            return Err(Error::forbidden("You may only request OpenID tokens for yourself"));
        }
        let token = secret_token();
        let now = Instant::now();
        let mut tokens = self.openid.0.lock();
        tokens.retain(|_, (_, expires)| *expires > now);
        tokens.insert(hash_token(&token), (user_id.to_owned(), now + OPENID_TOKEN_LIFETIME));
        Ok(token)
    }

    /// The user an OpenID token was issued to: `M_UNKNOWN_TOKEN` when it is unknown or
    /// expired.
    pub fn openid_user(&self, token: &str) -> Result<OwnedUserId> {
        let tokens = self.openid.0.lock();
        match tokens.get(&hash_token(token)) {
            Some((user, expires)) if *expires > Instant::now() => Ok(user.clone()),
            _ => Err(Error::unknown_token(false, "Unknown or expired OpenID token")),
        }
    }
}
