//! Account data (spec: client-server-api "Client Config").

use axum::{Router, extract::State};
use ruma::{
    api::client::config::{
        get_global_account_data, get_room_account_data, set_global_account_data,
        set_room_account_data,
    },
    serde::Raw,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<set_global_account_data::v3::Request, _, _>(set_global)
        .ruma::<get_global_account_data::v3::Request, _, _>(get_global)
        .ruma::<set_room_account_data::v3::Request, _, _>(set_room)
        .ruma::<get_room_account_data::v3::Request, _, _>(get_room)
}

async fn set_global(
    State(services): State<AppState>,
    req: Ruma<set_global_account_data::v3::Request>,
) -> Result<RumaResponse<set_global_account_data::v3::Response>, ApiError> {
    let (sender, body) = (req.session(), &req.body);
    let (data_type, content) = (body.event_type.to_string(), body.data.json().to_owned());
    services.account_data.set_by_client(sender, &body.user_id, None, &data_type, content).await?;
    Ok(set_global_account_data::v3::Response::new().into())
}

async fn get_global(
    State(services): State<AppState>,
    req: Ruma<get_global_account_data::v3::Request>,
) -> Result<RumaResponse<get_global_account_data::v3::Response>, ApiError> {
    let data_type = req.event_type.to_string();
    let sender = req.session();
    let content = services.account_data.get(sender, &req.user_id, None, &data_type).await?;
    Ok(get_global_account_data::v3::Response::new(Raw::from_json(content)).into())
}

async fn set_room(
    State(services): State<AppState>,
    req: Ruma<set_room_account_data::v3::Request>,
) -> Result<RumaResponse<set_room_account_data::v3::Response>, ApiError> {
    let (sender, body) = (req.session(), &req.body);
    let (data_type, content) = (body.event_type.to_string(), body.data.json().to_owned());
    let room = Some(&*body.room_id);
    services.account_data.set_by_client(sender, &body.user_id, room, &data_type, content).await?;
    Ok(set_room_account_data::v3::Response::new().into())
}

async fn get_room(
    State(services): State<AppState>,
    req: Ruma<get_room_account_data::v3::Request>,
) -> Result<RumaResponse<get_room_account_data::v3::Response>, ApiError> {
    let data_type = req.event_type.to_string();
    let (sender, room) = (req.session(), Some(&*req.room_id));
    let content = services.account_data.get(sender, &req.user_id, room, &data_type).await?;
    Ok(get_room_account_data::v3::Response::new(Raw::from_json(content)).into())
}
