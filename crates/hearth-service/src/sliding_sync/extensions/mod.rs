//! Extensions (MSC3885 to-device, MSC3884 e2ee, MSC3959 account data, MSC3960 receipts,
//! MSC3961 typing, as MSC4186 carries them): each enabled with `enabled: true`; the room-scoped
//! ones (account data, receipts, typing) cover the rooms of the lists named in `lists` and the
//! subscriptions named in `rooms` (both default to `*`, every list or subscription).

mod account_data;
mod e2ee;
mod receipts;
mod to_device;
mod typing;

use std::collections::BTreeSet;

use hearth_core::Result;
use ruma::{
    OwnedRoomId,
    api::client::sync::sync_events::v5::{request::ExtensionRoomConfig, response},
    events::room::member::MembershipState,
};

pub use to_device::to_device_since;

use super::{connection::ConnState, lists::Selection, pass::Pass, room::Built};

impl Pass<'_> {
    /// Every enabled extension's response, and whether any carries data.
    pub async fn extensions(
        &self,
        selection: &Selection,
        built: &[Built],
        state: &mut ConnState,
    ) -> Result<(response::Extensions, bool)> {
        let ext = &self.req.extensions;
        let mut out = response::Extensions::default();
        let mut data = false;
        if ext.to_device.enabled == Some(true) {
            let to_device = self.to_device().await?;
            data |= !to_device.events.is_empty();
            out.to_device = Some(to_device);
        }
        if ext.e2ee.enabled == Some(true) {
            out.e2ee = self.e2ee().await?;
            data |= !out.e2ee.device_lists.is_empty();
        }
        if ext.account_data.enabled == Some(true) {
            let a = &ext.account_data;
            let rooms = scope(a.lists.as_ref(), a.rooms.as_ref(), selection);
            out.account_data = self.account_data(&rooms, state).await?;
            data |= !out.account_data.is_empty();
        }
        if ext.receipts.enabled == Some(true) {
            let r = &ext.receipts;
            let rooms = joined(scope(r.lists.as_ref(), r.rooms.as_ref(), selection), selection);
            out.receipts = self.receipts(&rooms, built, state).await?;
            data |= !out.receipts.is_empty();
        }
        if ext.typing.enabled == Some(true) {
            let t = &ext.typing;
            let rooms = joined(scope(t.lists.as_ref(), t.rooms.as_ref(), selection), selection);
            out.typing = self.typing(&rooms, built)?;
            data |= !out.typing.is_empty();
        }
        Ok((out, data))
    }
}

/// Receipts and typing only of rooms the user is in: not of rooms they left, nor of rooms
/// they are only invited to.
fn joined(rooms: BTreeSet<OwnedRoomId>, selection: &Selection) -> BTreeSet<OwnedRoomId> {
    rooms
        .into_iter()
        .filter(|room| {
            selection
                .rooms
                .get(room)
                .is_some_and(|s| s.membership.membership == MembershipState::Join)
        })
        .collect()
}

/// The rooms an extension covers: those in the windows of the named lists, and the named
/// subscriptions (MSC3575 extension scoping; `None` means `["*"]`).
fn scope(
    lists: Option<&Vec<String>>,
    rooms: Option<&Vec<ExtensionRoomConfig>>,
    selection: &Selection,
) -> BTreeSet<OwnedRoomId> {
    let mut out = BTreeSet::new();
    for (key, (_, in_range)) in &selection.lists {
        if lists.is_none_or(|l| l.iter().any(|k| k == "*" || k == key)) {
            out.extend(in_range.iter().cloned());
        }
    }
    match rooms {
        None => out.extend(selection.subscribed.iter().cloned()),
        Some(rooms) => {
            for room in rooms {
                match room {
                    ExtensionRoomConfig::AllSubscribed => {
                        out.extend(selection.subscribed.iter().cloned())
                    }
                    ExtensionRoomConfig::Room(id) if selection.subscribed.contains(id) => {
                        out.insert(id.clone());
                    }
                    _ => {}
                }
            }
        }
    }
    out
}
