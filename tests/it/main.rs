//! The one integration-test binary: HTTP-level tests of every spec scenario, on SQLite and on
//! PostgreSQL (each test gets its own database).
mod support;

mod setup_and_sessions;
mod users;
mod groups;
mod api_keys;
mod cli;
