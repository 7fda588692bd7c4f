//! Running native SQL (queries.md §3–§6): request parsing, template tags, the permission checks,
//! streamed results and exports. The drivers that run a statement live in `crate::warehouse`.
pub mod api;
pub mod metadata;
pub mod request;
pub mod respond;
pub mod service;
pub mod template;
