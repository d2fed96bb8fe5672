//! Server-side key backups (spec: client-server-api "Server-side key backups").

use axum::{Router, extract::State};
use hearth_service::e2ee::{BackupInfo, RoomKeys, RoomKeysScope};
use ruma::api::client::backup::{
    RoomKeyBackup, add_backup_keys, add_backup_keys_for_room, add_backup_keys_for_session,
    create_backup_version, delete_backup_keys, delete_backup_keys_for_room,
    delete_backup_keys_for_session, delete_backup_version, get_backup_info, get_backup_keys,
    get_backup_keys_for_room, get_backup_keys_for_session, get_latest_backup_info,
    update_backup_version,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

type Res<T> = Result<RumaResponse<T>, ApiError>;

const ALL: RoomKeysScope<'static> = RoomKeysScope { room_id: None, session_id: None };

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<create_backup_version::v3::Request, _, _>(create_version)
        .ruma::<get_latest_backup_info::v3::Request, _, _>(latest_version)
        .ruma::<get_backup_info::v3::Request, _, _>(get_version)
        .ruma::<update_backup_version::v3::Request, _, _>(update_version)
        .ruma::<delete_backup_version::v3::Request, _, _>(delete_version)
        .ruma::<add_backup_keys::v3::Request, _, _>(put_keys)
        .ruma::<add_backup_keys_for_room::v3::Request, _, _>(put_room_keys)
        .ruma::<add_backup_keys_for_session::v3::Request, _, _>(put_session_key)
        .ruma::<get_backup_keys::v3::Request, _, _>(get_keys)
        .ruma::<get_backup_keys_for_room::v3::Request, _, _>(get_room_keys)
        .ruma::<get_backup_keys_for_session::v3::Request, _, _>(get_session_key)
        .ruma::<delete_backup_keys::v3::Request, _, _>(delete_keys)
        .ruma::<delete_backup_keys_for_room::v3::Request, _, _>(delete_room_keys)
        .ruma::<delete_backup_keys_for_session::v3::Request, _, _>(delete_session_key)
}

async fn create_version(
    State(s): State<AppState>,
    req: Ruma<create_backup_version::v3::Request>,
) -> Res<create_backup_version::v3::Response> {
    let version = s.e2ee.create_backup_version(req.session(), &req.algorithm).await?;
    Ok(create_backup_version::v3::Response::new(version).into())
}

async fn latest_version(
    State(s): State<AppState>,
    req: Ruma<get_latest_backup_info::v3::Request>,
) -> Res<get_latest_backup_info::v3::Response> {
    let BackupInfo { algorithm, count, etag, version } =
        s.e2ee.backup_info(req.session(), None).await?;
    Ok(get_latest_backup_info::v3::Response::new(algorithm, count, etag, version).into())
}

async fn get_version(
    State(s): State<AppState>,
    req: Ruma<get_backup_info::v3::Request>,
) -> Res<get_backup_info::v3::Response> {
    let BackupInfo { algorithm, count, etag, version } =
        s.e2ee.backup_info(req.session(), Some(&req.version)).await?;
    Ok(get_backup_info::v3::Response::new(algorithm, count, etag, version).into())
}

async fn update_version(
    State(s): State<AppState>,
    req: Ruma<update_backup_version::v3::Request>,
) -> Res<update_backup_version::v3::Response> {
    s.e2ee.update_backup_version(req.session(), &req.version, &req.algorithm).await?;
    Ok(update_backup_version::v3::Response::new().into())
}

async fn delete_version(
    State(s): State<AppState>,
    req: Ruma<delete_backup_version::v3::Request>,
) -> Res<delete_backup_version::v3::Response> {
    s.e2ee.delete_backup_version(req.session(), &req.version).await?;
    Ok(delete_backup_version::v3::Response::new().into())
}

async fn put_keys(
    State(s): State<AppState>,
    req: Ruma<add_backup_keys::v3::Request>,
) -> Res<add_backup_keys::v3::Response> {
    let session = req.session().clone();
    let body = req.body;
    let rooms: RoomKeys = body.rooms.into_iter().map(|(room, b)| (room, b.sessions)).collect();
    let (etag, count) = s.e2ee.put_room_keys(&session, &body.version, &rooms).await?;
    Ok(add_backup_keys::v3::Response::new(etag, count).into())
}

