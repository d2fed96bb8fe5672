//! Server-side search (spec: client-server-api "Server Side Search").

mod text;

pub(crate) use text::search_text;
