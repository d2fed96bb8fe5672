//! Image work for thumbnails: probing, decoding under limits, scaling, cropping, encoding.
//! Everything here is CPU-bound and synchronous; callers run it in `spawn_blocking`.
//!
//! Spec ("Thumbnails"): "scale" keeps the aspect ratio and fits the requested box; "crop"
//! fills the box exactly, centred. Never upscale: content smaller than the box is served as is.

use std::io::Cursor;

use image::{
    AnimationDecoder, DynamicImage, Frame, ImageDecoder, ImageFormat, ImageReader, Limits,
    codecs::{
        gif::{GifDecoder, GifEncoder, Repeat},
        jpeg::JpegEncoder,
        png::PngDecoder,
        webp::WebPDecoder,
    },
    imageops::FilterType,
};

/// Frames of an animation we resize; longer animations get a still thumbnail.
const MAX_FRAMES: usize = 300;
/// Largest side accepted from an image header, whatever its pixel count.
const MAX_SIDE: u32 = 32_768;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Crop,
    Scale,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Crop => "crop",
            Method::Scale => "scale",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum ThumbError {
    /// Not an image in a format we decode (PNG, JPEG, GIF, WebP).
    NotImage,
    /// Looks like an image but does not decode.
    Corrupt,
    /// More pixels than allowed.
    TooLarge,
}

/// A decodable source image: its bytes, format and size.
pub struct Source<'a> {
    bytes: &'a [u8],
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    animated: bool,
    limits: Limits,
}

/// A thumbnail produced, or `Original` when the source already fits the box.
pub enum Output {
    Original,
    Encoded { bytes: Vec<u8>, content_type: &'static str },
}

/// Whether `head`, the first bytes of a file, starts like a format we thumbnail.
pub fn is_image_format(head: &[u8]) -> bool {
    matches!(
        image::guess_format(head),
        Ok(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP)
    )
}

pub fn mime(format: ImageFormat) -> &'static str {
    format.to_mime_type()
}

