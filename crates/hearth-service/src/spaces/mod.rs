//! Spaces (spec: client-server-api "Spaces"): the space hierarchy, walked over this server's
//! rooms (rooms only other servers know are skipped until federation).

mod children;
mod hierarchy;

use std::{
    collections::HashMap,
    sync::{Arc, Weak},
};

use hearth_core::Result;
use parking_lot::Mutex;

pub use hierarchy::{HierarchyPage, HierarchyRequest};

use crate::Services;

pub struct Service {
    services: Weak<Services>,
    /// Unfinished walks by pagination token.
    walks: Mutex<HashMap<String, hierarchy::Walk>>,
}

impl Service {
    pub(crate) fn new(services: Weak<Services>) -> Self {
        Service { services, walks: Mutex::default() }
    }

    fn services(&self) -> Result<Arc<Services>> {
        crate::upgrade(&self.services)
    }
}
