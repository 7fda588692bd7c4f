//! The data model (data-model.md): the tables and fields sync discovers in each warehouse, their
//! types, fingerprints and inferred semantic types, display names and field orders.
pub mod actions;
pub mod api;
pub mod db_read;
pub mod edit;
pub mod edits;
pub mod field_values;
pub mod fingerprint;
pub mod humanize;
pub mod infer;
pub mod input;
pub mod order;
pub mod perms;
pub mod read;
pub mod rehumanize;
pub mod store;
pub mod sync;
pub mod types;
pub mod view;
pub mod virtual_table;
