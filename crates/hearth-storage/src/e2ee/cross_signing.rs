//! Cross-signing keys (master, self-signing, user-signing) and signatures added to keys.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedUserId, UserId};

use crate::DeviceListChange;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CrossSigningKeyType {
    Master,
    SelfSigning,
    UserSigning,
}

impl CrossSigningKeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            CrossSigningKeyType::Master => "master",
            CrossSigningKeyType::SelfSigning => "self_signing",
            CrossSigningKeyType::UserSigning => "user_signing",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "master" => Some(CrossSigningKeyType::Master),
            "self_signing" => Some(CrossSigningKeyType::SelfSigning),
            "user_signing" => Some(CrossSigningKeyType::UserSigning),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct StoredCrossSigningKey {
    pub key_type: CrossSigningKeyType,
    /// The unpadded base64 public key, which is also the key's ID.
    pub public_key: String,
    /// Canonical JSON, as uploaded.
    pub json: String,
}

/// A signature added to a key after its upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRecord {
    pub target_user_id: OwnedUserId,
    /// A device ID, or a cross-signing public key.
    pub target_key_id: String,
    pub signer_user_id: OwnedUserId,
    /// `ed25519:<device ID or public key>`.
    pub signer_key_id: String,
    pub signature: String,
}

#[async_trait]
pub trait CrossSigningStore {
    async fn cross_signing_keys(&self, user_id: &UserId) -> Result<Vec<StoredCrossSigningKey>>;

    /// Store `keys`, replacing the user's keys of the same types (and dropping signatures on
    /// the keys they replace), and record `changes`, in one transaction.
    async fn put_cross_signing_keys(
        &self,
        user_id: &UserId,
        keys: Vec<StoredCrossSigningKey>,
        changes: Vec<DeviceListChange>,
    ) -> Result<()>;

    /// Add verified signatures and record `changes`, in one transaction.
    async fn add_signatures(
        &self,
        signatures: Vec<SignatureRecord>,
        changes: Vec<DeviceListChange>,
    ) -> Result<()>;

    /// Whether `user_id` has a device called `device_id` (cross-signing public keys and device
    /// IDs share a namespace and must not collide).
    async fn has_device(&self, user_id: &UserId, device_id: &str) -> Result<bool>;
}
