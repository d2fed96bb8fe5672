//! Blobs on the local filesystem: `<root>/ab/cd/abcd…` by SHA-256, written to `<root>/tmp`
//! first and renamed into place once complete, so a blob is never seen half-written.

use std::{
    io::SeekFrom,
    ops::Range,
    path::{Path, PathBuf},
};

use async_trait::async_trait;
use futures_util::StreamExt;
use hearth_core::{Error, Result, utils::random_string};
use sha2::{Digest, Sha256};
use tokio::{
    fs,
    io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt},
};
use tokio_util::io::ReaderStream;

use super::{ByteStream, MediaFiles, StoredBlob, valid_sha256};

const READ_CHUNK: usize = 64 * 1024;

pub struct LocalMediaFiles {
    root: PathBuf,
}

impl LocalMediaFiles {
    /// Keep blobs under `root` (created on the first write). Temp files left by uploads
    /// that a stop interrupted are removed: one server owns its data dir.
    pub fn new(root: &Path) -> LocalMediaFiles {
        let _ = std::fs::remove_dir_all(root.join("tmp"));
        LocalMediaFiles { root: root.to_path_buf() }
    }

    fn path(&self, sha256: &str) -> Result<PathBuf> {
        if !valid_sha256(sha256) {
            return Err(Error::internal(format!("invalid blob name {sha256:?}")));
        }
        Ok(self.root.join(&sha256[0..2]).join(&sha256[2..4]).join(sha256))
    }

    async fn write_temp(&self, temp: &Path, mut body: ByteStream) -> Result<StoredBlob> {
        if let Some(dir) = temp.parent() {
            fs::create_dir_all(dir).await.map_err(io_error)?;
        }
        let mut file = fs::File::create(temp).await.map_err(io_error)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(io_error)?;
        }
        file.flush().await.map_err(io_error)?;
        // The upload is acknowledged only once its bytes are durable.
        file.sync_all().await.map_err(io_error)?;
        Ok(StoredBlob { sha256: hex::encode(hasher.finalize()), size })
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::internal(format!("media files: {e}"))
}

#[async_trait]
impl MediaFiles for LocalMediaFiles {
    async fn store(&self, body: ByteStream) -> Result<StoredBlob> {
        let temp = self.root.join("tmp").join(random_string(24));
        let blob = match self.write_temp(&temp, body).await {
            Ok(blob) => blob,
            Err(e) => {
                let _ = fs::remove_file(&temp).await;
                return Err(e);
            }
        };
        let target = self.path(&blob.sha256)?;
        if fs::try_exists(&target).await.unwrap_or(false) {
            // The same bytes are stored already: keep one copy.
            let _ = fs::remove_file(&temp).await;
            return Ok(blob);
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).await.map_err(io_error)?;
        }
        if let Err(e) = fs::rename(&temp, &target).await {
            let _ = fs::remove_file(&temp).await;
            return Err(io_error(e));
        }
        Ok(blob)
    }

    async fn read(&self, sha256: &str, range: Option<Range<u64>>) -> Result<ByteStream> {
        let path = self.path(sha256)?;
        let mut file = fs::File::open(&path).await.map_err(io_error)?;
        let stream: ByteStream = match range {
            None => {
                Box::pin(ReaderStream::with_capacity(file, READ_CHUNK).map(|r| r.map_err(io_error)))
            }
            Some(range) => {
                file.seek(SeekFrom::Start(range.start)).await.map_err(io_error)?;
                let limited = file.take(range.end - range.start);
                Box::pin(
                    ReaderStream::with_capacity(limited, READ_CHUNK).map(|r| r.map_err(io_error)),
                )
            }
        };
        Ok(stream)
    }

    async fn delete(&self, sha256: &str) -> Result<()> {
        match fs::remove_file(self.path(sha256)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[tokio::test]
    async fn identical_bytes_are_stored_once_and_ranges_read() {
        let dir = tempfile::tempdir().unwrap();
        let files = LocalMediaFiles::new(dir.path());
        let a = files.store_bytes(Bytes::from_static(b"hello world")).await.unwrap();
        let b = files.store_bytes(Bytes::from_static(b"hello world")).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(a.size, 11);
        let blobs = walk(dir.path()).into_iter().filter(|p| !p.starts_with(dir.path().join("tmp")));
        assert_eq!(blobs.count(), 1);
        let mut part = Vec::new();
        let mut stream = files.read(&a.sha256, Some(6..11)).await.unwrap();
        while let Some(chunk) = stream.next().await {
            part.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(part, b"world");
        files.delete(&a.sha256).await.unwrap();
        assert!(files.read(&a.sha256, None).await.is_err());
        assert!(files.path("../../etc/passwd").is_err());
    }

    #[tokio::test]
    async fn a_failing_body_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let files = LocalMediaFiles::new(dir.path());
        let body: ByteStream = Box::pin(futures_util::stream::iter([
            Ok(Bytes::from_static(b"abc")),
            Err(Error::too_large("too large")),
        ]));
        assert!(files.store(body).await.is_err());
        assert!(walk(dir.path()).is_empty());
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
        }
        out
    }
}
