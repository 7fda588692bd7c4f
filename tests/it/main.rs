//! The one integration-test binary: HTTP-level tests of every spec scenario, on SQLite and on
//! PostgreSQL (each test gets its own database).
mod support;

mod api_keys;
mod api_keys_audit;
mod api_keys_create;
mod api_keys_key_users;
mod api_keys_limits;
mod api_keys_process;
mod api_keys_regenerate;
mod api_keys_secrets;
mod api_keys_update;
mod audit;
mod cards;
mod cards_archive;
mod cli;
mod collections;
mod collections_graph;
mod conventions;
mod groups;
mod queries_cancel;
mod queries_cards;
mod queries_databases;
mod queries_exports;
mod queries_perms;
mod queries_pg;
mod queries_run;
mod setup_and_sessions;
mod store_contract;
mod users;
