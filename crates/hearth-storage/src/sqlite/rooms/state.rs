//! Reading state groups and the current state.

use async_trait::async_trait;
use hearth_core::{Error, Result};
use ruma::{OwnedEventId, RoomId};
use rusqlite::OptionalExtension;

use crate::{rooms::*, sqlite::SqliteStore};

#[async_trait]
impl StateStore for SqliteStore {
    async fn state_group_chain(&self, group: i64) -> Result<Vec<StateGroupRecord>> {
        self.db
            .read(move |c| {
                let mut chain = Vec::new();
                let mut next = Some(group);
                while let Some(id) = next {
                    let (prev_group, chain_len): (Option<i64>, u32) = c
                        .prepare_cached(
                            "SELECT prev_group, chain_len FROM state_groups WHERE id = ?1",
                        )?
                        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?
                        .ok_or_else(|| Error::internal(format!("state group {id} is missing")))?;
                    let entries = c
                        .prepare_cached(
                            "SELECT type, state_key, event_id FROM state_group_entries
                             WHERE group_id = ?1",
                        )?
                        .query_map([id], |r| {
                            Ok(((r.get(0)?, r.get(1)?), r.get::<_, Option<String>>(2)?))
                        })?
                        .map(|row| {
                            let (key, event) = row?;
                            Ok((key, event.map(OwnedEventId::try_from).transpose()?))
                        })
                        .collect::<Result<Vec<_>>>()?;
                    chain.push(StateGroupRecord { id, prev_group, chain_len, entries });
                    next = prev_group;
                }
                Ok(chain)
            })
            .await
    }

    async fn current_state(&self, room_id: &RoomId) -> Result<Vec<(StateKey, OwnedEventId)>> {
        let room_id = room_id.to_owned();
        self.db
            .read(move |c| {
                c.prepare_cached(
                    "SELECT type, state_key, event_id FROM current_state WHERE room_id = ?1",
                )?
                .query_map([room_id.as_str()], |r| {
                    Ok(((r.get(0)?, r.get(1)?), r.get::<_, String>(2)?))
                })?
                .map(|row| {
                    let (key, id) = row?;
                    Ok((key, OwnedEventId::try_from(id)?))
                })
                .collect()
            })
            .await
    }

    async fn current_state_event(
        &self,
        room_id: &RoomId,
        kind: &str,
        state_key: &str,
    ) -> Result<Option<OwnedEventId>> {
        let args = (room_id.to_string(), kind.to_owned(), state_key.to_owned());
        self.db
            .read(move |c| {
                let id: Option<String> = c
                    .prepare_cached(
                        "SELECT event_id FROM current_state
                         WHERE room_id = ?1 AND type = ?2 AND state_key = ?3",
                    )?
                    .query_row([&args.0, &args.1, &args.2], |r| r.get(0))
                    .optional()?;
                Ok(id.map(OwnedEventId::try_from).transpose()?)
            })
            .await
    }
}
