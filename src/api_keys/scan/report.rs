//! The leak scanner's output (key-restrictions.md §5): `text` lines
//! `<path>:<line>:<column>: <masked key>` and a summary, a `json` array, or a SARIF 2.1.0 log
//! with one rule, `ferrobase/api-key`, and one result per finding. Only masked keys appear.
use std::path::Path;

use serde::Serialize;
use serde_json::{json, Value};

use super::finder::redact;
use super::lookup::{KeyInfo, Revoked};
use crate::api_keys::format::KEY_LEN;
use crate::config::VERSION;

pub const RULE_ID: &str = "ferrobase/api-key";
const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const HELP: &str = "A well-formed ferrobase API key (the mb_ prefix and a valid checksum) is \
in this file, so anyone who can read the file can use the key. Revoke it (`ferrobase keys scan \
--revoke`, or DELETE /api/api-key/:id), then remove it from the file and from its history.";

/// One occurrence of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The path as walked (keys in it masked).
    pub path: String,
    pub line: u64,
    pub column: u64,
    pub masked_key: String,
    /// `None` when no application database was consulted.
    pub info: Option<KeyInfo>,
    /// `Some` only with `--revoke`: whether this run deleted the key.
    pub revoked: Option<bool>,
}

/// A path for display: keys masked, the `./` of the default root dropped.
pub fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    let text = text.strip_prefix("./").unwrap_or(&text);
    redact(text).into_owned()
}

/// A JSON string literal: key names may hold quotes or newlines.
fn quoted(s: &str) -> String {
    serde_json::to_string(&redact(s)).unwrap_or_default()
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The summary line: `N keys found in M files.`
pub fn summary(findings: &[Finding]) -> String {
    let mut files: Vec<&str> = findings.iter().map(|f| f.path.as_str()).collect();
    files.dedup();
    format!(
        "{} found in {}.",
        count(findings.len(), "key", "keys"),
        count(files.len(), "file", "files")
    )
}

fn describe(info: &KeyInfo) -> String {
    match (info.key_id, &info.key_name) {
        (Some(id), Some(name)) => format!("{}, key {id} {}", info.status.as_str(), quoted(name)),
        (Some(id), None) => format!("{}, key {id}", info.status.as_str()),
        _ => info.status.as_str().to_string(),
    }
}

/// `text`: one line per finding (with the database's verdict in parentheses when one was
/// consulted), one line per revoked key, then the summary. `findings` are in path order.
pub fn text(findings: &[Finding], revoked: &[Revoked]) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!(
            "{}:{}:{}: {}",
            f.path, f.line, f.column, f.masked_key
        ));
        if let Some(info) = &f.info {
            out.push_str(&format!(" ({})", describe(info)));
        }
        out.push('\n');
    }
    for r in revoked {
        out.push_str(&revoked_line(r));
        out.push('\n');
    }
    out.push_str(&summary(findings));
    out.push('\n');
    out
}

/// What `--revoke` says about a key it deleted.
pub fn revoked_line(r: &Revoked) -> String {
    format!("Revoked key {} {}.", r.key_id, quoted(&r.key_name))
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    path: &'a str,
    line: u64,
    column: u64,
    masked_key: &'a str,
    key_id: Option<i64>,
    key_name: Option<String>,
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked: Option<bool>,
}

fn json_finding(f: &Finding) -> JsonFinding<'_> {
    JsonFinding {
        path: &f.path,
        line: f.line,
        column: f.column,
        masked_key: &f.masked_key,
        key_id: f.info.as_ref().and_then(|i| i.key_id),
        key_name: f
            .info
            .as_ref()
            .and_then(|i| i.key_name.as_deref())
            .map(|n| redact(n).into_owned()),
        status: f.info.as_ref().map(|i| i.status.as_str()),
        revoked: f.revoked,
    }
}

/// `json`: an array of `{"path","line","column","masked_key","key_id","key_name","status"}`
/// (`null` for the last three without a database), plus `"revoked"` with `--revoke`.
pub fn json(findings: &[Finding]) -> String {
    let items: Vec<JsonFinding> = findings.iter().map(json_finding).collect();
    let mut s = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}

