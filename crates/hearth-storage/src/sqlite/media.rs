//! Media metadata, thumbnails and the URL preview cache in SQLite.

use async_trait::async_trait;
use hearth_core::{Result, utils::now_millis};
use ruma::{ServerName, UserId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{SqliteStore, migrations::Area};
use crate::media::*;

pub(super) const AREA: Area = Area {
    name: "media",
    migrations: &["
        CREATE TABLE media (
            server_name TEXT NOT NULL,
            media_id TEXT NOT NULL,
            uploader TEXT,
            content_type TEXT,
            filename TEXT,
            sha256 TEXT,
            size INTEGER,
            created_ts INTEGER NOT NULL,
            expires_ts INTEGER,
            quarantined INTEGER NOT NULL DEFAULT 0,
            authenticated INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (server_name, media_id)
        );
        CREATE INDEX media_pending ON media (uploader, expires_ts) WHERE sha256 IS NULL;
        CREATE INDEX media_by_sha256 ON media (sha256);
        CREATE TABLE media_thumbnails (
            server_name TEXT NOT NULL,
            media_id TEXT NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            method TEXT NOT NULL,
            animated INTEGER NOT NULL,
            content_type TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            PRIMARY KEY (server_name, media_id, width, height, method, animated)
        );
        CREATE INDEX media_thumbnails_by_sha256 ON media_thumbnails (sha256);
        CREATE TABLE media_url_previews (
            url TEXT PRIMARY KEY,
            og TEXT NOT NULL,
            expires_ts INTEGER NOT NULL
        );
        CREATE INDEX media_url_previews_expiry ON media_url_previews (expires_ts);
    "],
};

const MEDIA_COLUMNS: &str = "server_name, media_id, uploader, content_type, filename, sha256, \
     size, created_ts, expires_ts, quarantined, authenticated";

fn media_row(r: &Row<'_>) -> rusqlite::Result<(MediaRow, Option<String>, Option<String>)> {
    Ok((
        MediaRow {
            media_id: r.get(1)?,
            content_type: r.get(3)?,
            filename: r.get(4)?,
            sha256: r.get(5)?,
            size: r.get(6)?,
            created_ts: r.get(7)?,
            expires_ts: r.get(8)?,
            quarantined: r.get(9)?,
            authenticated: r.get(10)?,
        },
        Some(r.get::<_, String>(0)?),
        r.get(2)?,
    ))
}

struct MediaRow {
    media_id: String,
    content_type: Option<String>,
    filename: Option<String>,
    sha256: Option<String>,
    size: Option<i64>,
    created_ts: i64,
    expires_ts: Option<i64>,
    quarantined: bool,
    authenticated: bool,
}

fn into_record(
    (row, server_name, uploader): (MediaRow, Option<String>, Option<String>),
) -> Result<MediaRecord> {
    Ok(MediaRecord {
        server_name: server_name.unwrap_or_default().try_into()?,
        media_id: row.media_id,
        uploader: uploader.map(|u| u.try_into()).transpose()?,
        content_type: row.content_type,
        filename: row.filename,
        blob: row.sha256.map(|sha256| StoredBlob { sha256, size: row.size.unwrap_or(0) as u64 }),
        created_ts: row.created_ts as u64,
        expires_ts: row.expires_ts.map(|t| t as u64),
        quarantined: row.quarantined,
        authenticated: row.authenticated,
    })
}

fn insert_media(c: &Connection, m: &NewMedia) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO media (server_name, media_id, uploader, content_type, filename, sha256,
            size, created_ts, expires_ts, authenticated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        m.server_name.as_str(),
        m.media_id,
        m.uploader.as_ref().map(|u| u.as_str()),
        m.content_type,
        m.filename,
        m.blob.as_ref().map(|b| b.sha256.as_str()),
        m.blob.as_ref().map(|b| b.size as i64),
        now_millis() as i64,
        m.expires_ts.map(|t| t as i64),
        m.authenticated,
    ])?;
    Ok(())
}

fn referenced(c: &Connection, sha256: &str) -> Result<bool> {
    Ok(c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM media WHERE sha256 = ?1)
                 OR EXISTS (SELECT 1 FROM media_thumbnails WHERE sha256 = ?1)",
    )?
    .query_row([sha256], |r| r.get(0))?)
}

#[async_trait]
impl MediaStore for SqliteStore {
    async fn create_media(&self, media: NewMedia) -> Result<()> {
        self.db.write(move |c| insert_media(c, &media)).await
    }

