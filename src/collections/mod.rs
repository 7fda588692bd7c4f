//! Collections (content.md §1) and collection permissions (people-and-groups.md §8).
pub mod api;
pub mod archive;
pub mod graph;
pub mod input;
pub mod item_store;
pub mod item_view;
pub mod items;
pub mod perms;
pub mod service;
pub mod store;
pub mod tree;
pub mod view;
