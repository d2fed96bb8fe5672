//! Erased users (spec: client-server-api "Account deactivation", `erase`): their events are
//! shown redacted to those who were not in the room when they were sent, as Synapse does; those
//! who were there keep seeing them.

use hearth_core::Result;
use ruma::UserId;

use super::Service;

impl Service {
    /// Whether the (local) sender asked to be erased; remembered per sender.
    pub(crate) async fn sender_erased(&self, sender: &UserId) -> Result<bool> {
        if sender.server_name() != self.ctx.config.server_name {
            return Ok(false);
        }
        if let Some(erased) = self.erased.lock().get(sender) {
            return Ok(*erased);
        }
        let erased = self.ctx.storage.get_user(sender).await?.is_some_and(|u| u.erased);
        self.erased.lock().put(sender.to_owned(), erased);
        Ok(erased)
    }

    /// The user was deactivated: look their erasure up again.
    pub fn forget_erasure(&self, user: &UserId) {
        self.erased.lock().pop(user);
    }
}
