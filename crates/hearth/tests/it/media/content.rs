//! Downloads: both paths, file names, the legacy freeze, headers, ranges, deletion.

use reqwest::Method;

use super::{download_path, error, legacy_download_path, send, unfrozen_server, upload};
use crate::common::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_through_authenticated_and_legacy_paths() {
    let server = unfrozen_server().await;
    let alice = server.register("alice").await;
    let anonymous = server.client();
    let id = upload(&alice, b"hello media".to_vec(), "text/plain", Some("hello.txt")).await;

    let cases = [
        (&alice.client, download_path(&id), "hello.txt"),
        (&alice.client, format!("{}/other name.txt", download_path(&id)), "\"other name.txt\""),
        (&anonymous, legacy_download_path(&id), "hello.txt"),
        (&anonymous, format!("{}/renamed.txt", legacy_download_path(&id)), "renamed.txt"),
        (&anonymous, format!("/_matrix/media/r0/download/localhost/{id}"), "hello.txt"),
    ];
    for (client, path, filename) in cases {
        let res = send(client, Method::GET, &path, None, &[]).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "text/plain", "{path}");
        let disposition = format!("inline; filename={filename}");
        assert_eq!(res.headers()["content-disposition"], disposition.as_str(), "{path}");
        assert_eq!(res.bytes().await.unwrap(), "hello media", "{path}");
    }
    let res = send(&anonymous, Method::GET, &download_path(&id), None, &[]).await;
    assert_eq!(error(res).await, (401, "M_MISSING_TOKEN".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_freeze_hides_new_media_from_unauthenticated_paths() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let id = upload(&alice, b"fresh".to_vec(), "text/plain", None).await;
    let res = send(&server.client(), Method::GET, &legacy_download_path(&id), None, &[]).await;
    assert_eq!(error(res).await, (404, "M_NOT_FOUND".to_owned()));
    let path = format!("/_matrix/media/v3/thumbnail/localhost/{id}?width=32&height=32");
    let res = send(&server.client(), Method::GET, &path, None, &[]).await;
    assert_eq!(error(res).await, (404, "M_NOT_FOUND".to_owned()));
    let res = send(&alice, Method::GET, &download_path(&id), None, &[]).await;
    assert_eq!(res.status(), 200);
    // The file name comes only from the upload: none given, none served.
    assert_eq!(res.headers()["content-disposition"], "inline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_remote_and_malformed_media_are_not_found() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    for path in [
        download_path("doesNotExist"),
        "/_matrix/client/v1/media/download/remote.example/abcdef".to_owned(),
        "/_matrix/client/v1/media/thumbnail/remote.example/abcdef?width=32&height=32".to_owned(),
        download_path("bad.id"),
    ] {
        let res = send(&alice, Method::GET, &path, None, &[]).await;
        assert_eq!(error(res).await, (404, "M_NOT_FOUND".to_owned()), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_is_served_with_safe_headers() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let html =
        upload(&alice, b"<script>alert(1)</script>".to_vec(), "text/html", Some("page.html")).await;
    let res = send(&alice, Method::GET, &download_path(&html), None, &[]).await;
    let headers = res.headers();
    assert_eq!(headers["content-type"], "text/html");
    assert_eq!(headers["content-disposition"], "attachment; filename=page.html");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("sandbox; default-src 'none'; script-src 'none';"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cross-origin-resource-policy"], "cross-origin");

    // Non-ASCII names are encoded (RFC 8187); a missing content type is served as bytes.
    let named = upload(&alice, b"%PDF".to_vec(), "application/pdf", Some("résumé.pdf")).await;
    let res = send(&alice, Method::GET, &download_path(&named), None, &[]).await;
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"
    );
    let res =
        send(&alice, Method::POST, "/_matrix/media/v3/upload", Some(b"?".to_vec().into()), &[])
            .await;
    let id = super::media_id(&super::json(res).await.1["content_uri"]);
    let res = send(&alice, Method::GET, &download_path(&id), None, &[]).await;
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    assert_eq!(res.headers()["content-disposition"], "attachment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_requests() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let bytes: Vec<u8> = (0..100u8).collect();
    let id = upload(&alice, bytes.clone(), "application/octet-stream", None).await;
    let path = download_path(&id);

    for (range, start, end) in [
        ("bytes=10-19", 10, 19),
        ("bytes=90-", 90, 99),
        ("bytes=-5", 95, 99),
        ("bytes=95-500", 95, 99),
    ] {
        let res = send(&alice, Method::GET, &path, None, &[("range", range)]).await;
        assert_eq!(res.status(), 206, "{range}");
        assert_eq!(res.headers()["content-range"], format!("bytes {start}-{end}/100").as_str());
        assert_eq!(res.headers()["content-length"], (end - start + 1).to_string().as_str());
        assert_eq!(res.bytes().await.unwrap(), bytes[start..=end], "{range}");
    }
    let res = send(&alice, Method::GET, &path, None, &[("range", "bytes=200-300")]).await;
    assert_eq!(res.status(), 416);
    assert_eq!(res.headers()["content-range"], "bytes */100");
    // A malformed Range is ignored: the whole content.
    let res = send(&alice, Method::GET, &path, None, &[("range", "pages=1-2")]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["accept-ranges"], "bytes");
    assert_eq!(res.bytes().await.unwrap(), bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_and_quarantine_keep_shared_bytes() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let first = upload(&alice, b"same bytes".to_vec(), "text/plain", None).await;
    let second = upload(&alice, b"same bytes".to_vec(), "text/plain", None).await;
    let media = &server.services().media;
    let localhost: &ruma::ServerName = "localhost".try_into().unwrap();

    media.set_quarantined(localhost, &second, true).await.unwrap();
    let res = send(&alice, Method::GET, &download_path(&second), None, &[]).await;
    assert_eq!(error(res).await, (404, "M_NOT_FOUND".to_owned()));
    media.set_quarantined(localhost, &second, false).await.unwrap();

    media.delete_media(localhost, &first).await.unwrap();
    let res = send(&alice, Method::GET, &download_path(&first), None, &[]).await;
    assert_eq!(error(res).await, (404, "M_NOT_FOUND".to_owned()));
    // The other upload of the same bytes shares the stored file and still downloads.
    let res = send(&alice, Method::GET, &download_path(&second), None, &[]).await;
    assert_eq!(res.bytes().await.unwrap(), "same bytes");
    assert_eq!(media.delete_media(localhost, &first).await.unwrap_err().errcode(), "M_NOT_FOUND");
    media.delete_media(localhost, &second).await.unwrap();
    let blobs = walk(&server.config.media_path());
    assert!(blobs.is_empty(), "no file left: {blobs:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out = Vec::new();
    for path in entries.map(|e| e.unwrap().path()) {
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_download_but_do_not_upload() {
    let server = TestServer::start_with(|c| c.registration.allow_guests = true).await;
    let alice = server.register("alice").await;
    let id = upload(&alice, b"for everyone".to_vec(), "text/plain", None).await;
    let (status, body) =
        server.client().post("/_matrix/client/v3/register?kind=guest", serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    let guest = server.client().with_token(body["access_token"].as_str().unwrap());
    let res = send(&guest, Method::GET, &download_path(&id), None, &[]).await;
    assert_eq!(res.bytes().await.unwrap(), "for everyone");
    for (method, path) in
        [(Method::POST, "/_matrix/media/v3/upload"), (Method::POST, "/_matrix/media/v1/create")]
    {
        let res = send(&guest, method, path, Some(b"{}".to_vec().into()), &[]).await;
        assert_eq!(error(res).await, (403, "M_GUEST_ACCESS_FORBIDDEN".to_owned()), "{path}");
    }
}
