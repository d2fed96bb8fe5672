//! URL previews: off by default, the SSRF guard, OpenGraph with an image, redirects, caching.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use reqwest::Method;

use super::{error, json, send, urlencode};
use crate::common::{Client, TestServer};

const PAGE: &str = r#"<!doctype html><html><head>
<title>Ignored: og:title wins</title>
<meta property="og:title" content="Hearth &amp; friends">
<meta property="og:description" content="A page to preview">
<meta property="og:image" content="/image.png">
</head><body></body></html>"#;

/// A tiny website on 127.0.0.1 counting the requests it answers.
struct Site {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn site() -> Site {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let png = {
        let mut out = Vec::new();
        image::DynamicImage::ImageRgba8(image::RgbaImage::new(48, 32))
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    };
    let blocked = format!("http://127.0.0.2:{}/page", addr.port());
    let app = Router::new()
        .route("/page", get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE) }))
        .route(
            "/plain",
            get(|| async {
                let body = "<html><head><title>Just a title</title><meta name=\"description\" content=\"Described\"></head></html>";
                ([(header::CONTENT_TYPE, "text/html")], body)
            }),
        )
        .route("/image.png", get(move || async move { ([(header::CONTENT_TYPE, "image/png")], png) }))
        .route("/hop", get(|| async { (axum::http::StatusCode::FOUND, [(header::LOCATION, "/page")]) }))
        .route(
            "/escape",
            get(move || async move { (axum::http::StatusCode::FOUND, [(header::LOCATION, blocked)]).into_response() }),
        )
        .route("/big", get(|| async { ([(header::CONTENT_TYPE, "text/html")], "x".repeat(100_000)) }))
        .layer(axum::middleware::from_fn_with_state(hits.clone(), count))
        .with_state(());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Site { addr, hits, task }
}

async fn count(
    State(hits): State<Arc<AtomicUsize>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    hits.fetch_add(1, Ordering::SeqCst);
    next.run(req).await
}

async fn preview(client: &Client, url: &str) -> reqwest::Response {
    let path = format!("/_matrix/client/v1/media/preview_url?url={}", urlencode(url));
    send(client, Method::GET, &path, None, &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_are_off_by_default() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let res = preview(&alice, "https://example.org/").await;
    assert_eq!(error(res).await, (404, "M_UNRECOGNIZED".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_and_private_targets_are_refused() {
    let site = site().await;
    let server = TestServer::start_with(|c| c.media.url_preview_enabled = true).await;
    let alice = server.register("alice").await;
    let port = site.addr.port();
    // IP literals are refused before connecting; names whose addresses are all private fail
    // resolution (as Synapse answers both).
    for (url, status) in [
        (format!("http://127.0.0.1:{port}/page"), 403),
        (format!("http://[::1]:{port}/page"), 403),
        (format!("http://[::ffff:127.0.0.1]:{port}/page"), 403),
        (format!("http://localhost:{port}/page"), 502),
    ] {
        let res = preview(&alice, &url).await;
        assert_eq!(error(res).await, (status, "M_UNKNOWN".to_owned()), "{url}");
    }
    let res = preview(&alice, "ftp://example.org/file").await;
    assert_eq!(error(res).await.0, 400);
    let res = preview(&alice, "not a url").await;
    assert_eq!(error(res).await.0, 400);
    assert_eq!(site.hits.load(Ordering::SeqCst), 0, "no request reached the site");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_local_site_is_previewed_with_its_image() {
    let site = site().await;
    let server = TestServer::start_with(|c| {
        c.media.url_preview_enabled = true;
        c.media.url_preview_ip_range_whitelist = vec!["127.0.0.1/32".parse().unwrap()];
        c.media.url_preview_max_bytes = 50_000;
    })
    .await;
    let alice = server.register("alice").await;
    let base = format!("http://127.0.0.1:{}", site.addr.port());

    let (status, og) = json(preview(&alice, &format!("{base}/page")).await).await;
    assert_eq!(status, 200, "{og}");
    assert_eq!(og["og:title"], "Hearth & friends");
    assert_eq!(og["og:description"], "A page to preview");
    assert_eq!(og["og:image:width"], 48);
    assert_eq!(og["og:image:height"], 32);
    assert_eq!(og["og:image:type"], "image/png");
    let image_id = super::media_id(&og["og:image"]);
    let res = send(&alice, Method::GET, &super::download_path(&image_id), None, &[]).await;
    let image = res.bytes().await.unwrap();
    assert_eq!(og["matrix:image:size"], image.len());
    assert_eq!(image::load_from_memory(&image).unwrap().width(), 48);

    // Cached: the site is not asked again.
    let hits = site.hits.load(Ordering::SeqCst);
    let (status, again) = json(preview(&alice, &format!("{base}/page")).await).await;
    assert_eq!((status, &again), (200, &og));
    assert_eq!(site.hits.load(Ordering::SeqCst), hits);

    let (_, og) = json(preview(&alice, &format!("{base}/plain")).await).await;
    assert_eq!(og["og:title"], "Just a title");
    assert_eq!(og["og:description"], "Described");
    let (status, og) = json(preview(&alice, &format!("{base}/hop")).await).await;
    assert_eq!((status, og["og:title"].as_str()), (200, Some("Hearth & friends")));

    // A redirect to an address that is not allowed is refused like the address itself.
    let res = preview(&alice, &format!("{base}/escape")).await;
    assert_eq!(error(res).await, (403, "M_UNKNOWN".to_owned()));
    let res = preview(&alice, &format!("{base}/big")).await;
    assert_eq!(error(res).await, (502, "M_UNKNOWN".to_owned()));
}

/// One HTTPS page on 127.0.0.1 behind a self-signed certificate (a test-only key pair), as
/// SyTest serves its pages.
async fn self_signed_site() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let pem = include_bytes!("self_signed.pem");
    let certs = CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_slice(pem).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A failed handshake (a client refusing the certificate) just ends here.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut request = Vec::new();
                let mut buf = [0; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let page =
                    "<html><head><meta property=\"og:title\" content=\"Secure\"></head></html>";
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_sites_only_with_the_testing_switch() {
    let (addr, task) = self_signed_site().await;
    let url = format!("https://127.0.0.1:{}/page", addr.port());
    for accept_invalid_certs in [false, true] {
        let server = TestServer::start_with(|c| {
            c.media.url_preview_enabled = true;
            c.media.url_preview_ip_range_whitelist = vec!["127.0.0.1/32".parse().unwrap()];
            c.media.url_preview_accept_invalid_certs = accept_invalid_certs;
        })
        .await;
        let alice = server.register("alice").await;
        let res = preview(&alice, &url).await;
        if accept_invalid_certs {
            let (status, og) = json(res).await;
            assert_eq!((status, &og["og:title"]), (200, &serde_json::json!("Secure")), "{og}");
            // The deprecated path, which SyTest calls, serves the same.
            let legacy = format!("/_matrix/media/v3/preview_url?url={}", urlencode(&url));
            let (status, og) = json(send(&alice, Method::GET, &legacy, None, &[]).await).await;
            assert_eq!((status, &og["og:title"]), (200, &serde_json::json!("Secure")), "{og}");
        } else {
            assert_eq!(error(res).await, (502, "M_UNKNOWN".to_owned()));
        }
    }
    task.abort();
}