    async fn reserve_media(
        &self,
        media: NewMedia,
        max_pending: u32,
        now: u64,
    ) -> Result<ReserveOutcome> {
        self.db
            .write(move |c| {
                c.prepare_cached("DELETE FROM media WHERE sha256 IS NULL AND expires_ts <= ?1")?
                    .execute([now as i64])?;
                let uploader = media.uploader.as_ref().map(|u| u.as_str());
                let (pending, first): (i64, Option<i64>) = c
                    .prepare_cached(
                        "SELECT count(*), min(expires_ts) FROM media
                         WHERE uploader = ?1 AND sha256 IS NULL",
                    )?
                    .query_row([uploader], |r| Ok((r.get(0)?, r.get(1)?)))?;
                if pending >= i64::from(max_pending) {
                    let first_expiry_ts = first.unwrap_or(now as i64) as u64;
                    return Ok(ReserveOutcome::TooManyPending { first_expiry_ts });
                }
                insert_media(c, &media)?;
                Ok(ReserveOutcome::Reserved)
            })
            .await
    }

    async fn fill_media(
        &self,
        server_name: &ServerName,
        media_id: &str,
        uploader: &UserId,
        content: MediaContent,
        now: u64,
    ) -> Result<FillOutcome> {
        let (server_name, media_id, uploader) =
            (server_name.to_owned(), media_id.to_owned(), uploader.to_owned());
        self.db
            .write(move |c| {
                let row: Option<(Option<String>, Option<String>, Option<i64>)> = c
                    .prepare_cached(
                        "SELECT uploader, sha256, expires_ts FROM media
                         WHERE server_name = ?1 AND media_id = ?2",
                    )?
                    .query_row(params![server_name.as_str(), media_id], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .optional()?;
                let Some((owner, sha256, expires_ts)) = row else {
                    return Ok(FillOutcome::NotFound);
                };
                if sha256.is_some() {
                    return Ok(FillOutcome::AlreadyFilled);
                }
                if expires_ts.is_some_and(|t| t as u64 <= now) {
                    return Ok(FillOutcome::NotFound);
                }
                if owner.as_deref() != Some(uploader.as_str()) {
                    return Ok(FillOutcome::NotUploader);
                }
                c.prepare_cached(
                    "UPDATE media SET content_type = ?3, filename = ?4, sha256 = ?5, size = ?6,
                        expires_ts = NULL
                     WHERE server_name = ?1 AND media_id = ?2",
                )?
                .execute(params![
                    server_name.as_str(),
                    media_id,
                    content.content_type,
                    content.filename,
                    content.blob.sha256,
                    content.blob.size as i64
                ])?;
                Ok(FillOutcome::Filled)
            })
            .await
    }

    async fn get_media(
        &self,
        server_name: &ServerName,
        media_id: &str,
    ) -> Result<Option<MediaRecord>> {
        let (server_name, media_id) = (server_name.to_owned(), media_id.to_owned());
        self.db
            .read(move |c| {
                let sql = format!(
                    "SELECT {MEDIA_COLUMNS} FROM media WHERE server_name = ?1 AND media_id = ?2"
                );
                let row = c
                    .prepare_cached(&sql)?
                    .query_row(params![server_name.as_str(), media_id], media_row)
                    .optional()?;
                row.map(into_record).transpose()
            })
            .await
    }

    async fn add_thumbnail(
        &self,
        server_name: &ServerName,
        media_id: &str,
        t: ThumbnailRecord,
    ) -> Result<()> {
        let (server_name, media_id) = (server_name.to_owned(), media_id.to_owned());
        self.db
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO media_thumbnails (server_name, media_id, width, height, method,
                        animated, content_type, sha256, size)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    server_name.as_str(),
                    media_id,
                    t.width,
                    t.height,
                    t.method,
                    t.animated,
                    t.content_type,
                    t.blob.sha256,
                    t.blob.size as i64
                ])?;
                Ok(())
            })
            .await
    }

    async fn get_thumbnail(
        &self,
        server_name: &ServerName,
        media_id: &str,
        width: u32,
        height: u32,
        method: &str,
        animated: bool,
    ) -> Result<Option<ThumbnailRecord>> {
        let (server_name, media_id, method) =
            (server_name.to_owned(), media_id.to_owned(), method.to_owned());
        self.db
            .read(move |c| {
                Ok(c.prepare_cached(
                    "SELECT content_type, sha256, size FROM media_thumbnails
                     WHERE server_name = ?1 AND media_id = ?2 AND width = ?3 AND height = ?4
                        AND method = ?5 AND animated = ?6",
                )?
                .query_row(
                    params![server_name.as_str(), media_id, width, height, method, animated],
                    |r| {
                        Ok(ThumbnailRecord {
                            width,
                            height,
                            method: method.clone(),
                            animated,
                            content_type: r.get(0)?,
                            blob: StoredBlob {
                                sha256: r.get(1)?,
                                size: r.get::<_, i64>(2)? as u64,
                            },
                        })
                    },
                )
                .optional()?)
            })
            .await
    }

    async fn thumbnail_sizes(
        &self,
        server_name: &ServerName,
        media_id: &str,
    ) -> Result<Vec<(u32, u32, String)>> {
        let (server_name, media_id) = (server_name.to_owned(), media_id.to_owned());
        self.db
            .read(move |c| {
                Ok(c.prepare_cached(
                    "SELECT DISTINCT width, height, method FROM media_thumbnails
                     WHERE server_name = ?1 AND media_id = ?2",
                )?
                .query_map(params![server_name.as_str(), media_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn delete_media(
        &self,
        server_name: &ServerName,
        media_id: &str,
    ) -> Result<Option<Vec<String>>> {
        let (server_name, media_id) = (server_name.to_owned(), media_id.to_owned());
        self.db
            .write(move |c| {
                let key = params![server_name.as_str(), media_id];
                let Some(main) = c
                    .prepare_cached(
                        "SELECT sha256 FROM media WHERE server_name = ?1 AND media_id = ?2",
                    )?
                    .query_row(key, |r| r.get::<_, Option<String>>(0))
                    .optional()?
                else {
                    return Ok(None);
                };
                let mut blobs: Vec<String> = c
                    .prepare_cached(
                        "SELECT sha256 FROM media_thumbnails
                         WHERE server_name = ?1 AND media_id = ?2",
                    )?
                    .query_map(key, |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                blobs.extend(main);
                c.prepare_cached(
                    "DELETE FROM media_thumbnails WHERE server_name = ?1 AND media_id = ?2",
                )?
                .execute(key)?;
                c.prepare_cached("DELETE FROM media WHERE server_name = ?1 AND media_id = ?2")?
                    .execute(key)?;
                blobs.sort();
                blobs.dedup();
                let mut unreferenced = Vec::new();
                for sha256 in blobs {
                    if !referenced(c, &sha256)? {
                        unreferenced.push(sha256);
                    }
                }
                Ok(Some(unreferenced))
            })
            .await
    }

    async fn blob_referenced(&self, sha256: &str) -> Result<bool> {
        let sha256 = sha256.to_owned();
        self.db.read(move |c| referenced(c, &sha256)).await
    }

    async fn set_media_quarantined(
        &self,
        server_name: &ServerName,
        media_id: &str,
        quarantined: bool,
    ) -> Result<bool> {
        let (server_name, media_id) = (server_name.to_owned(), media_id.to_owned());
        self.db
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE media SET quarantined = ?3
                         WHERE server_name = ?1 AND media_id = ?2",
                    )?
                    .execute(params![server_name.as_str(), media_id, quarantined])?;
                Ok(n == 1)
            })
            .await
    }

    async fn get_url_preview(&self, url: &str, now: u64) -> Result<Option<String>> {
        let url = url.to_owned();
        self.db
            .read(move |c| {
                Ok(c.prepare_cached(
                    "SELECT og FROM media_url_previews WHERE url = ?1 AND expires_ts > ?2",
                )?
                .query_row(params![url, now as i64], |r| r.get(0))
                .optional()?)
            })
            .await
    }

    async fn put_url_preview(&self, url: &str, og: &str, expires_ts: u64, now: u64) -> Result<()> {
        let (url, og) = (url.to_owned(), og.to_owned());
        self.db
            .write(move |c| {
                c.prepare_cached("DELETE FROM media_url_previews WHERE expires_ts <= ?1")?
                    .execute([now as i64])?;
                c.prepare_cached(
                    "INSERT INTO media_url_previews (url, og, expires_ts) VALUES (?1, ?2, ?3)
                     ON CONFLICT (url) DO UPDATE SET og = excluded.og,
                        expires_ts = excluded.expires_ts",
                )?
                .execute(params![url, og, expires_ts as i64])?;
                Ok(())
            })
            .await
    }
}
