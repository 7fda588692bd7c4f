//! The data model (data-model.md): the tables and fields sync discovers in each warehouse, their
//! types, fingerprints and inferred semantic types, display names and field orders.
pub mod fingerprint;
pub mod humanize;
pub mod infer;
pub mod order;
pub mod types;
