//! Dashboards (content.md §3): tabs and dashcards, archiving with their dashboard questions
//! (§4.2), hard deletion (§4.6) and the collection-permission checks of §5.
pub mod api;
pub mod input;
pub mod layout;
pub mod layout_store;
pub mod service;
pub mod store;
pub mod update;
pub mod view;
