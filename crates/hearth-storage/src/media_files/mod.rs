//! The blob store holding media bytes, content-addressed by SHA-256 so identical uploads are
//! stored once. Behind a trait so an object store (S3) can sit beside the local filesystem.

mod local;

use std::{ops::Range, pin::Pin};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use hearth_core::{Error, Result};

pub use local::LocalMediaFiles;

pub use crate::media::StoredBlob;

/// A body of bytes read or written in chunks: memory stays bounded whatever the size.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

#[async_trait]
pub trait MediaFiles: Send + Sync + 'static {
    /// Store everything `body` yields, hashing on the way. If `body` yields an error, nothing
    /// is kept and the error is returned.
    async fn store(&self, body: ByteStream) -> Result<StoredBlob>;

    /// Read the blob, or the byte `range` of it (which the caller has checked is within it).
    async fn read(&self, sha256: &str, range: Option<Range<u64>>) -> Result<ByteStream>;

    /// Remove the blob; removing a missing blob is not an error.
    async fn delete(&self, sha256: &str) -> Result<()>;

    async fn store_bytes(&self, bytes: Bytes) -> Result<StoredBlob> {
        self.store(Box::pin(futures_util::stream::once(async move { Ok(bytes) }))).await
    }

    /// The whole blob in memory, refusing one larger than `max` bytes.
    async fn read_all(&self, sha256: &str, max: u64) -> Result<Vec<u8>> {
        collect(self.read(sha256, None).await?, max).await
    }

    /// The byte `range` of the blob in memory.
    async fn read_range_all(&self, sha256: &str, range: Range<u64>) -> Result<Vec<u8>> {
        let max = range.end - range.start;
        collect(self.read(sha256, Some(range)).await?, max).await
    }
}

async fn collect(mut stream: ByteStream, max: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if (out.len() + chunk.len()) as u64 > max {
            return Err(Error::too_large("Content is too large to process"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A SHA-256 in lowercase hex, as blob names are; anything else never reaches a path.
pub(crate) fn valid_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
