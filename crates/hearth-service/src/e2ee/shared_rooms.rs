//! What device-list tracking needs from room membership: who shares a room with whom, and
//! whose sharing began or ended between two stream positions. Sharing means both are joined;
//! every room counts, encrypted or not. As Synapse does, a user newly invited to (or knocking
//! on) a room the syncing user is joined to counts as a beginning too: clients share room
//! keys with invitees, so they fetch their devices then.

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
    /// Users who joined a room with `user`, or were invited to or knocked on one `user` is
    /// joined to, in the window (spec: a server may report them even if they already shared
    /// another room).
    pub began: BTreeSet<OwnedUserId>,
    /// Users who stopped sharing a room with `user` in the window and now share none.
    pub ended: BTreeSet<OwnedUserId>,
}

/// `sharing` is [`users_sharing_a_room`] of `user` now. Membership rows are current, so a
/// join, invite or knock found here still holds.
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
        match change.membership {
            MembershipState::Join => joined.extend(users),
            MembershipState::Leave | MembershipState::Ban => parted.extend(users),
            _ => {}
        }
    }
    // Others who joined, were invited to, knocked on or left rooms `user` is in.
    for change in ctx.storage.others_membership_changes(user, from, to).await? {
        match classify(&change) {
            Some(true) => joined.insert(change.user_id),
            Some(false) => parted.insert(change.user_id),
            None => false,
        };
    }
    joined.remove(user);
    let ended = parted.into_iter().filter(|u| !sharing.contains(u) && !joined.contains(u));
    Ok(SharingDelta { ended: ended.filter(|u| u != user).collect(), began: joined })
}

/// `Some(true)` for a join, invite or knock, `Some(false)` for leaving (leave, ban), `None`
/// otherwise.
fn classify(change: &MembershipRecord) -> Option<bool> {
    match change.membership {
        MembershipState::Join | MembershipState::Invite | MembershipState::Knock => Some(true),
        MembershipState::Leave | MembershipState::Ban => Some(false),
        _ => None,
    }
}
