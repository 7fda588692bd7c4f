//! Query routes: `POST /api/dataset`, `POST /api/card/:id/query` and the exports
//! `/api/dataset/:format`, `/api/card/:id/query/:format` (queries.md §3, §5, §6). The handlers
//! read the request ([`super::input`], [`super::request`]), plan it ([`super::service`]) and send
//! the streamed result ([`super::stream`], [`super::format`]) as the response.
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use futures::TryStreamExt;
use serde_json::{Map, Value};

use super::compile::{self, NativeText};
use super::format::{self, Download, ExportOptions, ResultJson};
use super::service::{self, Mode, Plan};
use super::{input, request, stream};
use crate::auth::Principal;
use crate::cards::api::RawRef;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Caller;
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
        Ok(plan) => result(&app, plan).await,
        Err(e) => e.into_response(),
    }
}

/// `POST /api/dataset/native` (mbql.md §4.7).
async fn dataset_native(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<axum::Json<NativeText>> {
    let q = request::parse(&body).map_err(ApiError::Validation)?;
    let pretty = input::pretty(&body)?;
    let mut echo = body.clone();
    echo.remove("pretty");
    let text = compile::compile_text(&app, &c, q, Value::Object(echo), pretty).await?;
    // `application/json` without a charset, as this endpoint has always answered.
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

async fn card_query(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> Response {
    let run = async {
        let r = card_ref(&raw)?;
        let params = input::card_parameters(&body)?;
        service::plan_card(&app, &c, &r, params, Mode::Interactive(Default::default())).await
    };
    match run.await {
        Ok(plan) => result(&app, plan).await,
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

async fn dataset_export(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(format): Path<String>,
    FormOrJson(body): FormOrJson,
) -> Response {
    let run = async {
        let format = input::export_format(&format)?;
        let export = input::adhoc_export(format, &body)?;
        let mut plan = plan_adhoc(&app, &c, &export.query, true).await?;
        plan.visualization_settings = export.visualization_settings;
        Ok::<_, ApiError>((plan, export.options))
    };
    match run.await {
        Ok((plan, opts)) => download(&app, plan, opts).await,
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
        let format = input::export_format(&format)?;
        let r = card_ref(&raw)?;
        let export = input::card_export(format, &body)?;
        let plan = service::plan_card(&app, &c, &r, export.parameters, Mode::Download).await?;
        Ok::<_, ApiError>((plan, export.options))
    };
    match run.await {
        Ok((plan, opts)) => download(&app, plan, opts).await,
        Err(e) => e.into_response(),
    }
}

/// Runs `plan` and answers the §4.4 result (`202`), streamed, or the failure.
async fn result(app: &App, plan: Plan) -> Response {
    let started = match stream::begin(app, &plan).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let chunks = stream::chunks(ResultJson::new(plan), started);
    let mut r = Response::new(Body::from_stream(chunks.map_ok(Bytes::from)));
    *r.status_mut() = StatusCode::ACCEPTED;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// Runs `plan` as a download (§6.2): `200` with an attachment, streamed, or the failure body.
async fn download(app: &App, plan: Plan, opts: ExportOptions) -> Response {
    let started = match stream::begin(app, &plan).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let disposition = format::disposition(&plan, opts.format);
    let chunks = stream::chunks(Download::new(&plan, &opts), started);
    let mut r = Response::new(Body::from_stream(chunks.map_ok(Bytes::from)));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(opts.format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=0, no-cache, must-revalidate, proxy-revalidate"),
    );
    r
}
