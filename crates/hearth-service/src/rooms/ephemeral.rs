//! Self-destructing messages (MSC2228, `rooms.ephemeral_messages`): an event whose content
//! carries `org.matrix.self_destruct_after` (a timestamp in milliseconds) is served pruned, to
//! everyone and with no redaction event, from that time on, as Synapse serves its expired
//! events. The check is made when the event is served; the stored copy is kept.

use hearth_core::utils::now_millis;
use ruma::CanonicalJsonValue;

use super::{Service, pdu::Pdu};

const SELF_DESTRUCT_AFTER: &str = "org.matrix.self_destruct_after";

impl Service {
    /// Whether the event has self-destructed by now.
    pub(crate) fn self_destructed(&self, pdu: &Pdu) -> bool {
        self.ctx.config.rooms.ephemeral_messages && expiry(pdu).is_some_and(|t| t <= now_millis())
    }
}

fn expiry(pdu: &Pdu) -> Option<u64> {
    let Some(CanonicalJsonValue::Object(content)) = pdu.json.get("content") else { return None };
    match content.get(SELF_DESTRUCT_AFTER)? {
        CanonicalJsonValue::Integer(t) => u64::try_from(i64::from(*t)).ok(),
        _ => None,
    }
}
