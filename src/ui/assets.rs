//! The UI's static files (CSS, ES modules, icons), compiled into the binary with `include_str!`
//! so `ferrobase serve` needs nothing on disk. They are served under `/static/<version>/…`,
//! where the version is a digest of every file: a new build gets new URLs, so the files can be
//! cached for a year (`immutable`) without ever serving a stale script.
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// (path under `/static/<version>/`, content type, contents).
const FILES: &[(&str, &str, &str)] = &[
    (
        "css/app.css",
        "text/css; charset=utf-8",
        include_str!("../../static/css/app.css"),
    ),
    (
        "img/favicon.svg",
        "image/svg+xml",
        include_str!("../../static/img/favicon.svg"),
    ),
    ("js/api.js", JS, include_str!("../../static/js/api.js")),
    ("js/dom.js", JS, include_str!("../../static/js/dom.js")),
    (
        "js/dialogs.js",
        JS,
        include_str!("../../static/js/dialogs.js"),
    ),
    (
        "js/format.js",
        JS,
        include_str!("../../static/js/format.js"),
    ),
    ("js/icons.js", JS, include_str!("../../static/js/icons.js")),
    (
        "js/chrome.js",
        JS,
        include_str!("../../static/js/chrome.js"),
    ),
    ("js/setup.js", JS, include_str!("../../static/js/setup.js")),
    ("js/login.js", JS, include_str!("../../static/js/login.js")),
    (
        "js/settings-auth.js",
        JS,
        include_str!("../../static/js/settings-auth.js"),
    ),
    (
        "js/api-keys.js",
        JS,
        include_str!("../../static/js/api-keys.js"),
    ),
    (
        "js/api-key-dialogs.js",
        JS,
        include_str!("../../static/js/api-key-dialogs.js"),
    ),
    (
        "js/key-restrictions.js",
        JS,
        include_str!("../../static/js/key-restrictions.js"),
    ),
    (
        "js/group-picker.js",
        JS,
        include_str!("../../static/js/group-picker.js"),
    ),
    (
        "js/people.js",
        JS,
        include_str!("../../static/js/people.js"),
    ),
    (
        "js/person-dialogs.js",
        JS,
        include_str!("../../static/js/person-dialogs.js"),
    ),
    (
        "js/groups.js",
        JS,
        include_str!("../../static/js/groups.js"),
    ),
    ("js/group.js", JS, include_str!("../../static/js/group.js")),
    ("js/audit.js", JS, include_str!("../../static/js/audit.js")),
];

const JS: &str = "text/javascript; charset=utf-8";

/// The digest of every static file, 12 hex digits.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut h = Sha256::new();
        for (path, _, body) in FILES {
            h.update(path.as_bytes());
            h.update([0]);
            h.update(body.as_bytes());
        }
        hex::encode(h.finalize())[..12].to_string()
    })
}

/// `GET /static/{version}/{*file}`.
pub async fn serve(Path((ver, file)): Path<(String, String)>) -> Response {
    let Some((_, content_type, body)) = FILES.iter().find(|(p, _, _)| *p == file) else {
        return super::page::plain_not_found();
    };
    // A request for another version (an old page still open during an upgrade) gets today's
    // file, but must not be cached under the old URL for long.
    let cache = if ver == version() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        *body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_imported_by_a_module_is_embedded() {
        for (path, _, body) in FILES {
            for line in body
                .lines()
                .filter(|l| l.trim_start().starts_with("import "))
            {
                let Some(start) = line.find("'./") else {
                    continue;
                };
                let rest = &line[start + 3..];
                let name = &rest[..rest.find('\'').unwrap_or(rest.len())];
                let wanted = format!("js/{name}");
                assert!(
                    FILES.iter().any(|(p, _, _)| *p == wanted),
                    "{path} imports {wanted}, which is not embedded"
                );
            }
        }
    }

    #[test]
    fn version_is_stable_and_short() {
        assert_eq!(version().len(), 12);
        assert_eq!(version(), version());
    }
}
