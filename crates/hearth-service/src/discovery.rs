//! What this server tells clients it supports (spec: client-server-api "API Standards").

use std::collections::BTreeMap;

// `m.set_displayname`/`m.set_avatar_url` are deprecated in favour of `m.profile_fields` (v1.16),
// but clients of older versions still read them.
#[allow(deprecated)]
use ruma::{
    RoomVersionId,
    api::client::discovery::get_capabilities::v3::{
        Capabilities, ChangePasswordCapability, GetLoginTokenCapability, ProfileFieldsCapability,
        RoomVersionStability, RoomVersionsCapability, SetAvatarUrlCapability,
        SetDisplayNameCapability, ThirdPartyIdChangesCapability,
    },
};

/// Spec versions whose endpoints Hearth implements. Add a version only once what it requires
/// is in place.
pub const SPEC_VERSIONS: &[&str] = &[
    "r0.0.1", "r0.1.0", "r0.2.0", "r0.3.0", "r0.4.0", "r0.5.0", "r0.6.0", "r0.6.1", "v1.1", "v1.2",
    "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11", "v1.12",
];

/// `unstable_features` of `/versions`: MSCs Hearth implements.
pub fn unstable_features() -> BTreeMap<String, bool> {
    BTreeMap::from([
        // Dehydrated devices (e2ee::dehydrated).
        ("org.matrix.msc3814".to_owned(), true),
        // Simplified sliding sync (sliding_sync), as Synapse advertises it.
        ("org.matrix.simplified_msc3575".to_owned(), true),
    ])
}

/// `/capabilities` (spec: client-server-api "Capabilities negotiation"): what this server
/// lets users change, and its room versions.
#[allow(deprecated)]
pub fn capabilities(config: &hearth_core::Config) -> Capabilities {
    let mut caps = Capabilities::new();
    caps.change_password = ChangePasswordCapability::new(true);
    caps.set_displayname = SetDisplayNameCapability::new(true);
    caps.set_avatar_url = SetAvatarUrlCapability::new(true);
    caps.thirdparty_id_changes = ThirdPartyIdChangesCapability::new(false);
    caps.get_login_token = GetLoginTokenCapability::new(true);
    caps.profile_fields = Some(ProfileFieldsCapability::new(true));
    let available = hearth_core::config::ROOM_VERSIONS
        .iter()
        .map(|v| {
            (RoomVersionId::try_from(*v).expect("known room version"), RoomVersionStability::Stable)
        })
        .collect();
    let default = RoomVersionId::try_from(config.rooms.default_version.as_str())
        .expect("validated at config load");
    caps.room_versions = RoomVersionsCapability::new(default, available);
    caps
}
