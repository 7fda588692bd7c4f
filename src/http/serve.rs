//! The HTTP/1.1 accept loop: hyper's connection builder with an explicit timer, so a connection
//! that does not send a complete request head in time — a fresh one, an idle keep-alive one, or
//! a client trickling its headers a byte at a time — is closed ([`Config::idle_timeout`]), which
//! `axum::serve` does not configure. Each connection is its own task: a slow or idle client
//! holds a socket and a little memory, never a worker. Shutdown stops accepting, lets requests
//! in flight finish, and closes idle connections.
//!
//! [`Config::idle_timeout`]: crate::config::Config::idle_timeout
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::{Service, ServiceExt};

/// Serves `service` on `listener` until `shutdown` is cancelled, then waits for the requests in
/// flight. Every request carries the peer's [`ConnectInfo<SocketAddr>`].
pub async fn serve<S>(
    listener: TcpListener,
    service: S,
    idle_timeout: Duration,
    shutdown: CancellationToken,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(idle_timeout);
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, keep serving the others.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        // Streamed bodies (query results) go out in several writes; without TCP_NODELAY,
        // Nagle's algorithm and the client's delayed ACK hold each later write back by 40 ms.
        let _ = stream.set_nodelay(true);
        let service = service
            .clone()
            .map_request(move |req: Request<Incoming>| with_peer(req, peer));
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// An incoming request as the router takes it, with the peer's address.
fn with_peer(req: Request<Incoming>, peer: SocketAddr) -> Request {
    let mut req = req.map(Body::new);
    req.extensions_mut().insert(ConnectInfo(peer));
    req
}
