//! The one domain error type and its API presenter, which renders Metabase's exact shapes
//! (spec README 4.6). 5xx bodies carry no internals; the cause is logged once.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::http::validate::ValidationErrors;

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
    #[error("{0}")]
    JsonBody(StatusCode, Value),
    /// A plain-text body with a status (business rules without a field, 402, 409, 413).
    #[error("{1}")]
    Text(StatusCode, String),
    #[error("rate limited")]
    RateLimited {
        retry_after: u64,
        message: &'static str,
    },
    /// The application database stayed busy for more than 5 s.
    #[error("database busy")]
    Busy,
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
        ApiError::Text(StatusCode::BAD_REQUEST, message.into())
    }
    /// A JSON body answered with `400` (so services need no HTTP types to build one).
    pub fn bad_request_json(body: Value) -> Self {
        ApiError::JsonBody(StatusCode::BAD_REQUEST, body)
    }
    /// A JSON body answered with `403`.
    pub fn forbidden_json(body: Value) -> Self {
        ApiError::JsonBody(StatusCode::FORBIDDEN, body)
    }
    /// A JSON body answered with `404`.
    pub fn not_found_json(body: Value) -> Self {
        ApiError::JsonBody(StatusCode::NOT_FOUND, body)
    }
    /// A JSON body answered with `500`.
    pub fn internal_json(body: Value) -> Self {
        ApiError::JsonBody(StatusCode::INTERNAL_SERVER_ERROR, body)
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }
}

pub fn text_response(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body.into(),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::NotFound => text_response(StatusCode::NOT_FOUND, NOT_FOUND),
            ApiError::Unauthenticated => text_response(StatusCode::UNAUTHORIZED, UNAUTHENTICATED),
            ApiError::Forbidden => text_response(StatusCode::FORBIDDEN, FORBIDDEN),
            ApiError::Validation(v) => {
                crate::http::json_response(StatusCode::BAD_REQUEST, &v.into_json())
            }
            ApiError::Field { field, message } => {
                let mut errors = Map::new();
                errors.insert(field.to_string(), Value::String(message));
                crate::http::json_response(StatusCode::BAD_REQUEST, &json!({ "errors": errors }))
            }
            ApiError::JsonBody(status, body) => crate::http::json_response(status, &body),
            ApiError::Text(status, msg) => text_response(status, msg),
            ApiError::RateLimited {
                retry_after,
                message,
            } => {
                let mut r = text_response(StatusCode::TOO_MANY_REQUESTS, message);
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
                r
            }
            ApiError::Busy => {
                let mut r = text_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Server busy, please retry.",
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
            ApiError::Internal(cause) => {
                // The cause may mention SQL; it goes to the log (with the request id of the
                // enclosing span), never to the client.
                tracing::error!(%cause, "internal error");
                crate::http::json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({"message": "An internal error occurred."}),
                )
            }
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::Busy => ApiError::Busy,
            StoreError::Conflict(what) => {
                ApiError::Internal(format!("unexpected conflict: {what}"))
            }
            StoreError::Other(e) => ApiError::Internal(e),
        }
    }
}