async fn put_room_keys(
    State(s): State<AppState>,
    req: Ruma<add_backup_keys_for_room::v3::Request>,
) -> Res<add_backup_keys_for_room::v3::Response> {
    let session = req.session().clone();
    let body = req.body;
    let rooms = RoomKeys::from([(body.room_id, body.sessions)]);
    let (etag, count) = s.e2ee.put_room_keys(&session, &body.version, &rooms).await?;
    Ok(add_backup_keys_for_room::v3::Response::new(etag, count).into())
}

async fn put_session_key(
    State(s): State<AppState>,
    req: Ruma<add_backup_keys_for_session::v3::Request>,
) -> Res<add_backup_keys_for_session::v3::Response> {
    let session = req.session().clone();
    let body = req.body;
    let rooms = RoomKeys::from([(body.room_id, [(body.session_id, body.session_data)].into())]);
    let (etag, count) = s.e2ee.put_room_keys(&session, &body.version, &rooms).await?;
    Ok(add_backup_keys_for_session::v3::Response::new(etag, count).into())
}

async fn get_keys(
    State(s): State<AppState>,
    req: Ruma<get_backup_keys::v3::Request>,
) -> Res<get_backup_keys::v3::Response> {
    let rooms = s.e2ee.room_keys(req.session(), &req.version, ALL).await?;
    let rooms = rooms.into_iter().map(|(room, sessions)| (room, RoomKeyBackup::new(sessions)));
    Ok(get_backup_keys::v3::Response::new(rooms.collect()).into())
}

async fn get_room_keys(
    State(s): State<AppState>,
    req: Ruma<get_backup_keys_for_room::v3::Request>,
) -> Res<get_backup_keys_for_room::v3::Response> {
    let scope = RoomKeysScope { room_id: Some(&req.room_id), session_id: None };
    let mut rooms = s.e2ee.room_keys(req.session(), &req.version, scope).await?;
    let sessions = rooms.remove(&req.room_id).unwrap_or_default();
    Ok(get_backup_keys_for_room::v3::Response::new(sessions).into())
}

async fn get_session_key(
    State(s): State<AppState>,
    req: Ruma<get_backup_keys_for_session::v3::Request>,
) -> Res<get_backup_keys_for_session::v3::Response> {
    let session = req.session();
    let key = s.e2ee.room_key(session, &req.version, &req.room_id, &req.session_id).await?;
    Ok(get_backup_keys_for_session::v3::Response::new(key).into())
}

async fn delete_keys(
    State(s): State<AppState>,
    req: Ruma<delete_backup_keys::v3::Request>,
) -> Res<delete_backup_keys::v3::Response> {
    let (etag, count) = s.e2ee.delete_room_keys(req.session(), &req.version, ALL).await?;
    Ok(delete_backup_keys::v3::Response::new(etag, count).into())
}

async fn delete_room_keys(
    State(s): State<AppState>,
    req: Ruma<delete_backup_keys_for_room::v3::Request>,
) -> Res<delete_backup_keys_for_room::v3::Response> {
    let scope = RoomKeysScope { room_id: Some(&req.room_id), session_id: None };
    let (etag, count) = s.e2ee.delete_room_keys(req.session(), &req.version, scope).await?;
    Ok(delete_backup_keys_for_room::v3::Response::new(etag, count).into())
}

async fn delete_session_key(
    State(s): State<AppState>,
    req: Ruma<delete_backup_keys_for_session::v3::Request>,
) -> Res<delete_backup_keys_for_session::v3::Response> {
    let scope = RoomKeysScope { room_id: Some(&req.room_id), session_id: Some(&req.session_id) };
    let (etag, count) = s.e2ee.delete_room_keys(req.session(), &req.version, scope).await?;
    Ok(delete_backup_keys_for_session::v3::Response::new(etag, count).into())
}
