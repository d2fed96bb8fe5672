//! Filters (spec: client-server-api "Filtering"): validated by parsing them as ruma's
//! `FilterDefinition`, stored per user.

use std::sync::Arc;

use hearth_core::{Error, Result};
use ruma::{
    UserId,
    api::client::filter::{EventFormat, FilterDefinition},
};

use crate::Ctx;

pub struct Service {
    ctx: Arc<Ctx>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>) -> Self {
        Service { ctx }
    }

    pub async fn create(
        &self,
        sender: &UserId,
        user_id: &UserId,
        filter: &FilterDefinition,
    ) -> Result<String> {
        if sender != user_id {
            return Err(Error::forbidden("Cannot create filters for other users"));
        }
        check(filter)?;
        let json = serde_json::to_string(filter)?;
        Ok(self.ctx.storage.create_filter(user_id, json).await?.to_string())
    }

    /// `M_NOT_FOUND` for an unknown ID (or one that is not a filter ID at all).
    pub async fn get(
        &self,
        sender: &UserId,
        user_id: &UserId,
        filter_id: &str,
    ) -> Result<FilterDefinition> {
        if sender != user_id {
            return Err(Error::forbidden("Cannot read other users' filters"));
        }
        let not_found = || Error::not_found("No such filter");
        let id: u64 = filter_id.parse().map_err(|_| not_found())?;
        let json = self.ctx.storage.get_filter(user_id, id).await?.ok_or_else(not_found)?;
        Ok(serde_json::from_str(&json)?)
    }

    /// A filter of the user for sync: by ID, or given inline as JSON (`filter={...}`).
    pub async fn load(&self, user_id: &UserId, filter: &str) -> Result<FilterDefinition> {
        if filter.trim_start().starts_with('{') {
            let filter = serde_json::from_str(filter)
                .map_err(|e| Error::bad_json(format!("Invalid filter: {e}")))?;
            check(&filter)?;
            return Ok(filter);
        }
        self.get(user_id, user_id, filter).await
    }
}

/// What ruma's parsing lets through but the spec's schema does not.
fn check(filter: &FilterDefinition) -> Result<()> {
    match filter.event_format {
        EventFormat::Client | EventFormat::Federation => Ok(()),
        ref other => Err(Error::bad_json(format!("Unknown event_format {:?}", other.as_str()))),
    }
}
