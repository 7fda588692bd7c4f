//! Router tests of the UI's server side (`tower::ServiceExt::oneshot`, SQLite in memory): access
//! rules, the setup-token embed, security headers, the anti-CSRF guard. The flows themselves are
//! tested in a real browser (`tests/browser/`).
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::clock::SystemClock;
use crate::config::Config;
use crate::state::App;
use crate::store::DatabaseUrl;

const PASSWORD: &str = "blue7-ferret-orbit";

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Resp {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn app() -> Router {
    let store = crate::store::open(&DatabaseUrl::SqliteMemory)
        .await
        .expect("store");
    crate::app::router(App::new(store, Config::for_tests(), Arc::new(SystemClock)))
}

async fn send(
    app: &Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Resp {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .expect("request");
    let res = app.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    Resp {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn setup(app: &Router) -> String {
    let props: Value = serde_json::from_str(
        &send(app, "GET", "/api/session/properties", &[], None)
            .await
            .text,
    )
    .unwrap();
    let body = json!({"token": props["setup-token"], "prefs": {"site_name": "Acme <b>Labs</b>"},
        "user": {"email": "ada@example.com", "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace"}});
    let r = send(app, "POST", "/api/setup", &[], Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    serde_json::from_str::<Value>(&r.text).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn person_session(app: &Router, admin: &str, email: &str) -> String {
    let cookie = format!("metabase.SESSION={admin}");
    let body = json!({"email": email, "first_name": "Alice", "password": PASSWORD});
    let r = send(app, "POST", "/api/user", &[("cookie", &cookie)], Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = send(
        app,
        "POST",
        "/api/session",
        &[],
        Some(json!({"username": email, "password": PASSWORD})),
    )
    .await;
    serde_json::from_str::<Value>(&r.text).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn assert_security_headers(r: &Resp) {
    let csp = r.header("content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    assert_eq!(r.header("referrer-policy"), "same-origin");
    assert_eq!(r.header("x-frame-options"), "DENY");
}

#[tokio::test]
async fn readme_3_4_root_embeds_the_setup_token_until_setup_then_null() {
    let app = app().await;
    let props: Value = serde_json::from_str(
        &send(&app, "GET", "/api/session/properties", &[], None)
            .await
            .text,
    )
    .unwrap();
    let token = props["setup-token"].as_str().unwrap().to_string();
    let r = send(&app, "GET", "/", &[], None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").starts_with("text/html"));
    assert!(
        r.text.contains(&format!(r#""setup-token":"{token}""#)),
        "{}",
        r.text
    );
    assert!(r.text.contains("Welcome to ferrobase"));
    assert!(!r.text.contains("<script>"), "no inline scripts");
    assert_security_headers(&r);

    let sid = setup(&app).await;
    let r = send(&app, "GET", "/", &[], None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains(r#""setup-token":null"#), "{}", r.text);
    assert!(
        r.text
            .contains("Sign in to Acme &#60;b&#62;Labs&#60;/b&#62;")
            || r.text.contains("Sign in to Acme &lt;b&gt;Labs&lt;/b&gt;"),
        "site name is escaped: {}",
        r.text
    );
    let cookie = format!("metabase.SESSION={sid}");
    let r = send(&app, "GET", "/", &[("cookie", &cookie)], None).await;
    assert!(r.text.contains(r#""setup-token":null"#));
    assert!(r.text.contains("Hi, Ada Lovelace"));
    assert!(r.text.contains("Admin settings"));
    // The setup page is gone once setup is done.
    let r = send(&app, "GET", "/setup", &[], None).await;
    assert_eq!(
        (r.status, r.header("location")),
        (StatusCode::SEE_OTHER, "/")
    );
}

#[tokio::test]
async fn admin_pages_redirect_anonymous_visitors_to_sign_in_and_forbid_non_admins() {
    let app = app().await;
    let admin = setup(&app).await;
    let r = send(
        &app,
        "GET",
        "/admin/settings/authentication/api-keys",
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.header("location"),
        "/auth/login?redirect=/admin/settings/authentication/api-keys"
    );

    let alice = person_session(&app, &admin, "alice@example.com").await;
    let cookie = format!("metabase.SESSION={alice}");
    for path in [
        "/admin/settings/general",
        "/admin/people",
        "/admin/people/groups/1",
        "/admin/audit",
    ] {
        let r = send(&app, "GET", path, &[("cookie", &cookie)], None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            r.text.contains("have permission to see that"),
            "{path}: {}",
            r.text
        );
        assert_security_headers(&r);
    }
    let r = send(&app, "GET", "/", &[("cookie", &cookie)], None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        !r.text.contains("Admin settings"),
        "no Admin settings for non-admins"
    );

    let cookie = format!("metabase.SESSION={admin}");
    for path in [
        "/admin/settings/general",
        "/admin/settings/authentication",
        "/admin/people",
        "/admin/people/groups",
        "/admin/people/groups/2",
        "/admin/audit",
    ] {
        let r = send(&app, "GET", path, &[("cookie", &cookie)], None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.header("cache-control"), "no-store");
    }
    let r = send(&app, "GET", "/admin", &[("cookie", &cookie)], None).await;
    assert_eq!(r.header("location"), "/admin/settings/general");
    // Signed in, the sign-in page sends you on.
    let r = send(
        &app,
        "GET",
        "/auth/login?redirect=/admin/people",
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.header("location")),
        (StatusCode::SEE_OTHER, "/admin/people")
    );
    let r = send(
        &app,
        "GET",
        "/auth/login?redirect=//evil.example",
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(r.header("location"), "/");
}

#[tokio::test]
async fn unknown_ui_paths_get_a_404_page_and_api_paths_keep_plain_text() {
    let app = app().await;
    let admin = setup(&app).await;
    let cookie = format!("metabase.SESSION={admin}");
    let r = send(&app, "GET", "/no/such/page", &[("cookie", &cookie)], None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.header("content-type").starts_with("text/html"));
    assert!(r.text.contains("The page you asked for"));
    assert_security_headers(&r);
    for path in [
        "/admin/people/groups/999",
        "/admin/people/groups/abc",
        "/admin/people/groups/0",
    ] {
        let r = send(&app, "GET", path, &[("cookie", &cookie)], None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.header("content-type").starts_with("text/html"), "{path}");
    }
    for path in ["/api/no-such-thing", "/api/user/1/nope", "/api"] {
        let r = send(&app, "GET", path, &[("cookie", &cookie)], None).await;
        assert_eq!(
            (r.status, r.text.as_str()),
            (StatusCode::NOT_FOUND, "Not found."),
            "{path}"
        );
        assert!(r.header("content-type").starts_with("text/plain"));
    }
}

#[tokio::test]
async fn static_files_are_embedded_and_cached_for_a_year() {
    let app = app().await;
    let v = super::assets::version();
    let r = send(
        &app,
        "GET",
        &format!("/static/{v}/js/api-keys.js"),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").starts_with("text/javascript"));
    assert_eq!(
        r.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    let r = send(&app, "GET", "/static/old/css/app.css", &[], None).await;
    assert_eq!(
        (r.status, r.header("cache-control")),
        (StatusCode::OK, "no-cache")
    );
    let r = send(&app, "GET", &format!("/static/{v}/js/nope.js"), &[], None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Pages reference the current version.
    let r = send(&app, "GET", "/", &[], None).await;
    assert!(r.text.contains(&format!("/static/{v}/css/app.css")));
}

#[tokio::test]
async fn csrf_browser_requests_with_the_session_cookie_need_the_page_token() {
    let app = app().await;
    let admin = setup(&app).await;
    let cookie = format!("metabase.SESSION={admin}");
    let body = || Some(json!({"name": format!("G{}", uuid::Uuid::new_v4().simple())}));
    let browser = [
        ("cookie", cookie.as_str()),
        ("host", "ferrobase.test"),
        ("sec-fetch-site", "same-origin"),
        ("origin", "http://ferrobase.test"),
    ];

    let r = send(&app, "POST", "/api/permissions/group", &browser, body()).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (
            StatusCode::FORBIDDEN,
            "You don't have permissions to do that."
        )
    );

    // The token the pages embed.
    let page = send(
        &app,
        "GET",
        "/admin/people/groups",
        &[("cookie", &cookie)],
        None,
    )
    .await;
    let token = super::csrf::token(&admin);
    assert!(page
        .text
        .contains(&format!(r#"<meta name="csrf-token" content="{token}">"#)));
    let mut with_token = browser.to_vec();
    with_token.push(("x-ferrobase-csrf", token.as_str()));
    let r = send(&app, "POST", "/api/permissions/group", &with_token, body()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // A sibling site cannot use it even with the token.
    let mut cross = with_token.clone();
    cross[2] = ("sec-fetch-site", "same-site");
    let r = send(&app, "POST", "/api/permissions/group", &cross, body()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Scripts (no browser headers) need no token, with a cookie or a header.
    let r = send(
        &app,
        "POST",
        "/api/permissions/group",
        &[("cookie", &cookie)],
        body(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = send(
        &app,
        "POST",
        "/api/permissions/group",
        &[("x-metabase-session", &admin)],
        body(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Reads are never refused.
    let r = send(&app, "GET", "/api/permissions/group", &browser, None).await;
    assert_eq!(r.status, StatusCode::OK);
}
