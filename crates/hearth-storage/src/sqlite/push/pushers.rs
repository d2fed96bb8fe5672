//! Pushers: one per (user, app ID, pushkey).

use hearth_core::Result;
use ruma::{OwnedDeviceId, OwnedUserId, UserId};
use rusqlite::{Connection, Row, params};

use crate::push::{NewPusher, PusherRecord};

/// Columns of `pushers` read by [`pusher_record`], prefixed with `p.`.
pub(super) const PUSHER_COLUMNS: &str = "p.id, p.user_id, p.device_id, p.kind, p.app_id, \
     p.pushkey, p.app_display_name, p.device_display_name, p.profile_tag, p.lang, p.data, \
     p.pushkey_ts";

/// A pusher from the columns at `at..at + 12`.
pub(super) fn pusher_record(r: &Row<'_>, at: usize) -> rusqlite::Result<PusherRecord> {
    let parse_err = |i: usize, e: ruma::IdParseError| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let user: String = r.get(at + 1)?;
    let device: Option<String> = r.get(at + 2)?;
    Ok(PusherRecord {
        id: r.get(at)?,
        user_id: user.try_into().map_err(|e| parse_err(at + 1, e))?,
        device_id: device.map(OwnedDeviceId::from),
        kind: r.get(at + 3)?,
        app_id: r.get(at + 4)?,
        pushkey: r.get(at + 5)?,
        app_display_name: r.get(at + 6)?,
        device_display_name: r.get(at + 7)?,
        profile_tag: r.get(at + 8)?,
        lang: r.get(at + 9)?,
        data: r.get(at + 10)?,
        pushkey_ts: r.get(at + 11)?,
    })
}

pub(super) fn pushers(c: &Connection, user_id: &UserId) -> Result<Vec<PusherRecord>> {
    let sql = format!("SELECT {PUSHER_COLUMNS} FROM pushers p WHERE p.user_id = ?1 ORDER BY p.id");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([user_id.as_str()], |r| pusher_record(r, 0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn users_with_pushers(c: &Connection) -> Result<Vec<OwnedUserId>> {
    let mut stmt = c.prepare_cached("SELECT DISTINCT user_id FROM pushers WHERE kind = 'http'")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut users = Vec::new();
    for row in rows {
        users.push(OwnedUserId::try_from(row?)?);
    }
    Ok(users)
}

pub(super) fn set_pusher(c: &Connection, p: &NewPusher, append: bool) -> Result<()> {
    if !append {
        c.prepare_cached(
            "DELETE FROM pushers WHERE app_id = ?1 AND pushkey = ?2 AND user_id != ?3",
        )?
        .execute(params![p.app_id, p.pushkey, p.user_id.as_str()])?;
    }
    c.prepare_cached(
        "INSERT INTO pushers (user_id, device_id, kind, app_id, pushkey, app_display_name,
                              device_display_name, profile_tag, lang, data, pushkey_ts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (user_id, app_id, pushkey) DO UPDATE SET
            device_id = excluded.device_id, kind = excluded.kind,
            app_display_name = excluded.app_display_name,
            device_display_name = excluded.device_display_name,
            profile_tag = excluded.profile_tag, lang = excluded.lang, data = excluded.data",
    )?
    .execute(params![
        p.user_id.as_str(),
        p.device_id.as_ref().map(|d| d.as_str()),
        p.kind,
        p.app_id,
        p.pushkey,
        p.app_display_name,
        p.device_display_name,
        p.profile_tag,
        p.lang,
        p.data,
        p.pushkey_ts,
    ])?;
    Ok(())
}

pub(super) fn delete_pushers(
    c: &Connection,
    user_id: &UserId,
    app_id: &str,
    pushkeys: &[String],
) -> Result<usize> {
    let mut stmt = c.prepare_cached(
        "DELETE FROM pushers WHERE user_id = ?1 AND app_id = ?2 AND pushkey = ?3",
    )?;
    let mut deleted = 0;
    for key in pushkeys {
        deleted += stmt.execute(params![user_id.as_str(), app_id, key])?;
    }
    Ok(deleted)
}

pub(super) fn delete_device_pushers(
    c: &Connection,
    user_id: &UserId,
    device_ids: &[OwnedDeviceId],
) -> Result<()> {
    let mut stmt = c.prepare_cached("DELETE FROM pushers WHERE user_id = ?1 AND device_id = ?2")?;
    for device in device_ids {
        stmt.execute(params![user_id.as_str(), device.as_str()])?;
    }
    Ok(())
}

pub(super) fn delete_user_pushers(c: &Connection, user_id: &UserId) -> Result<()> {
    c.prepare_cached("DELETE FROM pushers WHERE user_id = ?1")?.execute([user_id.as_str()])?;
    Ok(())
}