impl<'a> Source<'a> {
    /// Read the header only: the format from the bytes (never the claimed content type) and
    /// the dimensions, refusing more than `max_pixels` before anything is decoded.
    pub fn probe(bytes: &'a [u8], max_pixels: u64) -> Result<Source<'a>, ThumbError> {
        let reader = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|_| ThumbError::NotImage)?;
        let format = match reader.format() {
            Some(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif)) => f,
            Some(ImageFormat::WebP) => ImageFormat::WebP,
            _ => return Err(ThumbError::NotImage),
        };
        let (width, height) = reader.into_dimensions().map_err(|_| ThumbError::Corrupt)?;
        if width == 0 || height == 0 {
            return Err(ThumbError::Corrupt);
        }
        if u64::from(width) * u64::from(height) > max_pixels
            || width > MAX_SIDE
            || height > MAX_SIDE
        {
            return Err(ThumbError::TooLarge);
        }
        let mut limits = Limits::default();
        limits.max_image_width = Some(width);
        limits.max_image_height = Some(height);
        // Room for the RGBA image plus the decoder's working memory.
        limits.max_alloc = Some(u64::from(width) * u64::from(height) * 8 + (64 << 20));
        let animated = is_animated(bytes, format);
        Ok(Source { bytes, format, width, height, animated, limits })
    }

    /// A thumbnail for the box `width`×`height`. An animated one only when asked for and the
    /// source is animated (spec: otherwise behave as though `animated` were false).
    pub fn thumbnail(
        &self,
        width: u32,
        height: u32,
        method: Method,
        animated: bool,
    ) -> Result<Output, ThumbError> {
        let animate = animated && self.animated;
        let fits = self.width <= width && self.height <= height;
        if fits && (animate || !self.animated) {
            return Ok(Output::Original);
        }
        if animate && let Some(bytes) = self.animated_thumbnail(width, height, method)? {
            return Ok(Output::Encoded { bytes, content_type: "image/gif" });
        }
        let still = self.decode_still()?;
        let thumb = resize(&still, width, height, method);
        encode_still(&thumb, self.format)
    }

    /// Still thumbnails (or animated ones if asked for) for several boxes, decoding once.
    /// The source is always decoded, so a corrupt image is refused even where it would be
    /// served as it is.
    pub fn thumbnails(
        &self,
        boxes: &[(u32, u32, Method)],
        animated: bool,
    ) -> Result<Vec<Output>, ThumbError> {
        let still = self.decode_still()?;
        if animated && self.animated {
            return boxes.iter().map(|&(w, h, m)| self.thumbnail(w, h, m, true)).collect();
        }
        let mut outputs = Vec::with_capacity(boxes.len());
        for &(width, height, method) in boxes {
            if !self.animated && self.width <= width && self.height <= height {
                outputs.push(Output::Original);
            } else {
                outputs.push(encode_still(&resize(&still, width, height, method), self.format)?);
            }
        }
        Ok(outputs)
    }

    fn decode_still(&self) -> Result<DynamicImage, ThumbError> {
        let mut reader = ImageReader::with_format(Cursor::new(self.bytes), self.format);
        reader.limits(self.limits.clone());
        reader.decode().map_err(|_| ThumbError::Corrupt)
    }

    /// Resize every frame; `None` if the animation is too long to be worth it.
    fn animated_thumbnail(
        &self,
        width: u32,
        height: u32,
        method: Method,
    ) -> Result<Option<Vec<u8>>, ThumbError> {
        let frames = match self.format {
            ImageFormat::Gif => {
                let mut decoder =
                    GifDecoder::new(Cursor::new(self.bytes)).map_err(|_| ThumbError::Corrupt)?;
                decoder.set_limits(self.limits.clone()).map_err(|_| ThumbError::TooLarge)?;
                resize_frames(decoder.into_frames(), width, height, method)?
            }
            ImageFormat::WebP => {
                let mut decoder =
                    WebPDecoder::new(Cursor::new(self.bytes)).map_err(|_| ThumbError::Corrupt)?;
                decoder.set_limits(self.limits.clone()).map_err(|_| ThumbError::TooLarge)?;
                resize_frames(decoder.into_frames(), width, height, method)?
            }
            ImageFormat::Png => {
                let mut decoder =
                    PngDecoder::new(Cursor::new(self.bytes)).map_err(|_| ThumbError::Corrupt)?;
                decoder.set_limits(self.limits.clone()).map_err(|_| ThumbError::TooLarge)?;
                let apng = decoder.apng().map_err(|_| ThumbError::Corrupt)?;
                resize_frames(apng.into_frames(), width, height, method)?
            }
            _ => None,
        };
        let Some(frames) = frames else { return Ok(None) };
        // The image crate encodes animation only as GIF, which the spec allows.
        let mut out = Vec::new();
        {
            let mut encoder = GifEncoder::new_with_speed(&mut out, 20);
            encoder.set_repeat(Repeat::Infinite).map_err(|_| ThumbError::Corrupt)?;
            encoder.encode_frames(frames).map_err(|_| ThumbError::Corrupt)?;
        }
        Ok(Some(out))
    }
}

fn is_animated(bytes: &[u8], format: ImageFormat) -> bool {
    match format {
        ImageFormat::Gif => GifDecoder::new(Cursor::new(bytes))
            .map(|d| d.into_frames().take(2).count() > 1)
            .unwrap_or(false),
        ImageFormat::WebP => {
            WebPDecoder::new(Cursor::new(bytes)).map(|d| d.has_animation()).unwrap_or(false)
        }
        ImageFormat::Png => {
            PngDecoder::new(Cursor::new(bytes)).and_then(|d| d.is_apng()).unwrap_or(false)
        }
        _ => false,
    }
}

