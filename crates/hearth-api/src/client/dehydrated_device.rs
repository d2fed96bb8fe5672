//! Dehydrated devices (MSC3814, `/unstable/org.matrix.msc3814.v1/dehydrated_device`).

use axum::{Router, extract::State};
use hearth_service::e2ee::{NewDehydratedDevice, UploadedKeys};
use ruma::api::client::dehydrated_device::{
    delete_dehydrated_device, get_dehydrated_device, get_events, put_dehydrated_device,
};

use crate::{ApiError, AppState, RouterExt, Ruma, RumaResponse};

type Res<T> = Result<RumaResponse<T>, ApiError>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .ruma::<put_dehydrated_device::unstable::Request, _, _>(put)
        .ruma::<get_dehydrated_device::unstable::Request, _, _>(get)
        .ruma::<delete_dehydrated_device::unstable::Request, _, _>(delete)
        .ruma::<get_events::unstable::Request, _, _>(events)
}

async fn put(
    State(s): State<AppState>,
    req: Ruma<put_dehydrated_device::unstable::Request>,
) -> Res<put_dehydrated_device::unstable::Response> {
    let device = NewDehydratedDevice {
        device_id: &req.device_id,
        display_name: req.initial_device_display_name.clone(),
        device_data: &req.device_data,
        keys: UploadedKeys {
            device_keys: Some(&req.device_keys),
            one_time_keys: &req.one_time_keys,
            fallback_keys: &req.fallback_keys,
        },
    };
    s.e2ee.put_dehydrated_device(req.session(), device).await?;
    Ok(put_dehydrated_device::unstable::Response::new(req.device_id.clone()).into())
}

async fn get(
    State(s): State<AppState>,
    req: Ruma<get_dehydrated_device::unstable::Request>,
) -> Res<get_dehydrated_device::unstable::Response> {
    let (device_id, data) = s.e2ee.dehydrated_device(req.session()).await?;
    Ok(get_dehydrated_device::unstable::Response::new(device_id, data).into())
}

async fn delete(
    State(s): State<AppState>,
    req: Ruma<delete_dehydrated_device::unstable::Request>,
) -> Res<delete_dehydrated_device::unstable::Response> {
    let device_id = s.e2ee.delete_dehydrated_device(req.session()).await?;
    Ok(delete_dehydrated_device::unstable::Response::new(device_id).into())
}

async fn events(
    State(s): State<AppState>,
    req: Ruma<get_events::unstable::Request>,
) -> Res<get_events::unstable::Response> {
    let session = req.session();
    let (events, next_batch) =
        s.e2ee.dehydrated_device_events(session, &req.device_id, req.next_batch.as_deref()).await?;
    let mut response = get_events::unstable::Response::new(events);
    response.next_batch = Some(next_batch);
    Ok(response.into())
}
