//! Serving media bytes: streamed from the blob store, with range requests and the headers the
//! spec asks for on content (Content-Disposition, CSP sandbox, nosniff, CORP).

use axum::{body::Body, response::Response};
use hearth_core::Error;
use hearth_service::media::Download;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use ruma::http_headers::{
    CROSS_ORIGIN_RESOURCE_POLICY, ContentDisposition, ContentDispositionType,
};

use crate::ApiError;

/// Spec: "Content repository" recommends this policy (with Synapse's `media-src 'self'`).
const CSP: &str = "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; \
                   style-src 'unsafe-inline'; media-src 'self'; object-src 'self';";

/// What a `Range` header asks of content of a given size.
enum Wanted {
    All,
    Part(u64, u64),
    Unsatisfiable,
}

/// RFC 9110: one range is served as 206; an unsatisfiable one is 416; a malformed header or
/// several ranges may be ignored, and are: the whole content is served.
fn wanted(headers: &HeaderMap, size: u64) -> Wanted {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Wanted::All;
    };
    let Ok(parsed) = http_range_header::parse_range_header(value) else { return Wanted::All };
    match parsed.validate(size) {
        _ if size == 0 => Wanted::Unsatisfiable,
        Ok(ranges) if ranges.len() == 1 => Wanted::Part(*ranges[0].start(), *ranges[0].end()),
        Ok(_) => Wanted::All,
        Err(_) => Wanted::Unsatisfiable,
    }
}

/// The response for `download`, named `filename` when given (the `/{fileName}` variants).
pub(super) async fn serve(
    download: Download,
    filename: Option<String>,
    request_headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let size = download.size;
    let (status, range) = match wanted(request_headers, size) {
        Wanted::All => (StatusCode::OK, None),
        Wanted::Part(start, end) => (StatusCode::PARTIAL_CONTENT, Some((start, end))),
        Wanted::Unsatisfiable => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            insert(response.headers_mut(), header::CONTENT_RANGE, &format!("bytes */{size}"));
            return Ok(response);
        }
    };
    let body = download.open(range.map(|(start, end)| start..end + 1)).await?;
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let length = range.map_or(size, |(start, end)| end - start + 1);
    insert(headers, header::CONTENT_LENGTH, &length.to_string());
    if let Some((start, end)) = range {
        insert(headers, header::CONTENT_RANGE, &format!("bytes {start}-{end}/{size}"));
    }
    insert(headers, header::ACCEPT_RANGES, "bytes");
    let disposition = if download.inline {
        ContentDispositionType::Inline
    } else {
        ContentDispositionType::Attachment
    };
    let disposition =
        ContentDisposition::new(disposition).with_filename(filename.or(download.filename));
    insert(headers, header::CONTENT_DISPOSITION, &disposition.to_string());
    // A content type that is not a valid header value is served as opaque bytes.
    let content_type = HeaderValue::from_str(&download.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    insert(headers, header::CONTENT_SECURITY_POLICY, CSP);
    insert(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // Spec (v1.4): lets web clients use media with cross-origin isolation.
    insert(headers, CROSS_ORIGIN_RESOURCE_POLICY, "cross-origin");
    Ok(response)
}

fn insert(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(value) => {
            headers.insert(name, value);
        }
        Err(e) => tracing::warn!("media response header {name}: {}", Error::internal(e)),
    }
}
