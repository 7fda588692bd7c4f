//! Keep-alive connections survive early answers (issue #16): a request answered before its body
//! was read (a 401, 403, 404, 413, 429 or 400 that needed only the head) leaves unread bytes on
//! the connection. HTTP/1.1 can only reuse the connection once those bytes are gone, so hyper
//! closes it — without telling the client, whose next pooled request then fails with "remote end
//! closed connection without response".
//!
//! [`keep_connection_usable`], the outermost middleware, tracks whether the body was read to its
//! end. When it was not, it drains the rest, up to [`DRAIN_BYTES`] within [`DRAIN_TIME`], before
//! the answer goes out; a body it cannot drain within those bounds gets `Connection: close` on
//! the answer, so the client knows not to reuse the connection.
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as HttpBody, Frame, SizeHint};
use parking_lot::Mutex;

/// At most this much of an unread body is read and discarded to keep the connection.
pub const DRAIN_BYTES: usize = 256 * 1024;
/// And for at most this long: a client trickling its body gets `Connection: close` instead.
pub const DRAIN_TIME: Duration = Duration::from_secs(1);

/// What the handler left of the request body.
#[derive(Default)]
struct Leftover {
    /// The body was read to its end (or had none).
    finished: AtomicBool,
    /// The unread rest, handed back when the handler dropped the body early.
    rest: Mutex<Option<Body>>,
}

/// The request body as the handler sees it: the same frames, size hint and end; dropped before
/// its end, it hands the rest to [`Leftover`].
struct Tracked {
    inner: Option<Body>,
    leftover: Arc<Leftover>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.leftover.finished.store(true, Ordering::SeqCst);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map(HttpBody::size_hint)
            .unwrap_or_else(|| SizeHint::with_exact(0))
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else {
            return;
        };
        if body.is_end_stream() {
            self.leftover.finished.store(true, Ordering::SeqCst);
        } else if !self.leftover.finished.load(Ordering::SeqCst) {
            *self.leftover.rest.lock() = Some(body);
        }
    }
}

/// The middleware (outermost, so every early answer passes through it).
pub async fn keep_connection_usable(req: Request, next: Next) -> Response {
    // `Expect: 100-continue`: the client sends the body only once the server reads it; an
    // unread one was never sent, and reading it now would ask for it.
    let expects_continue = req
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let leftover = Arc::new(Leftover::default());
    let (parts, body) = req.into_parts();
    let body = Body::new(Tracked {
        inner: Some(body),
        leftover: leftover.clone(),
    });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if leftover.finished.load(Ordering::SeqCst) {
        return response;
    }
    let rest = leftover.rest.lock().take();
    let drained = match rest {
        Some(rest) if !expects_continue => drain(rest).await,
        _ => false,
    };
    if !drained {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Reads `body` to its end within the bounds; whether it got there.
async fn drain(body: Body) -> bool {
    let read = async {
        let mut body = body;
        let mut seen = 0usize;
        while let Some(frame) = http_body_util::BodyExt::frame(&mut body).await {
            let Ok(frame) = frame else { return false };
            if let Some(data) = frame.data_ref() {
                seen = seen.saturating_add(data.len());
                if seen > DRAIN_BYTES {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIME, read)
        .await
        .unwrap_or(false)
}
