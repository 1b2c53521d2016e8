//! The HTTP server under the API: accepts connections, at most `http.max_connections` at
//! once (further ones wait in the kernel's listen queue), and serves each with hyper's
//! HTTP/1.1 and two deadlines: a request's line and headers must arrive within
//! `http.header_timeout_secs` (also the idle time allowed between kept-alive requests; then the
//! connection is closed without an answer), and its body within `http.body_timeout_secs` from
//! the end of its headers (then 408 and the connection is closed). A client that sends slowly
//! therefore holds one connection for a bounded time and never blocks another client.
//!
//! This module owns connections and their limits; it must not know the routes (it serves any
//! [`Router`]). Tested by `tests/it/security.rs`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::api::error::ApiError;
use super::api::models::ErrorCode;
use super::config::Http;

/// Serves `app` on `listener` within `limits` until `shutdown` completes; then stops
/// accepting, lets every open connection finish the request it is serving, and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Http,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let header_timeout = limits.header_timeout();
    let body_timeout = limits.body_timeout();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => (stream, peer),
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = stream;
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            answer(app.clone(), body_timeout, peer, req)
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // The connection (and its socket) is dropped before its slot is given back.
            let closed = conn.await;
            drop(slot);
            if let Err(e) = closed {
                tracing::debug!(error = %e, "connection closed");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// One request: its body under the deadline, then the router; a body that missed its
/// deadline is answered 408 whatever the handler made of the cut body.
async fn answer(
    app: Router,
    body_timeout: Duration,
    peer: std::net::SocketAddr,
    mut req: Request<Incoming>,
) -> Result<Response, Infallible> {
    let expired = Arc::new(AtomicBool::new(false));
    // The client's address, for the extractors that want it (the console's sign-in limiter).
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    let req = req.map(|inner| {
        Body::new(Deadline {
            inner,
            sleep: Box::pin(tokio::time::sleep(body_timeout)),
            expired: expired.clone(),
        })
    });
    let resp = match app.oneshot(req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    };
    if expired.load(Ordering::Relaxed) {
        let mut resp = ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::Timeout,
            format!(
                "the request body did not arrive within {} s",
                body_timeout.as_secs()
            ),
            None,
        )
        .into_response();
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return Ok(resp);
    }
    Ok(resp)
}

/// The body did not arrive in time.
#[derive(Debug)]
struct BodyTimeout;

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request body timeout")
    }
}

impl std::error::Error for BodyTimeout {}

/// A request body that fails once its deadline passes (and says so in `expired`).
struct Deadline {
    inner: Incoming,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                if this.sleep.as_mut().poll(cx).is_ready() {
                    this.expired.store(true, Ordering::Relaxed);
                    Poll::Ready(Some(Err(BodyTimeout.into())))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
