//! Connection details (queries.md §1.1): validation, the SQLite path rules, secrets masking,
//! and the resolved [`Target`] the query engine connects to.
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::config::Config;
use crate::store::DatabaseUrl;
use crate::warehouse::engine::Target;
use crate::warehouse::postgres::PgTarget;
use crate::warehouse::sqlite::SqliteFile;
use crate::warehouse::sqlite_guard::PathPolicy;

pub const ENGINES: &[&str] = &["sqlite", "postgres"];
/// The secret keys of `details`, masked in responses.
pub const SECRETS: &[&str] = &["password"];
pub const MASK: &str = "**MetabasePass**";
/// `details` key by which an admin accepts a privileged PostgreSQL role (queries.md §1.5).
pub const ALLOW_PRIVILEGED: &str = "allow-privileged-role";
pub const NON_BLANK: &str = "value must be a non-blank string.";

/// Field errors keyed by `details` key.
pub type FieldErrors = Vec<(String, String)>;

/// `details` with secrets replaced by the mask.
pub fn masked(details: &Value) -> Value {
    let mut d = details.clone();
    if let Some(m) = d.as_object_mut() {
        for k in SECRETS {
            if m.get(*k).is_some_and(|x| !x.is_null()) {
                m.insert((*k).into(), json!(MASK));
            }
        }
    }
    d
}

/// A `PUT` that sends the mask as a secret keeps the stored value.
pub fn unmask(sent: &Map<String, Value>, stored: &Value) -> Map<String, Value> {
    let mut out = sent.clone();
    for k in SECRETS {
        if out.get(*k).and_then(Value::as_str) == Some(MASK) {
            match stored.get(*k) {
                Some(v) => {
                    out.insert((*k).into(), v.clone());
                }
                None => {
                    out.remove(*k);
                }
            }
        }
    }
    out
}

/// Where the Sample Database file lives: the data directory, or the per-release cache for an
/// in-memory application database (which has no data of its own to keep).
pub fn sample_path(config: &Config) -> PathBuf {
    match config.database {
        DatabaseUrl::SqliteMemory => crate::databases::sample::cache_path(),
        _ => std::path::absolute(&config.data_dir)
            .unwrap_or_else(|_| config.data_dir.clone())
            .join(crate::databases::sample::FILE_NAME),
    }
}

fn text<'a>(d: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    d.get(key).and_then(Value::as_str)
}

fn required(d: &Map<String, Value>, key: &str, errs: &mut FieldErrors) -> Option<String> {
    match text(d, key) {
        Some(s) if !s.trim().is_empty() => Some(s.to_string()),
        _ => {
            errs.push((key.into(), NON_BLANK.into()));
            None
        }
    }
}

/// The SQLite path policy of this configuration (queries.md §1.1), applied when details are
/// saved and again at every open of the file.
pub fn path_policy(config: &Config) -> PathPolicy {
    let app_db = match &config.database {
        DatabaseUrl::SqliteFile(p) => Some(p.as_path()),
        _ => None,
    };
    PathPolicy::new(&config.data_dir, app_db, &config.sqlite_allowed_dirs)
}

/// The SQLite path rules of §1.1 (the connection test checks the file's content).
fn sqlite_path(config: &Config, d: &Map<String, Value>, errs: &mut FieldErrors) -> Option<PathBuf> {
    let raw = required(d, "db", errs)?;
    let path = PathBuf::from(&raw);
    match path_policy(config).check(&path) {
        Ok(_) => Some(path),
        Err(msg) => {
            errs.push(("db".into(), msg.into()));
            None
        }
    }
}

fn sqlite_file(config: &Config, path: PathBuf) -> SqliteFile {
    SqliteFile::Registered {
        path,
        policy: Arc::new(path_policy(config)),
    }
}

/// An optional boolean detail (absent: `false`).
fn flag(d: &Map<String, Value>, key: &str, errs: &mut FieldErrors) -> bool {
    match d.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errs.push((key.into(), "value must be a boolean.".into()));
            false
        }
    }
}

