//! Who is calling. A middleware resolves the caller once per request in the spec's order
//! (session cookie, then `X-Metabase-Session`, then `X-Api-Key`; an invalid credential falls
//! through to the next), applies the failed-key rate limit, and stores the result in the request
//! extensions. Handlers then extract [`Caller`] (401 when absent) or [`MaybeCaller`].
//! Admin-only service functions take an [`AdminCap`], which only a successful check produces.
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{request::Parts, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Principal;
use crate::error::{ApiError, Kind};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "metabase.SESSION";
pub const SESSION_HEADER: &str = "x-metabase-session";
pub const API_KEY_HEADER: &str = "x-api-key";
pub const KEY_RATE_LIMIT_MESSAGE: &str = "Too many failed API key attempts. Try again later.";

pub const READ_ONLY_MESSAGE: &str = "This API key is read-only.";

/// Whether a read-only key may make this request (key-restrictions.md §2.1): `GET` and `HEAD`
/// anywhere, `POST` on the endpoints that only read (queries, exports, serialization export).
pub fn read_only_may(method: &Method, path: &str) -> bool {
    if method == Method::GET || method == Method::HEAD {
        return true;
    }
    if method != Method::POST {
        return false;
    }
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    matches!(
        segments.as_slice(),
        ["api", "dataset"]
            | ["api", "dataset", "native"]
            | ["api", "card", _, "query"]
            | ["api", "card", _, "query", _]
            | ["api", "card", "pivot", _, "query"]
            | ["api", "ee", "serialization", "export"]
    ) || matches!(segments.as_slice(), ["api", "dataset", format] if *format != "pivot")
}

/// Request extension set by [`resolve_caller`].
#[derive(Debug, Clone)]
pub struct CallerInfo {
    pub principal: Option<Principal>,
    /// The session id the request presented (cookie first, then header), valid or not.
    pub presented_session: Option<uuid::Uuid>,
    pub client_ip: IpAddr,
}

/// An authenticated caller, or 401 `Unauthenticated`.
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CallerInfo>()
            .and_then(|c| c.principal.clone())
            .map(Caller)
            .ok_or(ApiError::Unauthenticated)
    }
}

/// The caller if any, for public endpoints whose answer depends on it.
pub struct MaybeCaller(pub CallerInfo);

impl<S: Send + Sync> FromRequestParts<S> for MaybeCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeCaller(
            parts
                .extensions
                .get::<CallerInfo>()
                .cloned()
                .unwrap_or(CallerInfo {
                    principal: None,
                    presented_session: None,
                    client_ip: IpAddr::from([127, 0, 0, 1]),
                }),
        ))
    }
}

/// The client IP per spec README 5.5: the TCP peer, or the last entry of the configured header.
pub fn client_ip(
    header: Option<&axum::http::HeaderName>,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> IpAddr {
    let fallback = peer.unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let Some(name) = header else {
        return fallback;
    };
    headers
        .get_all(name)
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok())
        .unwrap_or(fallback)
}

fn cookie_session(headers: &HeaderMap) -> Option<uuid::Uuid> {
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(headers);
    jar.get(SESSION_COOKIE)
        .and_then(|c| uuid::Uuid::try_parse(c.value()).ok())
}

fn header_session(headers: &HeaderMap) -> Option<uuid::Uuid> {
    headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| uuid::Uuid::try_parse(v.trim()).ok())
}

pub async fn resolve_caller(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    // The health check never looks at credentials and is never limited.
    if req.uri().path().trim_end_matches('/') == "/api/health" {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let headers = req.headers();
    let ip = client_ip(app.config.source_address_header.as_ref(), headers, peer);
    let cookie = cookie_session(headers);
    let header = header_session(headers);

    let mut principal = None;
    for sid in [cookie, header].into_iter().flatten() {
        match app.sessions.authenticate(&app, sid).await {
            Ok(Some(p)) => {
                principal = Some(p);
                break;
            }
            Ok(None) => {}
            Err(e) => return e.into_response(),
        }
    }
    if principal.is_none() {
        let mut values = headers.get_all(API_KEY_HEADER).iter();
        if let Some(first) = values.next() {
            // More than one X-Api-Key header is a malformed key.
            let value = if values.next().is_some() {
                None
            } else {
                first.to_str().ok()
            };
            match app.api_keys.authenticate(&app, value, ip).await {
                Ok(Some(p)) => principal = Some(p),
                Ok(None) => {
                    if let Some(retry_after) = app
                        .api_keys
                        .limiter
                        .record_failure(ip, std::time::Instant::now())
                    {
                        return ApiError::RateLimited {
                            retry_after,
                            message: KEY_RATE_LIMIT_MESSAGE,
                        }
                        .into_response();
                    }
                }
                Err(e) => return e.into_response(),
            }
        }
    }
    if principal.as_ref().is_some_and(Principal::read_only)
        && !read_only_may(req.method(), req.uri().path())
    {
        // key-restrictions.md §2.1: before the body is read or validated.
        return ApiError::Text(Kind::Forbidden, READ_ONLY_MESSAGE.into()).into_response();
    }
    let presented_session = cookie.or(header);
    req.extensions_mut().insert(CallerInfo {
        principal,
        presented_session,
        client_ip: ip,
    });
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderName, HeaderValue};

    #[test]
    fn read_only_keys_may_post_only_to_reading_endpoints() {
        for path in [
            "/api/dataset",
            "/api/dataset/",
            "/api/dataset/csv",
            "/api/dataset/native",
            "/api/card/7/query",
            "/api/card/7/query/json",
            "/api/card/pivot/7/query",
            "/api/ee/serialization/export",
        ] {
            assert!(read_only_may(&Method::POST, path), "{path}");
            assert!(!read_only_may(&Method::PUT, path), "{path}");
        }
        for path in [
            "/api/dataset/pivot",
            "/api/card",
            "/api/card/7",
            "/api/card/7/query/json/x",
            "/api/ee/serialization/import",
            "/api/permissions/group",
            "/api/api-key/3/regenerate",
            "/api/datasetx",
        ] {
            assert!(!read_only_may(&Method::POST, path), "{path}");
        }
        assert!(read_only_may(&Method::GET, "/api/user"));
        assert!(read_only_may(&Method::HEAD, "/api/user"));
        assert!(!read_only_may(&Method::DELETE, "/api/user/3"));
        assert!(!read_only_may(&Method::OPTIONS, "/api/user"));
    }

    #[test]
    fn client_ip_uses_the_last_header_entry_only_when_configured() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 10.1.2.3"),
        );
        let peer_ip = IpAddr::from([192, 0, 2, 1]);
        let peer = Some(peer_ip);
        assert_eq!(client_ip(None, &h, peer), peer_ip);
        let name = HeaderName::from_static("x-forwarded-for");
        assert_eq!(client_ip(Some(&name), &h, peer).to_string(), "10.1.2.3");
        h.insert("x-forwarded-for", HeaderValue::from_static("garbage"));
        assert_eq!(client_ip(Some(&name), &h, peer), peer_ip);
    }
}
