//! HTTP plumbing shared by every feature: body and path extractors that fail in Metabase's
//! shapes, the error presenter (`error.rs`), JSON responses with an explicit charset, query-parameter parsing and the client IP.
pub mod auth;
pub mod drain;
pub mod error;
pub mod path_ref;
pub mod query;
pub mod serve;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::validation::{ValidationErrors, POSITIVE_INT};
use crate::error::ApiError;

/// Largest accepted JSON body (spec README 4.2).
pub const MAX_JSON_BODY: usize = 1024 * 1024;

pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// A 200 JSON response.
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        json_response(StatusCode::OK, &self.0)
    }
}

/// 204 with an empty body.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A JSON object body. A missing or non-JSON `Content-Type` other than absent gives an empty
/// object; an empty body is an empty object; malformed JSON and non-objects are 400s in
/// Metabase's shapes; bodies over 1 MiB are 413.
pub struct JsonBody(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = match req.headers().get(header::CONTENT_TYPE) {
            None => true,
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|s| s.split(';').next())
                .map(|m| m.trim().eq_ignore_ascii_case("application/json"))
                .unwrap_or(false),
        };
        let _ = state;
        let body = read_body(req).await?;
        if !is_json {
            return Ok(JsonBody(Map::new()));
        }
        parse_json_object(&body).map(JsonBody)
    }
}

/// A JSON body of any shape (`PUT /api/table/:id/fields/order` takes an array); read with the
/// limits of [`JsonBody`]. An empty body is `null`.
pub struct JsonAny(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonAny {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let body = read_body(req).await?;
        if body.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(JsonAny(Value::Null));
        }
        serde_json::from_slice(&body)
            .map(JsonAny)
            .map_err(|_| ApiError::bad_request_text("Malformed JSON in request body."))
    }
}

/// Bodies up to this size are read to the end even when they are too large, so a client that is
/// still sending reliably receives the 413 rather than a reset connection. Larger declared
/// bodies are refused without reading them.
const DRAIN_LIMIT: usize = 4 * MAX_JSON_BODY;

/// The body of a request, refused at once when it declares more than [`DRAIN_LIMIT`] bytes.
async fn read_body(req: Request) -> Result<Bytes, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return Err(too_large_error());
    }
    read_limited(req.into_body()).await
}

/// Reads at most [`MAX_JSON_BODY`] bytes, discarding (and counting) the rest up to
/// [`DRAIN_LIMIT`].
async fn read_limited(body: axum::body::Body) -> Result<Bytes, ApiError> {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| too_large_error())?;
        seen = seen.saturating_add(chunk.len());
        if seen > DRAIN_LIMIT {
            return Err(too_large_error());
        }
        if seen <= MAX_JSON_BODY {
            buf.extend_from_slice(&chunk);
        }
    }
    if seen > MAX_JSON_BODY {
        return Err(too_large_error());
    }
    Ok(Bytes::from(buf))
}

fn too_large_error() -> ApiError {
    ApiError::Text(
        crate::error::Kind::TooLarge,
        "Request body too large.".into(),
    )
}

pub fn parse_json_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => {
            let mut e = ValidationErrors::new();
            e.add(
                &["body"],
                "Value must be a map.",
                vec!["Value must be a map.".into()],
            );
            Err(ApiError::Validation(e))
        }
        Err(_) => Err(ApiError::bad_request_text(
            "Malformed JSON in request body.",
        )),
    }
}

/// Parses a numeric path segment per spec README 4.1: non-digits and overflow → 404,
/// `0` → 400 keyed by the parameter name.
pub fn parse_path_id(name: &'static str, raw: &str) -> Result<i64, ApiError> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::NotFound);
    }
    match raw.parse::<i64>() {
        Ok(0) => {
            let mut e = ValidationErrors::new();
            e.add_received(&[name], POSITIVE_INT, Some(&Value::from(0)));
            Err(ApiError::Validation(e))
        }
        Ok(n) => Ok(n),
        Err(_) => Err(ApiError::NotFound),
    }
}

/// Is `name` a numeric path parameter (`id`, `group-id`, `db_id`, …)?
fn is_numeric_param(name: &str) -> bool {
    name == "id" || name.ends_with("-id") || name.ends_with("_id")
}

/// Route layer for routes with numeric path parameters (README 4.1): a value that is not a
/// string of decimal digits, or that does not fit in a signed 64-bit integer, matches no route,
/// so it is a 404 whether or not the request is authenticated. `0` passes; [`Id`] refuses it
/// after authentication, as a validation error.
pub async fn numeric_path_params(
    params: Result<RawPathParams, axum::extract::rejection::RawPathParamsRejection>,
    req: Request,
    next: Next,
) -> Response {
    use axum::extract::rejection::RawPathParamsRejection as R;
    let params = match params {
        Ok(p) => p,
        Err(R::MissingPathParams(_)) => return next.run(req).await,
        // A parameter that is not valid UTF-8 cannot be a number.
        Err(_) => return ApiError::NotFound.into_response(),
    };
    let no_route = params.iter().any(|(name, value)| {
        is_numeric_param(name)
            && (value.is_empty()
                || !value.bytes().all(|b| b.is_ascii_digit())
                || value.parse::<i64>().is_err())
    });
    if no_route {
        return ApiError::NotFound.into_response();
    }
    next.run(req).await
}

/// The `{id}` path parameter.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        parse_path_id("id", &raw).map(Id)
    }
}