/// A relative URI reference for a path (an absolute path becomes a `file://` URI).
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sarif_result(f: &Finding) -> Value {
    let mut text = format!("A ferrobase API key ({}) is exposed", f.masked_key);
    if let Some(info) = &f.info {
        text.push_str(&format!(" ({})", describe(info)));
    }
    text.push('.');
    let column = i64::try_from(f.column).unwrap_or(i64::MAX);
    json!({
        "ruleId": RULE_ID,
        "ruleIndex": 0,
        "level": "error",
        "message": {"text": text},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": uri(&f.path)},
                "region": {
                    "startLine": f.line,
                    "startColumn": column,
                    "endLine": f.line,
                    "endColumn": column.saturating_add(KEY_LEN as i64),
                }
            }
        }],
        "properties": serde_json::to_value(json_finding(f)).unwrap_or(Value::Null),
    })
}

/// `sarif`: a SARIF 2.1.0 log with one run, one rule and one result per finding. Columns count
/// Unicode code points, as in the other formats.
pub fn sarif(findings: &[Finding]) -> String {
    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ferrobase",
                "version": VERSION,
                "rules": [{
                    "id": RULE_ID,
                    "name": "ExposedApiKey",
                    "shortDescription": {"text": "A ferrobase API key is exposed"},
                    "fullDescription": {"text": HELP},
                    "help": {"text": HELP},
                    "defaultConfiguration": {"level": "error"},
                    "properties": {"tags": ["security", "secret"], "precision": "very-high"},
                }],
            }},
            "columnKind": "unicodeCodePoints",
            "results": findings.iter().map(sarif_result).collect::<Vec<_>>(),
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_keys::scan::lookup::Status;

    const KEY: &str = "mb_0123456789ABCDEFGHIJabcdefghijklmnopqrst27HnjK";

    fn finding(path: &str, line: u64, info: Option<KeyInfo>) -> Finding {
        Finding {
            path: path.into(),
            line,
            column: 3,
            masked_key: crate::api_keys::format::masked("mb_0123"),
            info,
            revoked: None,
        }
    }

    #[test]
    fn text_lines_and_summary() {
        let info = KeyInfo {
            key_id: Some(4),
            key_name: Some("CI \"bot\"".into()),
            status: Status::Active,
        };
        let f = vec![
            finding("a/config.env", 1, Some(info)),
            finding("b.txt", 2, None),
            finding("b.txt", 9, None),
        ];
        let revoked = [Revoked {
            key_id: 4,
            key_name: "CI \"bot\"".into(),
        }];
        let out = text(&f, &revoked);
        let masked = crate::api_keys::format::masked("mb_0123");
        assert_eq!(
            out,
            format!(
                "a/config.env:1:3: {masked} (active, key 4 \"CI \\\"bot\\\"\")\n\
                 b.txt:2:3: {masked}\nb.txt:9:3: {masked}\n\
                 Revoked key 4 \"CI \\\"bot\\\"\".\n3 keys found in 2 files.\n"
            )
        );
        assert_eq!(summary(&[]), "0 keys found in 0 files.");
        assert_eq!(summary(&f[..1]), "1 key found in 1 file.");
    }

    #[test]
    fn json_has_the_seven_members() {
        let v: Value = serde_json::from_str(&json(&[finding("x", 1, None)])).expect("json");
        let obj = v[0].as_object().expect("object");
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "path",
                "line",
                "column",
                "masked_key",
                "key_id",
                "key_name",
                "status"
            ]
        );
        assert_eq!(v[0]["status"], Value::Null);
    }

    #[test]
    fn paths_and_names_never_show_a_key() {
        let p = display_path(Path::new(&format!("./dir/{KEY}.txt")));
        assert_eq!(p, format!("dir/mb_0123{}.txt", "*".repeat(42)));
        assert_eq!(uri("a b/é.txt"), "a%20b/%C3%A9.txt");
        assert_eq!(uri("/tmp/x"), "file:///tmp/x");
        let info = KeyInfo {
            key_id: Some(1),
            key_name: Some(KEY.into()),
            status: Status::Active,
        };
        let f = [finding("x", 1, Some(info))];
        for out in [text(&f, &[]), json(&f), sarif(&f)] {
            assert!(!out.contains(KEY), "{out}");
        }
    }
}
