//! Running native SQL (queries.md §3–§6): request parsing, template tags, the warehouse engines
//! (SQLite through its C API, Postgres through sqlx), streamed results and exports.
pub mod api;
pub mod cell;
pub mod engine;
pub mod error;
pub mod limits;
pub mod metadata;
pub mod pgdecode;
pub mod pool;
pub mod postgres;
pub mod request;
pub mod respond;
pub mod service;
pub mod sqlite;
pub mod sqlite_guard;
pub mod sqltext;
pub mod template;
pub mod tz;
