//! The `:id` path segment of `/api/card/:id`, `/api/dashboard/:id` and their sub-routes: an
//! integer id or a 21-character entity id (content.md §0.2). Anything else matches no route
//! (`404`); refusing `0` waits for [`RawRef::resolve`], which handlers call after authentication.
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::parse_path_id;
use crate::entity_id::{is_entity_id, ObjectRef};
use crate::error::{ApiError, ApiResult};

/// A validated path segment, not yet checked for a positive id.
pub enum RawRef {
    Digits(String),
    Entity(String),
}

impl RawRef {
    /// The reference as the feature's own type (`CardRef`, `DashRef`, …); `400` for `0`.
    pub fn resolve<T: From<ObjectRef>>(self) -> ApiResult<T> {
        Ok(T::from(match self {
            RawRef::Digits(d) => ObjectRef::Id(parse_path_id("id", &d)?),
            RawRef::Entity(e) => ObjectRef::EntityId(e),
        }))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RawRef {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
            if raw.parse::<i64>().is_err() {
                return Err(ApiError::NotFound);
            }
            Ok(RawRef::Digits(raw))
        } else if is_entity_id(&raw) {
            Ok(RawRef::Entity(raw))
        } else {
            Err(ApiError::NotFound)
        }
    }
}
