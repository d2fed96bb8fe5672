//! What device-list tracking needs from room membership: who shares a room with whom, and
//! whose sharing began or ended between two stream positions.
//!
//! TODO(rooms, issue 3): membership storage is being built by the rooms engineer. Until it
//! lands, nobody shares a room with anybody but themselves; connect these two functions to it
//! then. Every room counts, encrypted or not.

use std::collections::BTreeSet;

use hearth_core::Result;
use ruma::{OwnedUserId, UserId};

use crate::Ctx;

/// Users (local or remote) who share at least one joined room with `user`, and `user`.
pub(super) async fn users_sharing_a_room(
    _ctx: &Ctx,
    user: &UserId,
) -> Result<BTreeSet<OwnedUserId>> {
    Ok(BTreeSet::from([user.to_owned()]))
}

/// Whose sharing of a room with `user` began or ended in `(from, to]`.
#[derive(Debug, Default)]
pub(super) struct SharingDelta {
    /// Users who now share a room with `user` and began sharing one in the window.
    pub began: BTreeSet<OwnedUserId>,
    /// Users who shared a room with `user` in the window and now share none.
    pub ended: BTreeSet<OwnedUserId>,
}

pub(super) async fn sharing_delta(
    _ctx: &Ctx,
    _user: &UserId,
    _from: i64,
    _to: i64,
) -> Result<SharingDelta> {
    Ok(SharingDelta::default())
}
