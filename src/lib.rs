//! ferrobase: a Metabase-compatible analytics API server built around first-class API keys.
//!
//! Layers point one way: `api` (thin axum handlers) → `service` (rules and permissions) →
//! `store` (SQL, one portable statement per query for SQLite and PostgreSQL).
#![forbid(unsafe_code)]
pub mod api_keys;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cards;
pub mod clock;
pub mod collections;
pub mod config;
pub mod dashboards;
pub mod data_model;
pub mod databases;
pub mod entity_id;
pub mod error;
pub mod groups;
pub mod health;
pub mod http;
pub mod json_fields;
pub mod logging;
pub mod mbql;
pub mod passwords;
pub mod permissions;
pub mod queries;
pub mod search;
pub mod serialization;
pub mod sessions;
pub mod settings;
pub mod setup;
pub mod state;
pub mod store;
pub mod stubs;
#[cfg(test)]
pub(crate) mod test_support;
pub mod ui;
pub mod users;
pub mod warehouse;
