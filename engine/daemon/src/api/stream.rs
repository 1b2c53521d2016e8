//! Streamed response bodies: blocking engine work (a backup) writes into a [`Writer`] on a
//! blocking thread, and the client reads the chunks as they come, through a channel of a few
//! chunks (so the body is never held whole in memory, and a slow client slows the writer
//! instead of filling memory). A client that accepts no chunk for the send timeout
//! (`http.send_timeout_secs`) fails the writer, as one that went away does: the work stops and
//! releases what it held (a backup's snapshot), instead of waiting for ever. An error before
//! the first byte is an ordinary error response; after it, the body is cut short (the client
//! sees an incomplete body). This module must not know what it streams.

use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::Frame;
use tokio::sync::mpsc::error::SendTimeoutError;
use tokio::sync::{mpsc, oneshot};

use super::super::error::DaemonError;
use super::error::ApiError;

/// Bytes gathered before a chunk is sent to the client.
const CHUNK: usize = 64 * 1024;

/// Chunks in flight between the writer and the client.
const IN_FLIGHT: usize = 4;

type Chunk = Result<Bytes, std::io::Error>;

/// The blocking side: what it writes goes to the client in chunks of [`CHUNK`] bytes.
pub struct Writer {
    chunks: mpsc::Sender<Chunk>,
    buf: Vec<u8>,
    /// Told `Ok` with the first byte written (the response starts), or the error that came
    /// first.
    started: Option<oneshot::Sender<Result<(), DaemonError>>>,
    /// How long one chunk may wait for the client to take it.
    timeout: Duration,
    /// The runtime the response is served on (the wait for the client is timed on it).
    runtime: tokio::runtime::Handle,
}

impl Writer {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        let sent = self
            .runtime
            .block_on(self.chunks.send_timeout(Ok(chunk), self.timeout));
        match sent {
            Ok(()) => Ok(()),
            Err(SendTimeoutError::Timeout(_)) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the client took no data for {} s (http.send_timeout_secs)",
                    self.timeout.as_secs()
                ),
            )),
            Err(SendTimeoutError::Closed(_)) => Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the client went away",
            )),
        }
    }

    fn start(&mut self) {
        if let Some(started) = self.started.take() {
            let _ = started.send(Ok(()));
        }
    }
}

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.start();
        self.buf.extend_from_slice(buf);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The client side: the chunks as they arrive.
struct Chunks(mpsc::Receiver<Chunk>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0.poll_recv(cx).map(|c| c.map(|c| c.map(Frame::data)))
    }
}

/// Runs `work` on a blocking thread, its output streamed as the response body. Answers once
/// `work` has written its first byte (or failed before it). A chunk the client does not take
/// within `timeout` fails `work`'s next write (its body is then cut short).
pub async fn streamed(
    timeout: Duration,
    work: impl FnOnce(&mut Writer) -> Result<(), DaemonError> + Send + 'static,
) -> Result<Body, ApiError> {
    let (chunks, rx) = mpsc::channel(IN_FLIGHT);
    let (started, start) = oneshot::channel();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut w = Writer {
            chunks,
            buf: Vec::with_capacity(CHUNK),
            started: Some(started),
            timeout,
            runtime,
        };
        let result = work(&mut w).and_then(|()| {
            w.start();
            w.flush()
                .map_err(|e| DaemonError::Io(format!("streaming the response: {e}")))
        });
        if let Err(e) = result {
            match w.started.take() {
                Some(started) => drop(started.send(Err(e))),
                None => {
                    tracing::warn!(error = %e, "a streamed response failed: its body is cut short");
                    // Never waits: a client that stopped reading has a full channel; the
                    // body then ends after the chunks already sent, without an end line.
                    drop(w.chunks.try_send(Err(std::io::Error::other(e.to_string()))));
                }
            }
        }
    });
    match start.await {
        Ok(Ok(())) => Ok(Body::new(Chunks(rx))),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(DaemonError::Io("the streaming worker died".into()).into()),
    }
}