fn resize_frames<'f>(
    frames: image::Frames<'f>,
    width: u32,
    height: u32,
    method: Method,
) -> Result<Option<Vec<Frame>>, ThumbError> {
    let mut out = Vec::new();
    for frame in frames {
        if out.len() == MAX_FRAMES {
            return Ok(None);
        }
        let frame = frame.map_err(|_| ThumbError::Corrupt)?;
        let delay = frame.delay();
        let image = DynamicImage::ImageRgba8(frame.into_buffer());
        let resized = resize(&image, width, height, method).into_rgba8();
        out.push(Frame::from_parts(resized, 0, 0, delay));
    }
    Ok(Some(out))
}

/// Scale to fit the box, or scale to cover it and crop the centre; never upscale.
pub fn resize(image: &DynamicImage, width: u32, height: u32, method: Method) -> DynamicImage {
    let (w, h) = (f64::from(image.width()), f64::from(image.height()));
    let (bw, bh) = (f64::from(width), f64::from(height));
    let side = |v: f64| (v.round() as u32).max(1);
    match method {
        Method::Scale => {
            let ratio = (bw / w).min(bh / h).min(1.0);
            if ratio >= 1.0 {
                return image.clone();
            }
            image.resize_exact(side(w * ratio), side(h * ratio), FilterType::Triangle)
        }
        Method::Crop => {
            let ratio = (bw / w).max(bh / h).min(1.0);
            let scaled = if ratio >= 1.0 {
                image.clone()
            } else {
                image.resize_exact(side(w * ratio), side(h * ratio), FilterType::Triangle)
            };
            let (cw, ch) = (width.min(scaled.width()), height.min(scaled.height()));
            let (x, y) = ((scaled.width() - cw) / 2, (scaled.height() - ch) / 2);
            scaled.crop_imm(x, y, cw, ch)
        }
    }
}

/// JPEG stays JPEG (photos); everything else becomes PNG (keeps transparency).
fn encode_still(image: &DynamicImage, source: ImageFormat) -> Result<Output, ThumbError> {
    let mut out = Vec::new();
    if source == ImageFormat::Jpeg {
        let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
        rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, 80))
            .map_err(|_| ThumbError::Corrupt)?;
        Ok(Output::Encoded { bytes: out, content_type: "image/jpeg" })
    } else {
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .map_err(|_| ThumbError::Corrupt)?;
        Ok(Output::Encoded { bytes: out, content_type: "image/png" })
    }
}

#[cfg(test)]
mod tests {
    use image::RgbaImage;

    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        DynamicImage::ImageRgba8(RgbaImage::new(width, height))
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn scale_fits_and_crop_fills_without_upscaling() {
        let image = DynamicImage::ImageRgba8(RgbaImage::new(640, 480));
        let scaled = resize(&image, 100, 100, Method::Scale);
        assert_eq!((scaled.width(), scaled.height()), (100, 75));
        let cropped = resize(&image, 100, 100, Method::Crop);
        assert_eq!((cropped.width(), cropped.height()), (100, 100));
        let narrow = DynamicImage::ImageRgba8(RgbaImage::new(50, 200));
        let cropped = resize(&narrow, 96, 96, Method::Crop);
        assert_eq!((cropped.width(), cropped.height()), (50, 96));
    }

    #[test]
    fn probe_refuses_what_it_cannot_or_should_not_decode() {
        assert!(matches!(Source::probe(b"hello, not an image", 1000), Err(ThumbError::NotImage)));
        let mut corrupt = png(10, 10);
        corrupt.truncate(20);
        assert!(matches!(Source::probe(&corrupt, 1000), Err(ThumbError::Corrupt)));
        assert!(matches!(Source::probe(&png(100, 100), 1000), Err(ThumbError::TooLarge)));
        let small = png(10, 10);
        let source = Source::probe(&small, 1000).unwrap();
        assert!(matches!(source.thumbnail(32, 32, Method::Crop, false), Ok(Output::Original)));
    }
}
