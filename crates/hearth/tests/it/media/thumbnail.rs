//! Thumbnails of each format, crop and scale, animation, and content that is no image.

use std::io::Cursor;

use image::{
    AnimationDecoder, DynamicImage, Frame, ImageFormat, Rgba, RgbaImage,
    codecs::gif::{GifDecoder, GifEncoder, Repeat},
};
use reqwest::Method;

use super::{send, upload};
use crate::common::{Client, TestServer};

fn image(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let pixels = RgbaImage::from_fn(width, height, |x, y| {
        Rgba([(x % 256) as u8, (y % 256) as u8, 128, 255])
    });
    let image = if format == ImageFormat::Jpeg {
        DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(pixels).to_rgb8())
    } else {
        DynamicImage::ImageRgba8(pixels)
    };
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

fn animated_gif(width: u32, height: u32, frames: u8) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder.set_repeat(Repeat::Infinite).unwrap();
        let frames = (0..frames)
            .map(|i| Frame::new(RgbaImage::from_pixel(width, height, Rgba([i * 80, 0, 0, 255]))));
        encoder.encode_frames(frames).unwrap();
    }
    out
}

/// GET a thumbnail; returns its content type and decoded dimensions.
async fn thumbnail(client: &Client, id: &str, query: &str) -> (String, u32, u32) {
    let path = format!("/_matrix/client/v1/media/thumbnail/localhost/{id}?{query}");
    let res = send(client, Method::GET, &path, None, &[]).await;
    assert_eq!(res.status(), 200, "{query}");
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("inline; filename=thumbnail."), "{disposition}");
    let bytes = res.bytes().await.unwrap();
    let decoded = image::load_from_memory(&bytes).expect("a thumbnail decodes");
    (content_type, decoded.width(), decoded.height())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbnails_of_each_format() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let cases = [
        (ImageFormat::Png, "image/png", (640, 480), "image/png", (320, 240)),
        (ImageFormat::Jpeg, "image/jpeg", (400, 300), "image/jpeg", (320, 240)),
        // Content no larger than the box is served as it is, never upscaled.
        (ImageFormat::Gif, "image/gif", (200, 100), "image/gif", (200, 100)),
        (ImageFormat::WebP, "image/webp", (300, 200), "image/webp", (300, 200)),
    ];
    for (format, mime, (w, h), scaled_type, scaled) in cases {
        let id = upload(&alice, image(format, w, h), mime, None).await;
        let (content_type, tw, th) =
            thumbnail(&alice, &id, "width=100&height=100&method=scale").await;
        assert_eq!((content_type.as_str(), (tw, th)), (scaled_type, scaled), "{mime} scale");
        let (_, tw, th) = thumbnail(&alice, &id, "width=32&height=32&method=crop").await;
        assert_eq!((tw, th), (32, 32), "{mime} crop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crop_fills_the_box_and_scale_keeps_the_aspect() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let id = upload(&alice, image(ImageFormat::Png, 640, 480), "image/png", None).await;
    // Not a configured size: made on demand, then served from the cache.
    for _ in 0..2 {
        assert_eq!(thumbnail(&alice, &id, "width=100&height=100&method=crop").await.1, 100);
    }
    let (_, w, h) = thumbnail(&alice, &id, "width=100&height=100&method=crop").await;
    assert_eq!((w, h), (100, 100));
    let (_, w, h) = thumbnail(&alice, &id, "width=900&height=500&method=scale").await;
    assert_eq!((w, h), (640, 480), "larger than the image: the original");
    let (_, w, h) = thumbnail(&alice, &id, "width=600&height=100&method=crop").await;
    assert_eq!((w, h), (600, 100));
    let (_, w, h) = thumbnail(&alice, &id, "width=700&height=300&method=scale").await;
    assert_eq!((w, h), (640, 480), "the 800x600 box holds the whole image");
    let (_, w, h) = thumbnail(&alice, &id, "width=96&height=20").await;
    assert_eq!((w, h), (320, 240), "scale is the default method");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn animated_thumbnails_when_asked_for() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let id = upload(&alice, animated_gif(120, 90, 3), "image/gif", None).await;
    let path = format!(
        "/_matrix/client/v1/media/thumbnail/localhost/{id}?width=32&height=32&method=crop&animated=true"
    );
    let res = send(&alice, Method::GET, &path, None, &[]).await;
    assert_eq!(res.headers()["content-type"], "image/gif");
    let bytes = res.bytes().await.unwrap();
    let frames =
        GifDecoder::new(Cursor::new(&bytes[..])).unwrap().into_frames().collect_frames().unwrap();
    assert_eq!(frames.len(), 3);
    for frame in frames {
        assert_eq!(frame.buffer().dimensions(), (32, 32));
    }
    let still = thumbnail(&alice, &id, "width=32&height=32&method=crop&animated=false").await;
    assert_eq!(still, ("image/png".to_owned(), 32, 32));
    let still = thumbnail(&alice, &id, "width=32&height=32&method=crop").await;
    assert_eq!(still, ("image/png".to_owned(), 32, 32));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_that_is_no_image_downloads_but_has_no_thumbnail() {
    let server = TestServer::start_with(|c| c.media.max_thumbnail_pixels = 10_000).await;
    let alice = server.register("alice").await;
    let mut corrupt = image(ImageFormat::Png, 50, 50);
    corrupt.truncate(corrupt.len() / 2);
    let cases = [
        (b"just some text".to_vec(), 400, "M_UNKNOWN"),
        (corrupt, 400, "M_UNKNOWN"),
        (image(ImageFormat::Png, 200, 200), 413, "M_TOO_LARGE"),
    ];
    for (bytes, status, errcode) in cases {
        let id = upload(&alice, bytes.clone(), "image/png", None).await;
        let path = format!("/_matrix/client/v1/media/thumbnail/localhost/{id}?width=32&height=32");
        let res = send(&alice, Method::GET, &path, None, &[]).await;
        let (got, body) = super::json(res).await;
        assert_eq!((got, body["errcode"].as_str()), (status, Some(errcode)), "{body}");
        let res = send(&alice, Method::GET, &super::download_path(&id), None, &[]).await;
        assert_eq!(res.bytes().await.unwrap(), bytes);
    }
    let id = upload(&alice, image(ImageFormat::Png, 50, 50), "image/png", None).await;
    for query in
        ["width=0&height=32", "width=32&height=32&method=stretch", "width=-1&height=3", "height=3"]
    {
        let path = format!("/_matrix/client/v1/media/thumbnail/localhost/{id}?{query}");
        let res = send(&alice, Method::GET, &path, None, &[]).await;
        let (status, body) = super::json(res).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["errcode"].is_string(), "{query}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_thumbnails_before_the_freeze() {
    let server = super::unfrozen_server().await;
    let alice = server.register("alice").await;
    let id = upload(&alice, image(ImageFormat::Png, 64, 64), "image/png", None).await;
    let path = format!("/_matrix/media/v3/thumbnail/localhost/{id}?width=32&height=32&method=crop");
    let res = send(&server.client(), Method::GET, &path, None, &[]).await;
    assert_eq!(res.status(), 200);
    let decoded = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (32, 32));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_every_size_does_not_keep_every_size() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let id = upload(&alice, image(ImageFormat::Png, 160, 120), "image/png", None).await;
    for i in 0..32 {
        let (_, w, h) =
            thumbnail(&alice, &id, &format!("width={}&height=97&method=crop", 97 + i)).await;
        assert_eq!((w, h), (97 + i, 97));
    }
    // Past the cap a new size gets the whole image; sizes already made are still served.
    let (_, w, h) = thumbnail(&alice, &id, "width=150&height=97&method=crop").await;
    assert_eq!((w, h), (160, 120));
    let (_, w, h) = thumbnail(&alice, &id, "width=100&height=97&method=crop").await;
    assert_eq!((w, h), (100, 97));
}
