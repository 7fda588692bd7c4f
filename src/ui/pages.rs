//! The page handlers. Each renders a server-side frame (askama, auto-escaped) whose tables and
//! dialogs are then driven by an ES module that calls the JSON API (`static/js/…`). Access
//! rules live here: the setup page until setup is done, the sign-in page without a session,
//! admin pages for admins only (a 403 page for everyone else).
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;

use super::page::{self, admin_page, member_page, render, Chrome, Section, UiCtx, UiError};
use crate::state::{App, AppState};

type PageResult = Result<Response, UiError>;

#[derive(Template)]
#[template(path = "setup.html")]
pub struct SetupPage {
    pub page: Chrome,
    pub password_hint: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub page: Chrome,
    pub redirect: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub page: Chrome,
}

#[derive(Template)]
#[template(path = "admin/settings_general.html")]
pub struct SettingsGeneralPage {
    pub page: Chrome,
    pub admin_email: String,
    pub version: &'static str,
    pub database: &'static str,
    pub password_hint: String,
}

#[derive(Template)]
#[template(path = "admin/settings_authentication.html")]
pub struct SettingsAuthPage {
    pub page: Chrome,
}

#[derive(Template)]
#[template(path = "admin/api_keys.html")]
pub struct ApiKeysPage {
    pub page: Chrome,
}

#[derive(Template)]
#[template(path = "admin/people.html")]
pub struct PeoplePage {
    pub page: Chrome,
    pub deactivated: bool,
    /// Minimum password length, so generated temporary passwords always pass the rule.
    pub password_length: usize,
}

#[derive(Template)]
#[template(path = "admin/groups.html")]
pub struct GroupsPage {
    pub page: Chrome,
}

#[derive(Template)]
#[template(path = "admin/group.html")]
pub struct GroupPage {
    pub page: Chrome,
    pub group_id: i64,
    pub group_name: String,
    /// All Users and Administrators cannot be renamed or deleted, and All Users cannot have
    /// members added or removed.
    pub magic: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub page: Chrome,
}

/// Query parameters of a page; a malformed query string counts as none (pages never answer 400).
fn query<T: serde::de::DeserializeOwned + Default>(uri: &Uri) -> T {
    Query::<T>::try_from_uri(uri)
        .map(|Query(q)| q)
        .unwrap_or_default()
}

async fn is_set_up(app: &App) -> Result<bool, UiError> {
    let mut tx = app.store.read().await?;
    Ok(crate::setup::service::is_set_up(tx.as_mut()).await?)
}

/// The password rule in words, from the `password-complexity` property.
pub fn password_hint(rule: &Value) -> String {
    let n = |k: &str| rule.get(k).and_then(Value::as_u64).unwrap_or(0);
    let mut parts = Vec::new();
    let plural = |count: u64, one: &str, many: &str| {
        if count == 1 {
            format!("1 {one}")
        } else {
            format!("{count} {many}")
        }
    };
    if n("lower") > 0 {
        parts.push(plural(
            n("lower"),
            "lower case letter",
            "lower case letters",
        ));
    }
    if n("upper") > 0 {
        parts.push(plural(
            n("upper"),
            "upper case letter",
            "upper case letters",
        ));
    }
    if n("digit") > 0 {
        parts.push(plural(n("digit"), "number", "numbers"));
    }
    if n("special") > 0 {
        parts.push(plural(
            n("special"),
            "special character",
            "special characters",
        ));
    }
    let mut s = format!("Must be at least {} characters long", n("total"));
    match parts.len() {
        0 => {}
        1 => s.push_str(&format!(" and include {}", parts[0])),
        _ => {
            let last = parts.pop().unwrap_or_default();
            s.push_str(&format!(" and include {} and {last}", parts.join(", ")));
        }
    }
    s.push('.');
    s
}

async fn with_properties(app: &App, ctx: &UiCtx, mut page: Chrome) -> Result<Chrome, UiError> {
    let props = crate::settings::service::properties(app, ctx.principal.is_some()).await?;
    page.properties = Some(page::script_json(&props));
    Ok(page)
}

async fn setup_page(app: &App, ctx: &UiCtx) -> PageResult {
    let page = page::chrome(app, ctx, "Welcome", Section::None).await?;
    let page = with_properties(app, ctx, page).await?;
    let hint = password_hint(&app.config.password_policy.property());
    Ok(render(&SetupPage {
        page,
        password_hint: hint,
    }))
}

async fn login_page(app: &App, ctx: &UiCtx, redirect: String) -> PageResult {
    // A stale or foreign session must not show a signed-in frame on the sign-in page.
    let anonymous = UiCtx {
        principal: None,
        csrf: ctx.csrf.clone(),
        here: ctx.here.clone(),
    };
    let page = page::chrome(app, &anonymous, "Sign in", Section::None).await?;
    let page = with_properties(app, &anonymous, page).await?;
    Ok(render(&LoginPage { page, redirect }))
}

/// `GET /`: the setup page until setup is done, then the sign-in page or the home page. All
/// three embed the session properties (spec README 3.4).
pub async fn root(State(app): State<AppState>, ctx: UiCtx) -> PageResult {
    if !is_set_up(&app).await? {
        return setup_page(&app, &ctx).await;
    }
    if ctx.principal.is_none() {
        return login_page(&app, &ctx, "/".into()).await;
    }
    let page = member_page(&app, &ctx, "Home").await?;
    let page = with_properties(&app, &ctx, page).await?;
    Ok(render(&HomePage { page }))
}

