//! Current memberships: one row per (room, user), with the event and stream position that set it.

use async_trait::async_trait;
use hearth_core::Result;
use ruma::{OwnedUserId, RoomId, UserId, events::room::member::MembershipState};
use rusqlite::{OptionalExtension, Row};

use crate::{rooms::*, sqlite::SqliteStore};

const COLUMNS: &str = "room_id, user_id, membership, event_id, sender, stream_pos, display_name, \
     avatar_url, forgotten, joined_at";

fn record(r: &Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok(RawRecord {
        room_id: r.get(0)?,
        user_id: r.get(1)?,
        membership: r.get(2)?,
        event_id: r.get(3)?,
        sender: r.get(4)?,
        stream_pos: r.get(5)?,
        display_name: r.get(6)?,
        avatar_url: r.get(7)?,
        forgotten: r.get(8)?,
        joined_at: r.get(9)?,
    })
}

struct RawRecord {
    room_id: String,
    user_id: String,
    membership: String,
    event_id: String,
    sender: String,
    stream_pos: i64,
    display_name: Option<String>,
    avatar_url: Option<String>,
    forgotten: bool,
    joined_at: Option<i64>,
}

impl RawRecord {
    fn parse(self) -> Result<MembershipRecord> {
        Ok(MembershipRecord {
            room_id: self.room_id.try_into()?,
            user_id: self.user_id.try_into()?,
            membership: MembershipState::from(self.membership),
            event_id: self.event_id.try_into()?,
            sender: self.sender.try_into()?,
            stream_pos: self.stream_pos,
            display_name: self.display_name,
            avatar_url: self.avatar_url,
            forgotten: self.forgotten,
            joined_at: self.joined_at,
        })
    }
}

fn collect(
    rows: impl Iterator<Item = rusqlite::Result<RawRecord>>,
) -> Result<Vec<MembershipRecord>> {
    rows.map(|r| r?.parse()).collect()
}

/// `membership IN (...)` for a list of states, or no condition when empty.
fn membership_filter(memberships: &[MembershipState]) -> String {
    if memberships.is_empty() {
        return String::new();
    }
    let list: Vec<String> =
        memberships.iter().map(|m| format!("'{}'", m.as_str().replace('\'', "''"))).collect();
    format!(" AND membership IN ({})", list.join(","))
}

#[async_trait]
impl MembershipStore for SqliteStore {
    async fn membership(
        &self,
        room_id: &RoomId,
        user_id: &UserId,
    ) -> Result<Option<MembershipRecord>> {
        let args = (room_id.to_string(), user_id.to_string());
        self.db
            .read(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM room_memberships WHERE room_id = ?1 AND user_id = ?2"
                );
                c.prepare_cached(&sql)?
                    .query_row([&args.0, &args.1], record)
                    .optional()?
                    .map(RawRecord::parse)
                    .transpose()
            })
            .await
    }

    async fn rooms_for_user(
        &self,
        user_id: &UserId,
        memberships: &[MembershipState],
    ) -> Result<Vec<MembershipRecord>> {
        let user_id = user_id.to_string();
        let filter = membership_filter(memberships);
        self.db
            .read(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM room_memberships
                     WHERE user_id = ?1 AND forgotten = 0{filter} ORDER BY stream_pos"
                );
                collect(c.prepare_cached(&sql)?.query_map([&user_id], record)?)
            })
            .await
    }

    async fn room_members(
        &self,
        room_id: &RoomId,
        memberships: &[MembershipState],
    ) -> Result<Vec<MembershipRecord>> {
        let room_id = room_id.to_string();
        let filter = membership_filter(memberships);
        self.db
            .read(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM room_memberships WHERE room_id = ?1{filter}
                     ORDER BY user_id"
                );
                collect(c.prepare_cached(&sql)?.query_map([&room_id], record)?)
            })
            .await
    }

    async fn membership_changes(
        &self,
        user_id: &UserId,
        from: i64,
        to: i64,
    ) -> Result<Vec<MembershipRecord>> {
        let user_id = user_id.to_string();
        self.db
            .read(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM room_memberships
                     WHERE user_id = ?1 AND stream_pos > ?2 AND stream_pos <= ?3
                     ORDER BY stream_pos"
                );
                collect(
                    c.prepare_cached(&sql)?
                        .query_map(rusqlite::params![user_id, from, to], record)?,
                )
            })
            .await
    }

    async fn share_a_room(&self, a: &UserId, b: &UserId) -> Result<bool> {
        let args = (a.to_string(), b.to_string());
        self.db
            .read(move |c| {
                Ok(c.prepare_cached(
                    "SELECT 1 FROM room_memberships x JOIN room_memberships y
                        ON x.room_id = y.room_id
                     WHERE x.user_id = ?1 AND x.membership = 'join'
                        AND y.user_id = ?2 AND y.membership = 'join' LIMIT 1",
                )?
                .query_row([&args.0, &args.1], |_| Ok(()))
                .optional()?
                .is_some())
            })
            .await
    }

    async fn forget_room(&self, room_id: &RoomId, user_id: &UserId) -> Result<bool> {
        let args = (room_id.to_string(), user_id.to_string());
        self.db
            .write(move |c| {
                let n = c.execute(
                    "UPDATE room_memberships SET forgotten = 1
                     WHERE room_id = ?1 AND user_id = ?2 AND membership IN ('leave', 'ban')",
                    [&args.0, &args.1],
                )?;
                Ok(n == 1)
            })
            .await
    }

    async fn users_sharing_a_room(&self, user_id: &UserId) -> Result<Vec<OwnedUserId>> {
        let user_id = user_id.to_string();
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT DISTINCT o.user_id FROM room_memberships me
                     JOIN room_memberships o ON o.room_id = me.room_id
                     WHERE me.user_id = ?1 AND me.membership = 'join' AND o.membership = 'join'",
                )?;
                let rows = stmt.query_map([&user_id], |r| r.get::<_, String>(0))?;
                let mut users = Vec::new();
                for row in rows {
                    users.push(row?.try_into()?);
                }
                Ok(users)
            })
            .await
    }

    async fn others_membership_changes(
        &self,
        user_id: &UserId,
        from: i64,
        to: i64,
    ) -> Result<Vec<MembershipRecord>> {
        let user_id = user_id.to_string();
        self.db
            .read(move |c| {
                let columns = COLUMNS.split(", ").map(|col| format!("o.{}", col.trim()));
                let sql = format!(
                    "SELECT {} FROM room_memberships me
                     JOIN room_memberships o ON o.room_id = me.room_id
                     WHERE me.user_id = ?1 AND me.membership = 'join' AND o.user_id != ?1
                       AND o.stream_pos > ?2 AND o.stream_pos <= ?3
                     ORDER BY o.stream_pos",
                    columns.collect::<Vec<_>>().join(", ")
                );
                collect(
                    c.prepare_cached(&sql)?
                        .query_map(rusqlite::params![user_id, from, to], record)?,
                )
            })
            .await
    }
}
