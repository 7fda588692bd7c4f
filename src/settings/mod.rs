//! Site settings (setup token, site name, locale, admin email) and `GET /api/session/properties`.
pub mod api;
pub mod instance;
pub mod store;
