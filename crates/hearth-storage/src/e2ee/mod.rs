//! End-to-end encryption: the storage the server needs to hand out keys and messages it cannot
//! read. One trait per part, gathered in [`E2eeStore`].
//!
//! Keys are stored as the canonical JSON the client uploaded; the service validates them first.
//! Every change that `/sync` reports (device lists, to-device messages) takes a stream position.

mod backup;
mod cross_signing;
mod dehydrated;
mod device_lists;
mod keys;
mod to_device;

pub use backup::*;
pub use cross_signing::*;
pub use dehydrated::*;
pub use device_lists::*;
pub use keys::*;
pub use to_device::*;

/// Everything end-to-end encryption needs from a database.
pub trait E2eeStore:
    DeviceKeyStore
    + CrossSigningStore
    + DeviceListStore
    + ToDeviceStore
    + KeyBackupStore
    + DehydratedDeviceStore
{
}

impl<T> E2eeStore for T where
    T: DeviceKeyStore
        + CrossSigningStore
        + DeviceListStore
        + ToDeviceStore
        + KeyBackupStore
        + DehydratedDeviceStore
{
}
