//! Permission groups and memberships: `/api/permissions/group` and
//! `/api/permissions/membership`, and the Administrators ⇄ `is_superuser` rule.
pub mod api;
pub mod input;
pub mod service;
pub mod store;
pub mod view;
