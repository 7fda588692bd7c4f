//! Query routes: `POST /api/dataset`, `POST /api/card/:id/query` and the exports
//! `/api/dataset/:format`, `/api/card/:id/query/:format` (queries.md §3, §5, §6).
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Map, Value};

use super::request;
use super::respond::{self, ExportFormat, ExportOptions};
use super::service::{self, Mode};
use crate::auth::Principal;
use crate::cards::api::RawRef;
use crate::error::validation::{ValidationErrors, BOOLEAN};
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Caller;
use crate::http::query::bool_string;
use crate::http::{JsonBody, MAX_JSON_BODY};
use crate::state::{App, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/dataset", post(dataset))
        .route("/api/dataset/native", post(dataset_native))
        .route("/api/dataset/pivot", post(dataset_pivot))
        .route("/api/card/pivot/{id}/query", post(card_pivot))
        .route("/api/dataset/{export-format}", post(dataset_export))
        .route("/api/card/{id}/query", post(card_query))
        .route("/api/card/{id}/query/{export-format}", post(card_export))
}

/// Parses an ad-hoc query object and plans it.
async fn plan_adhoc(
    app: &App,
    c: &Principal,
    body: &Map<String, Value>,
    download: bool,
) -> ApiResult<service::Plan> {
    let q = request::parse(body).map_err(ApiError::Validation)?;
    service::plan_adhoc(app, c, q, Value::Object(body.clone()), download).await
}

async fn dataset(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(body): JsonBody,
) -> Response {
    match plan_adhoc(&app, &c, &body, false).await {
        Ok(plan) => respond::result(&app, plan).await,
        Err(e) => e.into_response(),
    }
}

/// `POST /api/dataset/native` (mbql.md §4.7).
async fn dataset_native(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<axum::Json<Value>> {
    let q = request::parse(&body).map_err(ApiError::Validation)?;
    let mut errs = ValidationErrors::new();
    let pretty = match body.get("pretty") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        other => {
            errs.add_received(&["pretty"], BOOLEAN, other);
            true
        }
    };
    errs.into_result()?;
    let mut echo = body.clone();
    echo.remove("pretty");
    let text = service::compile_text(&app, &c, q, Value::Object(echo), pretty).await?;
    Ok(axum::Json(text))
}

/// `POST /api/dataset/pivot` (mbql.md §7.4): validated like a run, then refused.
async fn dataset_pivot(
    State(app): State<AppState>,
    Caller(_): Caller,
    JsonBody(body): JsonBody,
) -> Response {
    if let Err(e) = request::parse(&body) {
        return ApiError::Validation(e).into_response();
    }
    service::refuse_pivot(&app, Value::Object(body)).into_response()
}

/// `POST /api/card/pivot/:id/query` (mbql.md §7.4).
async fn card_pivot(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(raw): Path<String>,
) -> Response {
    let run = async {
        let r = card_ref(&raw)?;
        service::refuse_pivot_card(&app, &c, &r).await
    };
    match run.await {
        Ok(()) => ApiError::NotFound.into_response(),
        Err(e) => e.into_response(),
    }
}

/// A card path segment: an integer id or an entity id (content.md §0.2).
fn card_ref(raw: &str) -> ApiResult<crate::cards::service::CardRef> {
    let r = if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        if raw.parse::<i64>().is_err() {
            return Err(ApiError::NotFound);
        }
        RawRef::Digits(raw.to_string())
    } else if crate::entity_id::is_entity_id(raw) {
        RawRef::Entity(raw.to_string())
    } else {
        return Err(ApiError::NotFound);
    };
    r.resolve()
}

fn parameters_array(v: Option<&Value>, errs: &mut ValidationErrors) -> Vec<Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) if s.trim().is_empty() || s.trim() == "null" => Vec::new(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(a)) => a,
            Ok(Value::Null) => Vec::new(),
            _ => {
                errs.add_received(&["parameters"], "value must be an array.", v);
                Vec::new()
            }
        },
        Some(other) => {
            errs.add_received(&["parameters"], "value must be an array.", Some(other));
            Vec::new()
        }
    }
}

