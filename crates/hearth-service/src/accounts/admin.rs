//! Server administration in the client-server API (spec: client-server-api "Server
//! Administration").

use std::collections::BTreeMap;

use hearth_core::{Error, Result};
use ruma::{
    MilliSecondsSinceUnixEpoch, UInt, UserId,
    api::client::admin::get_user_info::v3::{ConnectionInfo, DeviceInfo, SessionInfo},
};

use super::{Service, Session};

impl Service {
    /// `GET /admin/whois/{userId}`: the user's devices, each with one session whose connection
    /// is the device's last-seen IP, time and user agent. Only for the user themself or a
    /// server admin (Synapse's rule), and only local users.
    pub async fn whois(
        &self,
        session: &Session,
        user_id: &UserId,
    ) -> Result<BTreeMap<String, DeviceInfo>> {
        if session.user_id != user_id && !self.is_admin(&session.user_id).await? {
            return Err(Error::forbidden("You are not a server admin"));
        }
        if user_id.server_name() != self.ctx.config.server_name {
            return Err(Error::invalid_param("Can only whois a local user"));
        }
        if self.ctx.storage.get_user(user_id).await?.is_none() {
            return Err(Error::not_found("No such user"));
        }
        let devices = self.device_records(user_id).await?;
        Ok(devices
            .into_iter()
            .map(|device| {
                let mut session = SessionInfo::new();
                if let Some(ts) = device.last_seen_ts {
                    let mut connection = ConnectionInfo::new();
                    connection.ip = device.last_seen_ip;
                    connection.last_seen = UInt::new(ts).map(MilliSecondsSinceUnixEpoch);
                    connection.user_agent = device.last_seen_user_agent;
                    session.connections.push(connection);
                }
                let mut info = DeviceInfo::new();
                info.sessions.push(session);
                (device.device_id.to_string(), info)
            })
            .collect())
    }

    async fn is_admin(&self, user_id: &UserId) -> Result<bool> {
        Ok(self.ctx.storage.get_user(user_id).await?.is_some_and(|u| u.is_admin))
    }
}
