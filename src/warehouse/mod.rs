//! The warehouse drivers (queries.md §1.1, §4): connecting to a registered database (SQLite
//! through its C API inside the sandbox of `sqlite_guard`, PostgreSQL through sqlx with a
//! read-only role), a connection pool per database, running one bound statement with streamed
//! rows, result limits and admission, values as [`cell::Cell`]s, and query failures. Query
//! languages (native SQL in `queries`, and later MBQL) and sync sit above it; it knows nothing of
//! cards, permissions or HTTP.
pub mod bound;
pub mod cell;
pub mod engine;
pub mod error;
pub mod limits;
mod pg_run;
pub mod pgdecode;
pub mod pool;
pub mod postgres;
pub mod sqlite;
pub mod sqlite_guard;
pub mod sqltext;
pub mod tz;
