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
mod dashboards;
mod dashboards_archive;
mod dashboards_layout;
mod groups;
mod search_and_stubs;
mod serialization;
mod serialization_cli;
mod serialization_import;
mod serialization_rules;
mod setup_and_sessions;
mod store_contract;
mod users;
