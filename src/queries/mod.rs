//! Running native SQL (queries.md §3–§6): request parsing, the permission checks, streamed
//! results and exports. Template tags and the native part of a query object live with cards
//! (`crate::cards::{native, template}`), which need them to describe a card; the drivers that
//! run a statement live in `crate::warehouse`.
pub mod api;
pub mod compile;
pub mod format;
pub mod input;
pub mod mbql;
mod mbql_load;
pub mod request;
pub mod service;
pub mod stream;
