//! API keys: format, verification and caching, the failed-key rate limit, `last_used_at`
//! tracking, and the `/api/api-key` endpoints.
pub mod api;
pub mod auth;
pub mod format;
pub mod input;
pub mod key_limits;
pub mod last_used;
pub mod list;
pub mod list_store;
pub mod ratelimit;
pub mod service;
pub mod store;
pub mod view;

#[cfg(test)]
pub(crate) mod test_support;
