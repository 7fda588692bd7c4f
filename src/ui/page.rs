//! What every UI page shares: who is looking ([`UiCtx`]), the data of the page frame
//! ([`Chrome`]: site name, signed-in person, anti-CSRF token, asset version), the UI presenter of
//! errors ([`UiError`]: a redirect to sign-in, or an HTML 403/404/500 page instead of the API's
//! plain text), and the security headers on every UI response.
use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::auth::{Principal, Via};
use crate::error::{ApiError, NOT_FOUND};
use crate::http::auth::CallerInfo;
use crate::http::error::text_response;
use crate::state::App;

/// The viewer of a UI page. Pages honour login sessions only: a browser never sends API keys,
/// and a script holding a key has no use for HTML.
pub struct UiCtx {
    pub principal: Option<Principal>,
    pub csrf: String,
    /// Path and query of this request, for "come back here after signing in".
    pub here: String,
}

impl<S: Send + Sync> FromRequestParts<S> for UiCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let principal = parts
            .extensions
            .get::<CallerInfo>()
            .and_then(|c| c.principal.clone())
            .filter(|p| p.via == Via::Session);
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        Ok(UiCtx {
            principal,
            csrf: super::csrf::token_for(&parts.headers),
            here,
        })
    }
}

/// The signed-in person, as the top bar shows them.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
}

/// Which admin tab is highlighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    None,
    Settings,
    People,
    Audit,
}

/// The data of the page frame (`templates/base.html`).
pub struct Chrome {
    pub title: String,
    pub site_name: String,
    pub csrf: String,
    /// Asset version for `/static/<v>/…` URLs.
    pub v: &'static str,
    pub viewer: Option<Viewer>,
    pub section: Section,
    /// `GET /api/session/properties` as JSON, escaped for a `<script type="application/json">`
    /// block (spec README 3.4: the HTML of `/` carries the setup token).
    pub properties: Option<String>,
}

impl Chrome {
    pub fn is_admin(&self) -> bool {
        self.viewer.as_ref().is_some_and(|v| v.is_admin)
    }
    pub fn in_admin(&self) -> bool {
        self.section != Section::None
    }
    /// The highlighted admin tab, for the templates.
    pub fn section_name(&self) -> &'static str {
        match self.section {
            Section::None => "",
            Section::Settings => "settings",
            Section::People => "people",
            Section::Audit => "audit",
        }
    }
}

/// Reads what the frame needs in one read-only unit of work.
pub async fn chrome(
    app: &App,
    ctx: &UiCtx,
    title: &str,
    section: Section,
) -> Result<Chrome, UiError> {
    let mut tx = app.store.read().await?;
    let site_name = tx
        .setting_get("site-name")
        .await?
        .unwrap_or_else(|| "ferrobase".into());
    let viewer = match &ctx.principal {
        Some(p) => tx.user_get(p.user_id).await?.map(|u| Viewer {
            id: u.id,
            name: crate::users::view::common_name(
                &u.email,
                u.first_name.as_deref(),
                u.last_name.as_deref(),
            ),
            email: u.email.clone(),
            is_admin: p.is_superuser,
        }),
        None => None,
    };
    drop(tx);
    Ok(Chrome {
        title: title.to_string(),
        site_name,
        csrf: ctx.csrf.clone(),
        v: super::assets::version(),
        viewer,
        section,
        properties: None,
    })
}

/// JSON made safe to sit inside `<script type="application/json">`: `<`, `>` and `&` can only
/// occur inside JSON strings, where their `\u` escapes mean the same thing.
pub fn script_json(v: &impl serde::Serialize) -> String {
    // Our views have string keys only, so serialising them cannot fail.
    serde_json::to_string(v)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// A page for a signed-in admin: sign-in redirect without a session, 403 page for others.
pub async fn admin_page(
    app: &App,
    ctx: &UiCtx,
    title: &str,
    section: Section,
) -> Result<Chrome, UiError> {
    if ctx.principal.is_none() {
        return Err(UiError::SignIn(ctx.here.clone()));
    }
    let mut page = chrome(app, ctx, title, section).await?;
    if !page.is_admin() {
        page.title = "Forbidden".into();
        page.section = Section::None;
        return Err(UiError::Forbidden(Box::new(page)));
    }
    Ok(page)
}

/// A page for any signed-in person.
pub async fn member_page(app: &App, ctx: &UiCtx, title: &str) -> Result<Chrome, UiError> {
    if ctx.principal.is_none() {
        return Err(UiError::SignIn(ctx.here.clone()));
    }
    chrome(app, ctx, title, Section::None).await
}

/// A local path to go back to after signing in; anything else (other hosts, `//evil`,
/// backslashes, control characters) becomes `/`, so the parameter cannot redirect off-site.
pub fn safe_redirect(target: Option<&str>) -> String {
    match target {
        Some(t)
            if t.starts_with('/')
                && !t.starts_with("//")
                && !t.contains('\\')
                && !t.chars().any(char::is_control)
                && !t.starts_with("/auth/") =>
        {
            t.to_string()
        }
        _ => "/".into(),
    }
}

/// Percent-encodes a query-parameter value (RFC 3986 unreserved characters and `/` stay).
pub fn encode_query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub page: Chrome,
    pub code: u16,
    pub heading: &'static str,
    pub message: &'static str,
}