/// `port`: a number or numeric string in 1–65535 (absent: 5432).
fn port(d: &Map<String, Value>, errs: &mut FieldErrors) -> Option<u16> {
    let port = match d.get("port") {
        None | Some(Value::Null) => Some(5432),
        Some(Value::Number(n)) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
        Some(Value::String(s)) => s.trim().parse::<u16>().ok(),
        Some(_) => None,
    }
    .filter(|p| *p > 0);
    if port.is_none() {
        errs.push(("port".into(), "value must be a valid port number.".into()));
    }
    port
}

/// `ssl-mode`, or from `ssl` when absent.
fn ssl_mode(d: &Map<String, Value>, ssl: bool, errs: &mut FieldErrors) -> PgSslMode {
    match text(d, "ssl-mode") {
        None if ssl => PgSslMode::Require,
        None => PgSslMode::Disable,
        Some("disable") => PgSslMode::Disable,
        Some("allow") => PgSslMode::Allow,
        Some("prefer") => PgSslMode::Prefer,
        Some("require") => PgSslMode::Require,
        Some("verify-ca") => PgSslMode::VerifyCa,
        Some("verify-full") => PgSslMode::VerifyFull,
        Some(_) => {
            errs.push((
                "ssl-mode".into(),
                "value must be one of: disable, allow, prefer, require, verify-ca, verify-full."
                    .into(),
            ));
            PgSslMode::Disable
        }
    }
}

fn postgres(d: &Map<String, Value>, errs: &mut FieldErrors) -> Option<PgTarget> {
    let host = required(d, "host", errs);
    let dbname = required(d, "dbname", errs);
    let user = required(d, "user", errs);
    let port = port(d, errs);
    let password = match d.get("password") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errs.push(("password".into(), "value must be a string.".into()));
            None
        }
    };
    let ssl = flag(d, "ssl", errs);
    let mode = ssl_mode(d, ssl, errs);
    let allow_privileged = flag(d, ALLOW_PRIVILEGED, errs);
    let (host, dbname, user, port) = (host?, dbname?, user?, port?);
    let mut opts = PgConnectOptions::new()
        .host(&host)
        .port(port)
        .database(&dbname)
        .username(&user)
        .ssl_mode(mode)
        .application_name("ferrobase");
    if let Some(p) = password {
        opts = opts.password(&p);
    }
    if let Some(cert) = text(d, "ssl-root-cert").filter(|c| !c.trim().is_empty()) {
        opts = opts.ssl_root_cert_from_pem(cert.as_bytes().to_vec());
    }
    Some(PgTarget {
        opts,
        allow_privileged,
    })
}

/// Validates `details` for `engine` and resolves them. The Sample Database's file is where
/// [`sample_path`] says, whatever its stored details.
pub fn target(
    config: &Config,
    engine: &str,
    details: &Value,
    is_sample: bool,
) -> Result<Target, FieldErrors> {
    let mut errs = FieldErrors::new();
    if is_sample {
        return Ok(Target::Sqlite(SqliteFile::Sample(sample_path(config))));
    }
    let empty = Map::new();
    let d = details.as_object().unwrap_or(&empty);
    let t = match engine {
        "sqlite" => {
            sqlite_path(config, d, &mut errs).map(|p| Target::Sqlite(sqlite_file(config, p)))
        }
        "postgres" => postgres(d, &mut errs).map(|t| Target::Postgres(Box::new(t))),
        _ => None,
    };
    match t {
        Some(t) if errs.is_empty() => Ok(t),
        _ => Err(errs),
    }
}

/// The target of a stored database when running a query. The path rules run again at every
/// open (a file swapped or moved since it was saved fails there, `db`, 502).
pub fn stored_target(
    config: &Config,
    engine: &str,
    details: &str,
    is_sample: bool,
) -> Option<Target> {
    if is_sample {
        return Some(Target::Sqlite(SqliteFile::Sample(sample_path(config))));
    }
    let details: Value = serde_json::from_str(details).ok()?;
    match engine {
        "sqlite" => text(details.as_object()?, "db")
            .map(|p| Target::Sqlite(sqlite_file(config, PathBuf::from(p)))),
        "postgres" => {
            let mut errs = FieldErrors::new();
            postgres(details.as_object()?, &mut errs).map(|t| Target::Postgres(Box::new(t)))
        }
        _ => None,
    }
}
