//! Wedrive downloads streamed to a file: the body is read chunk by chunk and written through a
//! buffer of [`DOWNLOAD_BUFFER`] bytes, so a download holds at most that and the HTTP reader's
//! own chunk in memory, whatever the file's size. There is no total timeout: each read waits at
//! most the client's `timeout` for the next bytes (an idle timeout), so a large file on a slow
//! link completes as long as it keeps coming. The file is fsynced before the attempt reports it
//! written, and its BLAKE3 checksum is computed on the way.

use std::path::Path;

use tokio::io::AsyncWriteExt;

use super::call::check_status;
use super::{transport_error, Call, Endpoint, WecomClient, WecomError};

/// Bytes buffered between the network and the file.
pub const DOWNLOAD_BUFFER: usize = 64 * 1024;

/// What a download wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedFile {
    pub bytes: u64,
    /// BLAKE3 of the bytes, lowercase hex (`b3sum` prints the same).
    pub checksum: String,
}

impl WecomClient {
    /// One attempt of a download: the GET, then the body streamed into `path` (created or
    /// truncated) and synced.
    pub(super) async fn attempt_to_file(
        &self,
        call: &Call,
        path: &Path,
    ) -> Result<DownloadedFile, WecomError> {
        let endpoint = call.endpoint;
        let idle = self.inner.config.timeout;
        let timed_out = |what: &str| WecomError::Transport {
            endpoint: endpoint.path(),
            message: format!("timed out: no {what} for {} ms", idle.as_millis()),
            retryable: true,
        };
        let prepared = self.prepare(call, None, &self.inner.download_http).await?;
        let mut response = tokio::time::timeout(idle, prepared.request.send())
            .await
            .map_err(|_| timed_out("answer"))?
            .map_err(|e| transport_error(endpoint, e))?;
        check_status(endpoint, &response)?;
        let io = |e: std::io::Error| WecomError::Io {
            endpoint: endpoint.path(),
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let file = tokio::fs::File::create(path).await.map_err(io)?;
        let mut out = tokio::io::BufWriter::with_capacity(DOWNLOAD_BUFFER, file);
        let mut hasher = blake3::Hasher::new();
        let mut bytes = 0u64;
        loop {
            let chunk = tokio::time::timeout(idle, response.chunk())
                .await
                .map_err(|_| timed_out("bytes"))?
                .map_err(|e| transport_error(endpoint, e))?;
            let Some(chunk) = chunk else { break };
            hasher.update(&chunk);
            out.write_all(&chunk).await.map_err(io)?;
            bytes += chunk.len() as u64;
        }
        out.flush().await.map_err(io)?;
        out.into_inner().sync_all().await.map_err(io)?;
        tracing::trace!(
            endpoint = Endpoint::WedriveBytes.name(),
            bytes,
            "downloaded"
        );
        Ok(DownloadedFile {
            bytes,
            checksum: hasher.finalize().to_hex().to_string(),
        })
    }
}