async fn card_query(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> Response {
    let run = async {
        let r = card_ref(&raw)?;
        let mut errs = ValidationErrors::new();
        let params = parameters_array(body.get("parameters"), &mut errs);
        errs.into_result()?;
        service::plan_card(&app, &c, &r, params, Mode::Interactive(Default::default())).await
    };
    match run.await {
        Ok(plan) => respond::result(&app, plan).await,
        Err(e) => e.into_response(),
    }
}

/// A body that is form-encoded or JSON (§6.1); form values arrive as strings.
pub struct FormOrJson(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for FormOrJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.split(';').next())
            .is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form {
            return JsonBody::from_request(req, state)
                .await
                .map(|b| FormOrJson(b.0));
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_JSON_BODY)
            .await
            .map_err(|_| {
                ApiError::Text(
                    crate::error::Kind::TooLarge,
                    "Request body too large.".into(),
                )
            })?;
        let map = form_urlencoded::parse(&bytes)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        Ok(FormOrJson(map))
    }
}

/// The `:export-format` segment (§6.1).
fn export_format(raw: &str) -> ApiResult<ExportFormat> {
    match raw {
        "csv" => Ok(ExportFormat::Csv),
        "json" => Ok(ExportFormat::Json),
        "xlsx" | "api" => Err(ApiError::field(
            "export-format",
            format!("Export format '{raw}' is not supported by ferrobase."),
        )),
        other => {
            let mut errs = ValidationErrors::new();
            errs.add_received(
                &["export-format"],
                "value must be one of: csv, json, xlsx, api.",
                Some(&Value::String(other.into())),
            );
            Err(ApiError::Validation(errs))
        }
    }
}

/// A boolean given as JSON or as the strings `true`/`false` (an empty string is `false`).
fn flag(body: &Map<String, Value>, key: &'static str, errs: &mut ValidationErrors) -> bool {
    let v = body.get(key);
    let read = match v {
        None | Some(Value::Null) => Some(false),
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s.is_empty() => Some(false),
        Some(Value::String(s)) => bool_string(s),
        Some(_) => None,
    };
    read.unwrap_or_else(|| {
        errs.add_received(&[key], BOOLEAN, v);
        false
    })
}

/// An object given as JSON or as a string holding one.
fn object(
    body: &Map<String, Value>,
    key: &'static str,
    required: bool,
    errs: &mut ValidationErrors,
) -> Option<Map<String, Value>> {
    let v = body.get(key);
    match v {
        None | Some(Value::Null) if !required => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => Some(m),
            Ok(Value::Null) if !required => None,
            _ => {
                errs.add_received(&[key], "value must be a map.", v);
                None
            }
        },
        _ => {
            errs.add_received(&[key], "value must be a map.", v);
            None
        }
    }
}

async fn dataset_export(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(format): Path<String>,
    FormOrJson(body): FormOrJson,
) -> Response {
    let run = async {
        let format = export_format(&format)?;
        let mut errs = ValidationErrors::new();
        let query = object(&body, "query", true, &mut errs);
        let settings = object(&body, "visualization_settings", false, &mut errs);
        let format_rows = flag(&body, "format_rows", &mut errs);
        let bom = flag(&body, "csv_include_bom", &mut errs);
        flag(&body, "pivot_results", &mut errs);
        errs.into_result()?;
        let query = query.unwrap_or_default();
        let mut plan = plan_adhoc(&app, &c, &query, true).await?;
        plan.visualization_settings = settings.map(Value::Object).unwrap_or(json!({}));
        Ok::<_, ApiError>((
            plan,
            ExportOptions {
                format,
                format_rows,
                bom,
            },
        ))
    };
    match run.await {
        Ok((plan, opts)) => respond::export(&app, plan, opts).await,
        Err(e) => e.into_response(),
    }
}

async fn card_export(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path((raw, format)): Path<(String, String)>,
    FormOrJson(body): FormOrJson,
) -> Response {
    let run = async {
        let format = export_format(&format)?;
        let r = card_ref(&raw)?;
        let mut errs = ValidationErrors::new();
        let params = parameters_array(body.get("parameters"), &mut errs);
        let format_rows = flag(&body, "format_rows", &mut errs);
        flag(&body, "pivot_results", &mut errs);
        errs.into_result()?;
        let plan = service::plan_card(&app, &c, &r, params, Mode::Download).await?;
        Ok::<_, ApiError>((
            plan,
            ExportOptions {
                format,
                format_rows,
                bom: false,
            },
        ))
    };
    match run.await {
        Ok((plan, opts)) => respond::export(&app, plan, opts).await,
        Err(e) => e.into_response(),
    }
}
