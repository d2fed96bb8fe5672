//! The content repository: uploads, downloads, thumbnails, URL previews.

mod content;
mod preview;
mod thumbnail;
mod upload;

use reqwest::{Method, Response};
use serde_json::Value;

use crate::common::{Client, TestServer};

/// A server whose new media is also served on the legacy endpoints (no freeze).
pub(crate) async fn unfrozen_server() -> TestServer {
    TestServer::start_with(|c| c.media.freeze_legacy_media = false).await
}

/// Send `method path` with the client's token (if any), `body` and extra headers.
pub(crate) async fn send(
    client: &Client,
    method: Method,
    path: &str,
    body: Option<reqwest::Body>,
    headers: &[(&str, &str)],
) -> Response {
    let mut req = client.http.request(method, format!("{}{path}", client.base));
    if let Some(token) = &client.token {
        req = req.bearer_auth(token);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(body) = body {
        req = req.body(body);
    }
    req.send().await.expect("request sent")
}

/// Upload `bytes` and return the media ID.
pub(crate) async fn upload(
    client: &Client,
    bytes: Vec<u8>,
    content_type: &str,
    filename: Option<&str>,
) -> String {
    let path = match filename {
        Some(name) => format!("/_matrix/media/v3/upload?filename={}", urlencode(name)),
        None => "/_matrix/media/v3/upload".to_owned(),
    };
    let res =
        send(client, Method::POST, &path, Some(bytes.into()), &[("content-type", content_type)])
            .await;
    let (status, body) = json(res).await;
    assert_eq!(status, 200, "upload: {body}");
    media_id(&body["content_uri"])
}

/// The media ID of an `mxc://localhost/ID` URI.
pub(crate) fn media_id(uri: &Value) -> String {
    let uri = uri.as_str().expect("content_uri");
    uri.strip_prefix("mxc://localhost/").expect("a local mxc URI").to_owned()
}

pub(crate) async fn json(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let bytes = res.bytes().await.expect("body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Status and errcode of an error response, for `assert_eq!`.
pub(crate) async fn error(res: Response) -> (u16, String) {
    let (status, body) = json(res).await;
    assert!(body["error"].is_string(), "error message missing: {body}");
    (status, body["errcode"].as_str().unwrap_or("").to_owned())
}

pub(crate) fn urlencode(s: &str) -> String {
    form_urlencoded_byte_serialize(s)
}

fn form_urlencoded_byte_serialize(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) fn download_path(media_id: &str) -> String {
    format!("/_matrix/client/v1/media/download/localhost/{media_id}")
}

pub(crate) fn legacy_download_path(media_id: &str) -> String {
    format!("/_matrix/media/v3/download/localhost/{media_id}")
}
