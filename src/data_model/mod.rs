//! The data model (data-model.md): the tables and fields sync discovers in each warehouse, their
//! types, fingerprints and inferred semantic types, display names and field orders.
pub mod edits;
pub mod fingerprint;
pub mod humanize;
pub mod infer;
pub mod order;
pub mod store;
pub mod sync;
pub mod types;
