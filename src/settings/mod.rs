//! Site settings (setup token, site name, locale, admin email, the instance settings of
//! `/api/setting`) and `GET /api/session/properties`.
pub mod api;
pub mod instance;
pub mod service;
pub mod store;
