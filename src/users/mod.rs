//! People and key users: the `/api/user` endpoints, their rules, and their JSON views.
pub mod api;
pub mod current_cache;
pub mod input;
pub mod membership;
pub mod service;
pub mod store;
#[cfg(test)]
pub(crate) mod test_support;
pub mod view;
