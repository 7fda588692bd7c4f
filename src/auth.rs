//! Who a caller is, independent of how the request arrived: the [`Principal`] the HTTP layer
//! resolves (http::auth) and the capabilities services demand. A leaf module, so services depend
//! on it rather than on the HTTP layer. Admin-only service functions take an [`AdminCap`], which
//! only a successful [`Principal::require_superuser`] produces.
pub mod restrictions;

use std::sync::Arc;

use crate::error::ApiError;
use restrictions::Restrictions;

/// The built-in group every user belongs to.
pub const ALL_USERS: i64 = 1;
/// The built-in group whose members are superusers.
pub const ADMINISTRATORS: i64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Session,
    ApiKey { key_id: i64 },
}

/// The authenticated caller: a person (session) or a key user (API key).
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub is_superuser: bool,
    /// Ascending group ids, All Users included.
    pub group_ids: Arc<[i64]>,
    pub via: Via,
    /// A key's restrictions when they restrict something (key-restrictions.md §2); `None` for
    /// sessions and unrestricted keys. Every permission decision consults them.
    pub restrictions: Option<Arc<Restrictions>>,
}

/// Proof that the caller is a superuser; only [`Principal::require_superuser`] makes one.
#[derive(Debug, Clone, Copy)]
pub struct AdminCap {
    pub actor_id: i64,
    _sealed: Sealed,
}

/// Private, so no other module can build an [`AdminCap`] (`#[non_exhaustive]` would still let
/// the rest of the crate do it).
#[derive(Debug, Clone, Copy)]
struct Sealed;

impl Principal {
    pub fn require_superuser(&self) -> Result<AdminCap, ApiError> {
        if self.is_superuser {
            Ok(AdminCap {
                actor_id: self.user_id,
                _sealed: Sealed,
            })
        } else {
            Err(ApiError::Forbidden)
        }
    }

    pub fn admin_cap(&self) -> Option<AdminCap> {
        self.require_superuser().ok()
    }

    /// Whether a read-only key made this request (key-restrictions.md §2.1).
    pub fn read_only(&self) -> bool {
        self.restrictions.as_ref().is_some_and(|r| r.read_only())
    }

    /// Whether the caller's restrictions let it reach a collection's content (§2.2):
    /// `collection_id` `None` is the root collection's own items; `ancestors` are the ids of
    /// the collection's location. Group permissions still decide; this only narrows them.
    pub fn allows_collection(&self, collection_id: Option<i64>, ancestors: &[i64]) -> bool {
        self.restrictions
            .as_ref()
            .is_none_or(|r| r.allows_collection(collection_id, ancestors))
    }

    /// Whether the caller's restrictions let it reach database `id` (§2.3).
    pub fn allows_database(&self, id: i64) -> bool {
        self.restrictions
            .as_ref()
            .is_none_or(|r| r.allows_database(id))
    }

    /// Whether the caller is restricted to some collections.
    pub fn collection_restricted(&self) -> bool {
        self.restrictions
            .as_ref()
            .is_some_and(|r| r.collections.is_some())
    }
}
