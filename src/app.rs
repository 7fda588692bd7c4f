//! The application: the router, and `serve` with graceful shutdown. Tests start
//! the real app on port 0 through [`start`].
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::clock::SystemClock;
use crate::config::Config;
use crate::error::NOT_FOUND;
use crate::http::error::text_response;
use crate::state::{App, AppState};
use crate::store::KeyEvent;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The API router (paths without trailing slashes; [`service`] strips them first).
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(crate::health::routes())
        .merge(crate::settings::api::routes())
        .merge(crate::setup::api::routes())
        .merge(crate::sessions::api::routes())
        .merge(crate::users::api::routes())
        .merge(crate::groups::api::routes())
        .merge(crate::api_keys::api::routes())
        .merge(crate::audit::api::routes())
        .merge(crate::collections::api::routes())
        .merge(crate::databases::api::routes())
        // Data model: tables, fields, metadata (data-model.md §5).
        .merge(crate::data_model::api::routes())
        .merge(crate::cards::api::routes())
        .merge(crate::stubs::routes())
        .merge(crate::search::api::routes())
        // Dashboards (content.md §3).
        .merge(crate::dashboards::api::routes())
        // Queries, data permissions (queries.md, people-and-groups.md §9).
        .merge(crate::queries::api::routes())
        .merge(crate::permissions::api::routes())
        // End of queries.
        // Serialization (serialization.md).
        .merge(crate::serialization::api::routes())
        .merge(crate::ui::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(not_found);
    api.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        crate::http::auth::resolve_caller,
    ))
    .layer(axum::middleware::from_fn(crate::ui::csrf::guard_api))
    .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
        // Low-cardinality span names: the matched route, never the raw path or headers.
        let route = req
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_else(|| "unmatched".into());
        let id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        tracing::info_span!("request", method = %req.method(), route, request_id = id)
    }))
    .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
    .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
    // Outermost: an answer given before the body was read must not break a keep-alive connection.
    .layer(axum::middleware::from_fn(
        crate::http::drain::keep_connection_usable,
    ))
    .with_state(state)
}

async fn not_found() -> impl IntoResponse {
    text_response(StatusCode::NOT_FOUND, NOT_FOUND)
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub app: AppState,
    pub handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Binds, starts background tasks and serves until `app.shutdown` is cancelled.
pub async fn start(app: AppState) -> anyhow::Result<Running> {
    crate::databases::startup(&app).await?;
    crate::data_model::sync::schedule::startup(&app).await?;
    let listener = TcpListener::bind(app.config.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", app.config.bind))?;
    let addr = listener.local_addr()?;
    spawn_background(&app);
    let service = NormalizePathLayer::trim_trailing_slash().layer(router(app.clone()));
    let token = app.shutdown.clone();
    let state = app.clone();
    let idle_timeout = app.config.idle_timeout;
    let handle = tokio::spawn(async move {
        crate::http::serve::serve(listener, service, idle_timeout, token).await;
        crate::api_keys::service::flush_last_used(&state, true).await;
        Ok(())
    });
    Ok(Running { addr, app, handle })
}

fn spawn_background(app: &AppState) {
    // Cache invalidation for writes by other instances (PostgreSQL) or processes (SQLite).
    let mut rx = app.key_events.subscribe();
    let state = app.clone();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(KeyEvent::Evict(id)) => state.api_keys.evict_key(id),
                Ok(KeyEvent::EvictAll) => state.api_keys.clear(),
                Ok(KeyEvent::Listening(on)) => state.api_keys.set_trusted(on),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    // Missed notifications: start from an empty cache, without trusting a
                    // cache whose listener may be down.
                    state.api_keys.clear();
                }
                Err(_) => return,
            }
        }
    });
    let state = app.clone();
    tokio::spawn(async move {
        let _ = state
            .store
            .listen_key_events(state.key_events.clone(), state.shutdown.clone())
            .await;
    });
    // last_used_at flush every 10 s; expired sessions swept hourly.
    let state = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        let mut n: u64 = 0;
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            crate::api_keys::service::flush_last_used(&state, false).await;
            if n % 360 == 0 {
                state.sessions.sweep_expired(&state).await;
            }
            n += 1;
        }
    });
}

/// Waits for SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// `ferrobase serve`: open the store, serve until a signal, flush, exit.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let tmp = config.data_dir.join("tmp");
    std::fs::create_dir_all(&tmp)
        .map_err(|e| anyhow::anyhow!("cannot create the data directory {}: {e}", tmp.display()))?;
    let swept = crate::serialization::import_api::sweep_stale_work_dirs(
        &config.data_dir,
        Duration::from_secs(24 * 3600),
    );
    if swept > 0 {
        tracing::info!(
            swept,
            "removed upload directories left by an interrupted import"
        );
    }
    let store = crate::store::open(&config.database).await?;
    // Tells `ferrobase import` that a server holds this SQLite file (serialization.md §6).
    let _mark = crate::serialization::server_mark::ServerMark::create(&config.database);
    let app = App::new(store, config, Arc::new(SystemClock));
    let running = start(app.clone()).await?;
    tracing::info!(addr = %running.addr, "ferrobase listening");
    shutdown_signal().await;
    tracing::info!("shutting down");
    app.shutdown.cancel();
    match tokio::time::timeout(Duration::from_secs(30), running.handle).await {
        Ok(Ok(r)) => r?,
        Ok(Err(e)) => return Err(e.into()),
        Err(_) => tracing::warn!("requests still in flight after 30 s; exiting"),
    }
    app.store.close().await;
    Ok(())
}
