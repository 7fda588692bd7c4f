//! First-time setup: `POST /api/setup` creates the first admin (people-and-groups.md 1.2).
pub mod api;
pub mod input;
pub mod service;
