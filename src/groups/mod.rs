//! Permission groups and memberships: `/api/permissions/group` and
//! `/api/permissions/membership`, and the Administrators ⇄ `is_superuser` rule.
pub mod api;
pub mod membership;
pub mod service;
pub mod store;

pub const ALL_USERS: i64 = 1;
pub const ADMINISTRATORS: i64 = 2;