/// The UI presenter of errors.
#[derive(Debug)]
pub enum UiError {
    /// Not signed in: go to the sign-in page, then come back to this path.
    SignIn(String),
    /// Signed in but not an admin.
    Forbidden(Box<Chrome>),
    /// An unknown UI path.
    NotFound(Box<Chrome>),
    /// A fault; logged, and shown as a page without internals.
    Api(ApiError),
}

impl std::fmt::Debug for Chrome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chrome")
            .field("title", &self.title)
            .finish_non_exhaustive()
    }
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        UiError::Api(e)
    }
}

impl From<crate::store::StoreError> for UiError {
    fn from(e: crate::store::StoreError) -> Self {
        UiError::Api(e.into())
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::SignIn(here) => {
                let target = safe_redirect(Some(&here));
                if target == "/" {
                    Redirect::to("/auth/login").into_response()
                } else {
                    Redirect::to(&format!(
                        "/auth/login?redirect={}",
                        encode_query_value(&target)
                    ))
                    .into_response()
                }
            }
            UiError::Forbidden(page) => error_page(
                *page,
                StatusCode::FORBIDDEN,
                "Sorry, you don't have permission to see that.",
                "This page is for administrators. Ask one of them if you need access.",
            ),
            UiError::NotFound(page) => error_page(
                *page,
                StatusCode::NOT_FOUND,
                "We're a little lost…",
                "The page you asked for couldn't be found.",
            ),
            UiError::Api(e) => {
                let status = match &e {
                    ApiError::Busy | ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                // Logs the cause once (the API presenter does), then shows a page without it.
                drop(e.into_response());
                let page = Chrome {
                    title: "Something went wrong".into(),
                    site_name: "ferrobase".into(),
                    csrf: String::new(),
                    v: super::assets::version(),
                    viewer: None,
                    section: Section::None,
                    properties: None,
                };
                error_page(
                    page,
                    status,
                    "Something went wrong",
                    "ferrobase could not show this page. Please try again in a moment.",
                )
            }
        }
    }
}

fn error_page(
    page: Chrome,
    status: StatusCode,
    heading: &'static str,
    message: &'static str,
) -> Response {
    let body = ErrorPage {
        page,
        code: status.as_u16(),
        heading,
        message,
    };
    let mut r = render(&body);
    *r.status_mut() = status;
    r
}

/// Renders a template as a 200 HTML page.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(cause = %e, "template rendering failed");
            text_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "An internal error occurred.",
            )
        }
    }
}

/// 404 for API-looking paths keeps the API's plain-text body.
pub fn plain_not_found() -> Response {
    text_response(StatusCode::NOT_FOUND, NOT_FOUND)
}

/// Content-Security-Policy of every UI response: no inline or foreign scripts, no framing.
pub const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// Adds the security headers to every response of the UI router.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    let is_html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        // Pages carry the anti-CSRF token and personal data: never from a shared cache.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_targets_stay_on_this_site() {
        assert_eq!(safe_redirect(Some("/admin/people")), "/admin/people");
        assert_eq!(
            safe_redirect(Some("/admin/people?status=deactivated")),
            "/admin/people?status=deactivated"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "/auth/login",
            "/a\nb",
        ] {
            assert_eq!(safe_redirect(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_redirect(None), "/");
    }

    #[test]
    fn script_json_cannot_close_the_script_element() {
        let v = serde_json::json!({"site-name": "</script><script>alert(1)</script>", "setup-token": "abc"});
        let s = script_json(&v);
        assert!(!s.contains('<'));
        assert!(s.contains(r#""setup-token":"abc""#));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v);
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            encode_query_value("/admin/people?status=all&x=1"),
            "/admin/people%3Fstatus%3Dall%26x%3D1"
        );
    }
}
