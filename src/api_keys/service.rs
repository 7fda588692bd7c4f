//! API-key rules (api-keys.md 5). Placeholder while the endpoints are written.
use crate::app::App;

/// Writes due `last_used_at` values (all of them when `force`, at shutdown).
pub async fn flush_last_used(app: &App, force: bool) {
    let now = app.clock.now().micros();
    let due = app.api_keys.last_used.take_due(now, force);
    if due.is_empty() {
        return;
    }
    if let Err(e) = app.store.api_key_touch(&due).await {
        tracing::warn!(error = %e, "writing last_used_at failed; will retry");
        app.api_keys.last_used.restore(&due);
    }
}
