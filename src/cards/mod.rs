//! Cards: questions, models and metrics (content.md §2), with archiving (§4.2) and the
//! collection-permission checks of §5.
pub mod api;
pub mod input;
pub mod placement;
pub mod service;
pub mod store;
pub mod update;
pub mod view;
