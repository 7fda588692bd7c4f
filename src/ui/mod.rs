//! The admin web UI, served by the same binary as the API (spec README 3.4, api-keys.md §9).
//!
//! - Pages are rendered on the server with askama (`templates/`), which escapes every value.
//! - Each page's tables and `<dialog>`s are driven by a small hand-written ES module
//!   (`static/js/`) that calls the same JSON API scripts use, with the session cookie: the UI
//!   is a client of the API, so the two cannot drift apart. There is no front-end build step.
//! - Static files are compiled in ([`assets`]) and served with long cache lifetimes.
//! - Every UI response carries a strict Content-Security-Policy (no inline scripts, no
//!   framing) and the other security headers ([`page::security_headers`]); the API is guarded
//!   against cross-site request forgery by [`csrf::guard_api`].
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

pub mod assets;
pub mod csrf;
pub mod page;
pub mod pages;
#[cfg(test)]
mod tests;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::root))
        .route("/setup", get(pages::setup))
        .route("/auth/login", get(pages::login))
        .route("/admin", get(pages::admin_home))
        .route("/admin/settings", get(pages::admin_home))
        .route("/admin/settings/general", get(pages::settings_general))
        .route(
            "/admin/settings/authentication",
            get(pages::settings_authentication),
        )
        .route(
            "/admin/settings/authentication/api-keys",
            get(pages::api_keys),
        )
        .route("/admin/people", get(pages::people))
        .route("/admin/people/groups", get(pages::groups))
        .route("/admin/people/groups/{id}", get(pages::group))
        .route("/admin/audit", get(pages::audit))
        .route("/static/{ver}/{*file}", get(assets::serve))
        .route("/{*rest}", get(pages::not_found))
        .layer(axum::middleware::from_fn(page::security_headers))
}
