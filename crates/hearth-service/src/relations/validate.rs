//! Checks on the relationship of an event a client sends (Synapse's rules, spec "Validation
//! of `m.thread` relationships"): the parent must be in the same room, a thread cannot start
//! from an event that itself has a relationship, and a user annotates an event with one key
//! once.

use hearth_core::{Error, Result};
use http::StatusCode;
use ruma::{RoomId, UserId, api::error::ErrorKind};
use serde_json::Value;

use super::{Service, index::relation_in};

/// Annotation keys longer than this are refused (Synapse).
const MAX_ANNOTATION_KEY: usize = 500;

impl Service {
    pub(crate) async fn validate_relation(
        &self,
        sender: &UserId,
        room_id: &RoomId,
        content: &Value,
    ) -> Result<()> {
        let Some(relation) = relation_in(content) else { return Ok(()) };
        let bad = |msg: &str| Error::unknown(StatusCode::BAD_REQUEST, msg);
        // An unknown parent may arrive later (federation); nothing to check against.
        let parent = self.services()?.rooms.pdu(&relation.relates_to).await?;
        if parent.as_ref().is_some_and(|p| p.room_id != room_id) {
            return Err(bad("Relations must be in the same room"));
        }
        match relation.rel_type.as_str() {
            "m.annotation" => {
                let key = relation.key.as_deref().unwrap_or_default();
                if key.is_empty() {
                    return Err(bad("Annotations need a key"));
                }
                if key.len() > MAX_ANNOTATION_KEY {
                    return Err(bad("Annotation key is too long"));
                }
                let storage = &self.ctx.storage;
                if storage.has_annotation(&relation.relates_to, sender, key).await? {
                    return Err(Error::new(
                        StatusCode::BAD_REQUEST,
                        ErrorKind::DuplicateAnnotation,
                        "You already annotated this event with this key",
                    ));
                }
            }
            "m.thread"
                if parent.is_some()
                    && self.ctx.storage.relation_of(&relation.relates_to).await?.is_some() =>
            {
                return Err(bad("Cannot start a thread from an event with a relation"));
            }
            _ => {}
        }
        Ok(())
    }
}
