//! Uploads: plain and asynchronous (`/create`), limits, rate limits, a 100 MB stream.

use futures_util::StreamExt;
use hearth_core::config::Rate;
use reqwest::Method;
use sha2::{Digest, Sha256};

use super::{download_path, error, json, media_id, send, unfrozen_server, upload};
use crate::common::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_need_a_token_and_respect_the_size_limit() {
    let server = TestServer::start_with(|c| c.media.max_upload_bytes = 1000).await;
    let alice = server.register("alice").await;
    let anonymous = server.client();
    let res =
        send(&anonymous, Method::POST, "/_matrix/media/v3/upload", Some(vec![1u8; 10].into()), &[])
            .await;
    assert_eq!(error(res).await, (401, "M_MISSING_TOKEN".to_owned()));

    upload(&alice, vec![7u8; 1000], "application/octet-stream", None).await;
    let res =
        send(&alice, Method::POST, "/_matrix/media/v3/upload", Some(vec![7u8; 1001].into()), &[])
            .await;
    assert_eq!(error(res).await, (413, "M_TOO_LARGE".to_owned()));
    // Without a Content-Length the limit is enforced while streaming.
    let chunks =
        futures_util::stream::iter((0..5).map(|_| Ok::<_, std::io::Error>(vec![1u8; 300])));
    let body = reqwest::Body::wrap_stream(chunks);
    let res = send(&alice, Method::POST, "/_matrix/media/v3/upload", Some(body), &[]).await;
    assert_eq!(error(res).await, (413, "M_TOO_LARGE".to_owned()));

    // A fresh connection: the server drops one whose upload it refused midway.
    let alice = server.client().with_token(alice.access_token());
    for path in ["/_matrix/client/v1/media/config", "/_matrix/media/v3/config"] {
        let (status, body) = alice.get(path).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["m.upload.size"], 1000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_upload_fills_a_created_id_and_wakes_waiting_downloads() {
    let server = unfrozen_server().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (status, body) = alice.post("/_matrix/media/v1/create", serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["unused_expires_at"].as_u64().unwrap() > 0);
    let id = media_id(&body["content_uri"]);

    let not_yet =
        send(&alice, Method::GET, &format!("{}?timeout_ms=50", download_path(&id)), None, &[])
            .await;
    assert_eq!(error(not_yet).await, (504, "M_NOT_YET_UPLOADED".to_owned()));

    // A download that waits gets the content once it arrives.
    let waiting = {
        let alice = alice.client.clone();
        let path = format!("{}?timeout_ms=20000", download_path(&id));
        tokio::spawn(async move { send(&alice, Method::GET, &path, None, &[]).await })
    };
    let put = format!("/_matrix/media/v3/upload/localhost/{id}?filename=late.txt");
    let res = send(&bob, Method::PUT, &put, Some(b"x".to_vec().into()), &[]).await;
    assert_eq!(error(res).await, (403, "M_FORBIDDEN".to_owned()), "only the creator uploads");
    let res = send(
        &alice,
        Method::PUT,
        &put,
        Some(b"late".to_vec().into()),
        &[("content-type", "text/plain")],
    )
    .await;
    assert_eq!(json(res).await, (200, serde_json::json!({})));
    let res = waiting.await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-disposition"], "inline; filename=late.txt");
    assert_eq!(res.bytes().await.unwrap(), "late");

    let res = send(&alice, Method::PUT, &put, Some(b"again".to_vec().into()), &[]).await;
    assert_eq!(error(res).await, (409, "M_CANNOT_OVERWRITE_MEDIA".to_owned()));
    let res = send(
        &alice,
        Method::PUT,
        "/_matrix/media/v3/upload/localhost/unknownid",
        Some(b"x".to_vec().into()),
        &[],
    )
    .await;
    assert_eq!(error(res).await, (404, "M_NOT_FOUND".to_owned()));
    let res = send(
        &alice,
        Method::PUT,
        &format!("/_matrix/media/v3/upload/remote.example/{id}"),
        Some(b"x".to_vec().into()),
        &[],
    )
    .await;
    assert_eq!(error(res).await, (404, "M_NOT_FOUND".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_uploads_are_limited_and_expire() {
    let server = TestServer::start_with(|c| c.media.max_pending_uploads = 2).await;
    let alice = server.register("alice").await;
    for _ in 0..2 {
        assert_eq!(alice.post("/_matrix/media/v1/create", serde_json::json!({})).await.0, 200);
    }
    let res = send(&alice, Method::POST, "/_matrix/media/v1/create", None, &[]).await;
    let (status, body) = json(res).await;
    assert_eq!((status, body["errcode"].as_str().unwrap()), (429, "M_LIMIT_EXCEEDED"), "{body}");

    let expiring = TestServer::start_with(|c| c.media.unused_expiration_secs = 0).await;
    let alice = expiring.register("alice").await;
    let (_, body) = alice.post("/_matrix/media/v1/create", serde_json::json!({})).await;
    let id = media_id(&body["content_uri"]);
    let res = send(
        &alice,
        Method::PUT,
        &format!("/_matrix/media/v3/upload/localhost/{id}"),
        Some(b"x".to_vec().into()),
        &[],
    )
    .await;
    assert_eq!(error(res).await, (404, "M_NOT_FOUND".to_owned()), "expired");
    let res = send(&alice, Method::GET, &download_path(&id), None, &[]).await;
    assert_eq!(error(res).await, (404, "M_NOT_FOUND".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_rate_limited_per_user() {
    let server = TestServer::start_with(|c| {
        c.rate_limits.enabled = true;
        c.media.upload_per_user = Rate { per_second: 0.01, burst: 2 };
    })
    .await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    upload(&alice, b"1".to_vec(), "text/plain", None).await;
    upload(&alice, b"2".to_vec(), "text/plain", None).await;
    let res =
        send(&alice, Method::POST, "/_matrix/media/v3/upload", Some(b"3".to_vec().into()), &[])
            .await;
    let (status, body) = json(res).await;
    assert_eq!((status, body["errcode"].as_str().unwrap()), (429, "M_LIMIT_EXCEEDED"), "{body}");
    assert!(body["retry_after_ms"].as_u64().is_some(), "{body}");
    upload(&bob, b"3".to_vec(), "text/plain", None).await;
}

/// 100 MB streamed in and out. Memory is measured by the benchmark, not here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_upload_streams_through() {
    const CHUNK: usize = 1 << 20;
    const CHUNKS: usize = 100;
    let server = TestServer::start_with(|c| c.media.max_upload_bytes = 128 << 20).await;
    let alice = server.register("alice").await;
    let chunk: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
    let mut expected = Sha256::new();
    for _ in 0..CHUNKS {
        expected.update(&chunk);
    }
    let chunks = futures_util::stream::iter(
        (0..CHUNKS).map(move |_| Ok::<_, std::io::Error>(bytes::Bytes::from(chunk.clone()))),
    );
    let res = send(
        &alice,
        Method::POST,
        "/_matrix/media/v3/upload",
        Some(reqwest::Body::wrap_stream(chunks)),
        &[],
    )
    .await;
    let (status, body) = json(res).await;
    assert_eq!(status, 200, "{body}");
    let id = media_id(&body["content_uri"]);

    let res = send(&alice, Method::GET, &download_path(&id), None, &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-length"], (CHUNK * CHUNKS).to_string());
    let mut hasher = Sha256::new();
    let mut stream = res.bytes_stream();
    while let Some(chunk) = stream.next().await {
        hasher.update(chunk.unwrap());
    }
    assert_eq!(hasher.finalize(), expected.finalize());
}
