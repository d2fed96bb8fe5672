//! Event relationships and threads (spec: client-server-api "Forming relationships between
//! events", "Threading", "Event replacements", "Reference relations").

mod index;

pub(crate) use index::new_relation;
