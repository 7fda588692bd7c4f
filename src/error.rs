//! The one domain error type. Services return it; they name *what kind* of refusal an error is
//! ([`Kind`]) and never an HTTP status: `src/http/error.rs` is the presenter that maps each kind
//! to its status and renders Metabase's exact shapes (spec README 4.6). This module is a leaf: it
//! imports no other module of the crate, so every layer may depend on it. Schema validation
//! errors ([`ValidationErrors`]) and the field validators live in [`validation`].
use serde_json::Value;

pub mod validation;
pub use validation::ValidationErrors;

/// What kind of refusal an error is; the HTTP presenter maps each to one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 400: the request is malformed or breaks a rule.
    BadRequest,
    /// 401.
    Unauthenticated,
    /// 402: a paid Metabase feature.
    PaymentRequired,
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 409: the state changed under the caller (stale revision, import running).
    Conflict,
    /// 413.
    TooLarge,
    /// 422: understood but not processable (an archive that cannot be imported).
    Unprocessable,
    /// 500.
    Internal,
    /// 502: a warehouse failed.
    BadGateway,
    /// 504: a warehouse did not answer in time.
    GatewayTimeout,
}

pub const NOT_FOUND: &str = "Not found.";
pub const UNAUTHENTICATED: &str = "Unauthenticated";
pub const FORBIDDEN: &str = "You don't have permissions to do that.";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not found")]
    NotFound,
    #[error("unauthenticated")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    /// Schema validation: `{"errors":…,"specific-errors":…}`.
    #[error("validation failed")]
    Validation(ValidationErrors),
    /// A business rule tied to a field: `{"errors":{field: message}}`.
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    /// Any JSON body with a status (e.g. login errors, `{"message":…}` bodies).
    #[error("{1}")]
    JsonBody(Kind, Value),
    /// A plain-text body with a status (business rules without a field, 402, 409, 413).
    #[error("{1}")]
    Text(Kind, String),
    #[error("rate limited")]
    RateLimited {
        retry_after: u64,
        message: &'static str,
    },
    /// The application database stayed busy for more than 5 s.
    #[error("database busy")]
    Busy,
    /// The application database cannot be reached (down, restarting, connection lost).
    #[error("database unavailable")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        ApiError::Field {
            field,
            message: message.into(),
        }
    }
    pub fn bad_request_text(message: impl Into<String>) -> Self {
        ApiError::Text(Kind::BadRequest, message.into())
    }
    /// A JSON body answered with `400` (so services need no HTTP types to build one).
    pub fn bad_request_json(body: Value) -> Self {
        ApiError::JsonBody(Kind::BadRequest, body)
    }
    /// A JSON body answered with `403`.
    pub fn forbidden_json(body: Value) -> Self {
        ApiError::JsonBody(Kind::Forbidden, body)
    }
    /// A JSON body answered with `404`.
    pub fn not_found_json(body: Value) -> Self {
        ApiError::JsonBody(Kind::NotFound, body)
    }
    /// A JSON body answered with `500`.
    pub fn internal_json(body: Value) -> Self {
        ApiError::JsonBody(Kind::Internal, body)
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }
}