/// `GET /setup`.
pub async fn setup(State(app): State<AppState>, ctx: UiCtx) -> PageResult {
    if is_set_up(&app).await? {
        return Ok(Redirect::to("/").into_response());
    }
    setup_page(&app, &ctx).await
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    redirect: Option<String>,
}

/// `GET /auth/login?redirect=…`.
pub async fn login(State(app): State<AppState>, ctx: UiCtx, uri: Uri) -> PageResult {
    let q: LoginQuery = query(&uri);
    let target = page::safe_redirect(q.redirect.as_deref());
    if !is_set_up(&app).await? {
        return Ok(Redirect::to("/setup").into_response());
    }
    if ctx.principal.is_some() {
        return Ok(Redirect::to(&target).into_response());
    }
    login_page(&app, &ctx, target).await
}

/// `GET /admin` and `GET /admin/settings`.
pub async fn admin_home() -> Response {
    Redirect::to("/admin/settings/general").into_response()
}

pub async fn settings_general(State(app): State<AppState>, ctx: UiCtx) -> PageResult {
    let page = admin_page(&app, &ctx, "General settings", Section::Settings).await?;
    let admin_email = {
        let mut tx = app.store.read().await?;
        tx.setting_get("admin-email").await?.unwrap_or_default()
    };
    let database = match app.store.backend() {
        crate::store::Backend::Sqlite => "SQLite",
        crate::store::Backend::Postgres => "PostgreSQL",
    };
    Ok(render(&SettingsGeneralPage {
        page,
        admin_email,
        version: crate::config::VERSION,
        database,
        password_hint: password_hint(&app.config.password_policy.property()),
    }))
}

pub async fn settings_authentication(State(app): State<AppState>, ctx: UiCtx) -> PageResult {
    let page = admin_page(&app, &ctx, "Authentication", Section::Settings).await?;
    Ok(render(&SettingsAuthPage { page }))
}

pub async fn api_keys(State(app): State<AppState>, ctx: UiCtx) -> PageResult {
    let page = admin_page(&app, &ctx, "Manage API Keys", Section::Settings).await?;
    Ok(render(&ApiKeysPage { page }))
}

#[derive(Deserialize, Default)]
pub struct PeopleQuery {
    status: Option<String>,
}

pub async fn people(State(app): State<AppState>, ctx: UiCtx, uri: Uri) -> PageResult {
    let page = admin_page(&app, &ctx, "People", Section::People).await?;
    let q: PeopleQuery = query(&uri);
    let deactivated = q.status.as_deref() == Some("deactivated");
    Ok(render(&PeoplePage {
        page,
        deactivated,
        password_length: app.config.password_policy.min_length,
    }))
}

pub async fn groups(State(app): State<AppState>, ctx: UiCtx) -> PageResult {
    let page = admin_page(&app, &ctx, "Groups", Section::People).await?;
    Ok(render(&GroupsPage { page }))
}

pub async fn group(State(app): State<AppState>, ctx: UiCtx, Path(raw): Path<String>) -> PageResult {
    let mut page = admin_page(&app, &ctx, "Group", Section::People).await?;
    let id = raw
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && raw.bytes().all(|b| b.is_ascii_digit()));
    let row = match id {
        Some(id) => {
            let mut tx = app.store.read().await?;
            tx.group_get(id).await?
        }
        None => None,
    };
    let Some(g) = row else {
        page.title = "Not found".into();
        page.section = Section::None;
        return Err(UiError::NotFound(Box::new(page)));
    };
    page.title = g.name.clone();
    Ok(render(&GroupPage {
        page,
        group_id: g.id,
        group_name: g.name,
        magic: g.magic_group_type.unwrap_or_default(),
    }))
}

pub async fn audit(State(app): State<AppState>, ctx: UiCtx) -> PageResult {
    let page = admin_page(&app, &ctx, "Audit log", Section::Audit).await?;
    Ok(render(&AuditPage { page }))
}

/// Any other `GET`: the API keeps its plain-text 404; UI paths get a 404 page.
pub async fn not_found(State(app): State<AppState>, ctx: UiCtx) -> PageResult {
    let path = ctx.here.split('?').next().unwrap_or("");
    if path == "/api" || path.starts_with("/api/") {
        return Ok(page::plain_not_found());
    }
    let page = page::chrome(&app, &ctx, "Not found", Section::None).await?;
    Err(UiError::NotFound(Box::new(page)))
}

#[cfg(test)]
mod tests {
    use super::password_hint;
    use serde_json::json;

    #[test]
    fn password_hints_describe_each_rule() {
        assert_eq!(
            password_hint(&json!({"total":6})),
            "Must be at least 6 characters long."
        );
        assert_eq!(
            password_hint(&json!({"total":6,"digit":1})),
            "Must be at least 6 characters long and include 1 number."
        );
        assert_eq!(
            password_hint(&json!({"total":8,"lower":2,"upper":2,"digit":1,"special":1})),
            "Must be at least 8 characters long and include 2 lower case letters, 2 upper case letters, 1 number and 1 special character."
        );
    }
}
