//! What device-list tracking needs from room membership: who shares a room with whom, and
//! whose sharing began or ended between two stream positions. Sharing means both are joined;
//! every room counts, encrypted or not.

use std::collections::BTreeSet;

use hearth_core::Result;
use hearth_storage::MembershipRecord;
use ruma::{OwnedUserId, UserId, events::room::member::MembershipState};

use crate::Ctx;

/// Users (local or remote) who share at least one joined room with `user`, and `user`.
pub(super) async fn users_sharing_a_room(
    ctx: &Ctx,
    user: &UserId,
) -> Result<BTreeSet<OwnedUserId>> {
    let mut users: BTreeSet<_> =
        ctx.storage.users_sharing_a_room(user).await?.into_iter().collect();
    users.insert(user.to_owned());
    Ok(users)
}

/// Whose sharing of a room with `user` began or ended in `(from, to]`.
#[derive(Debug, Default)]
pub(super) struct SharingDelta {
    /// Users who now share a room with `user` and joined one with them in the window (spec:
    /// a server may report them even if they already shared another room).
    pub began: BTreeSet<OwnedUserId>,
    /// Users who stopped sharing a room with `user` in the window and now share none.
    pub ended: BTreeSet<OwnedUserId>,
}

/// `sharing` is [`users_sharing_a_room`] of `user` now.
pub(super) async fn sharing_delta(
    ctx: &Ctx,
    user: &UserId,
    sharing: &BTreeSet<OwnedUserId>,
    from: i64,
    to: i64,
) -> Result<SharingDelta> {
    let mut joined = BTreeSet::new();
    let mut parted = BTreeSet::new();
    // Rooms `user` joined or left: everyone joined there now.
    for change in ctx.storage.membership_changes(user, from, to).await? {
        let members = ctx.storage.room_members(&change.room_id, &[MembershipState::Join]).await?;
        let users = members.into_iter().map(|m| m.user_id);
        match classify(&change) {
            Some(true) => joined.extend(users),
            Some(false) => parted.extend(users),
            None => {}
        }
    }
    // Others who joined or left rooms `user` is in.
    for change in ctx.storage.others_membership_changes(user, from, to).await? {
        match classify(&change) {
            Some(true) => joined.insert(change.user_id),
            Some(false) => parted.insert(change.user_id),
            None => false,
        };
    }
    Ok(SharingDelta {
        began: joined.into_iter().filter(|u| u != user && sharing.contains(u)).collect(),
        ended: parted.into_iter().filter(|u| u != user && !sharing.contains(u)).collect(),
    })
}

/// `Some(true)` for a join, `Some(false)` for leaving (leave, ban), `None` otherwise.
fn classify(change: &MembershipRecord) -> Option<bool> {
    match change.membership {
        MembershipState::Join => Some(true),
        MembershipState::Leave | MembershipState::Ban => Some(false),
        _ => None,
    }
}
