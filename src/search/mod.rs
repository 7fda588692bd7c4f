//! Minimal search (content.md §6.1): `GET /api/search` over the names of the cards, dashboards
//! and collections the caller can read, in Metabase's envelope, compared after Unicode
//! lowercasing so both backends answer identically.
pub mod api;
pub mod input;
pub mod service;
pub mod view;
