//! Cross-site request forgery protection for the session cookie.
//!
//! The threat: a page on another site makes the victim's browser send a state-changing request
//! to ferrobase, and the browser attaches the `metabase.SESSION` cookie by itself. Scripts and
//! SDKs are not exposed (they send the session in a header, or an API key, or manage their own
//! cookie jar and never visit hostile pages), so they must keep working with no extra header.
//!
//! The layers, from the outside in:
//! 1. The cookie is `SameSite=Lax`: browsers do not attach it to cross-site POST/PUT/DELETE
//!    requests at all.
//! 2. The JSON API reads a body only as JSON. A cross-site HTML form can only send
//!    `application/x-www-form-urlencoded`, `multipart/form-data` or `text/plain`, which the API
//!    treats as an empty body (spec README 4.2), so a forged form carries no arguments; and a
//!    script on another origin cannot set `Content-Type: application/json`, or use PUT or
//!    DELETE, without a CORS preflight, which ferrobase never grants.
//! 3. Layer 2 has one gap: the spec also parses a body *without* any `Content-Type` as JSON, and
//!    `fetch(url, {method: "POST", mode: "no-cors", body: new Blob([json])})` sends exactly
//!    that; layer 1 has one too: "same-site" attackers (a sibling subdomain) still get the
//!    cookie. So [`guard_api`] refuses, on every unsafe `/api/` request that carries the
//!    session cookie and comes from a browser (it has `Sec-Fetch-Site` or `Origin`, which
//!    browsers set and scripts do not):
//!    - any request that the browser marks as cross-site or same-site, or whose `Origin` is not
//!      this host;
//!    - any request without the header `X-Ferrobase-CSRF` holding [`token`] of the cookie. The
//!      UI's pages embed that token (`<meta name="csrf-token">`) and its ES modules send it
//!      with every call. Another origin can neither read the page nor set the header without a
//!      preflight.
//!
//! The UI has no form-encoded endpoint: every form is submitted by its ES module as JSON to the
//! same API scripts use, so this guard covers every form of the UI.
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

use crate::error::FORBIDDEN;
use crate::http::auth::SESSION_COOKIE;
use crate::http::error::text_response;

pub const CSRF_HEADER: &str = "x-ferrobase-csrf";

/// The raw value of the session cookie, as the browser sent it.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(headers);
    jar.get(SESSION_COOKIE).map(|c| c.value().to_string())
}

/// The anti-CSRF token bound to a session cookie: a digest of the cookie value. Only someone who
/// can read the (HttpOnly) cookie or a page of this origin can know it, and it changes with every
/// login, so no server-side storage is needed.
pub fn token(cookie: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"ferrobase-ui-csrf-v1\0");
    h.update(cookie.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// The token for the page being rendered (empty when the browser has no session cookie).
pub fn token_for(headers: &HeaderMap) -> String {
    session_cookie(headers)
        .map(|c| token(&c))
        .unwrap_or_default()
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// `Origin` names this server (any scheme; the `Host` header is what the browser connected to).
fn origin_matches_host(origin: &str, headers: &HeaderMap) -> bool {
    let Some(host) = header_str(headers, header::HOST.as_str()) else {
        return false;
    };
    let authority = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    !authority.is_empty() && authority.eq_ignore_ascii_case(host)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// Why a request is refused, or `None` when it may go on.
pub fn check(method: &Method, path: &str, headers: &HeaderMap) -> Option<&'static str> {
    let unsafe_method = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !unsafe_method || !(path == "/api" || path.starts_with("/api/")) {
        return None;
    }
    let cookie = session_cookie(headers)?;
    let fetch_site = header_str(headers, "sec-fetch-site");
    let origin = header_str(headers, header::ORIGIN.as_str());
    if fetch_site.is_none() && origin.is_none() {
        // Not a browser: a script with its own cookie jar.
        return None;
    }
    match (fetch_site, origin) {
        (Some("cross-site") | Some("same-site"), _) => return Some("cross-site request"),
        // The browser's own verdict (page scripts cannot forge `Sec-Fetch-*`) is trusted over
        // comparing `Origin` with `Host`, which a reverse proxy may rewrite.
        (Some(_), _) => {}
        (None, Some(o)) if !origin_matches_host(o, headers) => return Some("foreign origin"),
        (None, _) => {}
    }
    let sent = header_str(headers, CSRF_HEADER).unwrap_or("");
    if !constant_time_eq(sent.as_bytes(), token(&cookie).as_bytes()) {
        return Some("missing or wrong anti-CSRF token");
    }
    None
}

/// Middleware on the whole router (see the module docs).
pub async fn guard_api(req: Request, next: Next) -> Response {
    if let Some(reason) = check(req.method(), req.uri().path(), req.headers()) {
        tracing::warn!(
            reason,
            "refused a cookie-authenticated browser request (CSRF guard)"
        );
        return text_response(StatusCode::FORBIDDEN, FORBIDDEN);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const SID: &str = "0a4b7c1e-9d2f-4e8a-b6c3-5f1e2d3c4b5a";

    #[test]
    fn scripts_without_browser_headers_pass_without_a_token() {
        let h = headers(&[(
            "cookie",
            "metabase.SESSION=0a4b7c1e-9d2f-4e8a-b6c3-5f1e2d3c4b5a",
        )]);
        assert_eq!(check(&Method::POST, "/api/api-key", &h), None);
        let h = headers(&[
            ("x-metabase-session", SID),
            ("origin", "https://evil.example"),
        ]);
        assert_eq!(
            check(&Method::POST, "/api/api-key", &h),
            None,
            "no cookie, no ambient authority"
        );
    }

    #[test]
    fn browser_requests_with_the_cookie_need_the_token() {
        let cookie = format!("metabase.SESSION={SID}");
        let base = [("cookie", cookie.as_str()), ("host", "127.0.0.1:3000")];
        let mut h = headers(&base);
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        h.insert("origin", HeaderValue::from_static("http://127.0.0.1:3000"));
        assert!(check(&Method::POST, "/api/api-key", &h).is_some());
        h.insert(CSRF_HEADER, HeaderValue::from_static("nope"));
        assert!(check(&Method::DELETE, "/api/api-key/1", &h).is_some());
        h.insert(CSRF_HEADER, HeaderValue::from_str(&token(SID)).unwrap());
        assert_eq!(check(&Method::PUT, "/api/api-key/1", &h), None);
        assert_eq!(
            check(&Method::GET, "/api/api-key", &headers(&base)),
            None,
            "reads are safe"
        );
    }

    #[test]
    fn cross_site_and_foreign_origins_are_refused_even_with_the_token() {
        let cookie = format!("metabase.SESSION={SID}");
        let tok = token(SID);
        let h = headers(&[
            ("cookie", cookie.as_str()),
            ("host", "app.example.com"),
            ("sec-fetch-site", "same-site"),
            (CSRF_HEADER, tok.as_str()),
        ]);
        assert_eq!(
            check(&Method::POST, "/api/user", &h),
            Some("cross-site request")
        );
        let h = headers(&[
            ("cookie", cookie.as_str()),
            ("host", "app.example.com"),
            ("origin", "https://evil.example.com"),
            (CSRF_HEADER, tok.as_str()),
        ]);
        assert_eq!(
            check(&Method::POST, "/api/user", &h),
            Some("foreign origin")
        );
    }

    #[test]
    fn tokens_differ_per_session() {
        assert_ne!(token("a"), token("b"));
        assert_eq!(token(SID).len(), 32);
    }
}
