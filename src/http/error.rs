//! The API presenter of [`ApiError`]: maps each kind of refusal to its HTTP status and renders
//! Metabase's exact shapes (spec README 4.6). 5xx bodies carry no internals; the cause is logged
//! once.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::error::{ApiError, Kind, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED};

/// The status a kind of refusal is answered with.
pub fn status(kind: Kind) -> StatusCode {
    match kind {
        Kind::BadRequest => StatusCode::BAD_REQUEST,
        Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
        Kind::PaymentRequired => StatusCode::PAYMENT_REQUIRED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Kind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        Kind::BadGateway => StatusCode::BAD_GATEWAY,
        Kind::GatewayTimeout => StatusCode::GATEWAY_TIMEOUT,
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
                super::json_response(StatusCode::BAD_REQUEST, &v.into_json())
            }
            ApiError::Field { field, message } => {
                let mut errors = Map::new();
                errors.insert(field.to_string(), Value::String(message));
                super::json_response(StatusCode::BAD_REQUEST, &json!({ "errors": errors }))
            }
            ApiError::JsonBody(kind, body) => super::json_response(status(kind), &body),
            ApiError::Text(kind, msg) => text_response(status(kind), msg),
            ApiError::RateLimited {
                retry_after,
                message,
            } => {
                let mut r = text_response(StatusCode::TOO_MANY_REQUESTS, message);
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
                r
            }
            ApiError::Busy => retry_soon("Server busy, please retry."),
            ApiError::Unavailable => {
                retry_soon("The application database is unavailable, please retry.")
            }
            ApiError::Internal(cause) => {
                // The cause may mention SQL; it goes to the log (with the request id of the
                // enclosing span), never to the client.
                tracing::error!(%cause, "internal error");
                super::json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({"message": "An internal error occurred."}),
                )
            }
        }
    }
}

/// `503` with a plain-text `message` and `Retry-After: 1`.
fn retry_soon(message: &'static str) -> Response {
    let mut r = text_response(StatusCode::SERVICE_UNAVAILABLE, message);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}
