//! [`Config::resolve`]: CLI flags, then `FERROBASE_*` and Metabase environment variables, then
//! defaults. Settings are read in a fixed order and the first invalid one is reported, as one
//! line naming it.
use std::net::SocketAddr;
use std::path::PathBuf;

use super::{Config, QueryLimits, ServeArgs};
use crate::passwords::{Complexity, PasswordPolicy};
use crate::store::DatabaseUrl;

impl Config {
    /// Resolves `args` and the environment (through `env`, so tests can inject variables).
    pub fn resolve(
        args: &ServeArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, String> {
        let bind = bind(args, &env)?;
        let database = database(args, &env)?;
        let source_address_header = source_address_header(args)?;
        let password_policy = password_policy(&env)?;
        let max_session_age_minutes = max_session_age(&env)?;
        let log = log_level(&env)?;
        let query_timeout_secs = query_timeout(args, &env)?;
        let warehouse_pool_size = warehouse_pool_size(args)?;
        let sample_database = !args.no_sample_database
            && env_bool(&env, "FERROBASE_SAMPLE_DATABASE")?.unwrap_or(true);
        let sqlite_allowed_dirs = sqlite_allowed_dirs(args, &env);
        let query_limits = query_limits(args)?;
        let sync_interval_secs = sync_interval(args)?;
        let sync_on_start =
            !args.no_sync_on_start && env_bool(&env, "FERROBASE_SYNC_ON_START")?.unwrap_or(true);
        let disable_api_key_throttle =
            env_bool(&env, "FERROBASE_DISABLE_API_KEY_THROTTLE")?.unwrap_or(false);
        let disable_session_throttle =
            env_bool(&env, "MB_DISABLE_SESSION_THROTTLE")?.unwrap_or(false);
        let session_cookies = env_bool(&env, "MB_SESSION_COOKIES")?;
        let idle_timeout = idle_timeout(args)?;
        Ok(Config {
            idle_timeout,
            sync_interval_secs,
            sync_on_start,
            query_limits,
            query_timeout_secs,
            sample_database,
            sqlite_allowed_dirs,
            warehouse_pool_size,
            bind,
            database,
            data_dir: args.data_dir.clone(),
            max_upload_bytes: args.max_upload_bytes,
            source_address_header,
            disable_api_key_throttle,
            disable_session_throttle,
            max_session_age_minutes,
            session_cookies,
            password_policy,
            log,
        })
    }
}

/// `--bind`, else Metabase's `MB_JETTY_PORT` (with `MB_JETTY_HOST`), else 127.0.0.1:3000.
fn bind(args: &ServeArgs, env: &impl Fn(&str) -> Option<String>) -> Result<SocketAddr, String> {
    if let Some(b) = &args.bind {
        return parse_bind("--bind", b);
    }
    let Some(port) = env("MB_JETTY_PORT") else {
        return Ok(SocketAddr::from(([127, 0, 0, 1], 3000)));
    };
    let port: u16 = port
        .trim()
        .parse()
        .map_err(|_| format!("MB_JETTY_PORT: {port:?} is not a port number"))?;
    let host = env("MB_JETTY_HOST").unwrap_or_else(|| "127.0.0.1".into());
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let ip: std::net::IpAddr = host
        .parse()
        .map_err(|_| format!("MB_JETTY_HOST: {host:?} is not an IP address"))?;
    Ok(SocketAddr::new(ip, port))
}

/// `--database`, else `MB_DB_CONNECTION_URI`, else the SQLite file of the data directory.
fn database(
    args: &ServeArgs,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<DatabaseUrl, String> {
    match (&args.database, env("MB_DB_CONNECTION_URI")) {
        (Some(url), _) => DatabaseUrl::parse(url).map_err(|e| e.replace("URL", "URL (--database)")),
        (None, Some(url)) => {
            DatabaseUrl::parse(&url).map_err(|e| format!("MB_DB_CONNECTION_URI: {e}"))
        }
        (None, None) => Ok(DatabaseUrl::SqliteFile(args.data_dir.join("ferrobase.db"))),
    }
}

fn source_address_header(args: &ServeArgs) -> Result<Option<http::HeaderName>, String> {
    match &args.source_address_header {
        Some(h) if !h.trim().is_empty() => http::HeaderName::from_bytes(h.trim().as_bytes())
            .map(Some)
            .map_err(|_| format!("--source-address-header: {h:?} is not a header name")),
        _ => Ok(None),
    }
}

/// `MB_PASSWORD_COMPLEXITY` and `MB_PASSWORD_LENGTH`.
fn password_policy(env: &impl Fn(&str) -> Option<String>) -> Result<PasswordPolicy, String> {
    let complexity = match env("MB_PASSWORD_COMPLEXITY") {
        Some(v) => v
            .parse::<Complexity>()
            .map_err(|_| format!("MB_PASSWORD_COMPLEXITY: {v:?} must be weak, normal or strong"))?,
        None => Complexity::Normal,
    };
    let length = match env("MB_PASSWORD_LENGTH") {
        Some(v) => Some(
            v.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("MB_PASSWORD_LENGTH: {v:?} must be a positive integer"))?,
        ),
        None => None,
    };
    Ok(PasswordPolicy::new(complexity, length))
}

/// `MAX_SESSION_AGE`, in minutes (two weeks by default).
fn max_session_age(env: &impl Fn(&str) -> Option<String>) -> Result<i64, String> {
    match env("MAX_SESSION_AGE") {
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("MAX_SESSION_AGE: {v:?} must be a positive number of minutes")),
        None => Ok(20160),
    }
}

/// `FERROBASE_LOG`, lower-cased.
fn log_level(env: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let log = env("FERROBASE_LOG").unwrap_or_else(|| "info".into());
    if !["error", "warn", "info", "debug", "trace"].contains(&log.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "FERROBASE_LOG: {log:?} must be error, warn, info, debug or trace"
        ));
    }
    Ok(log.to_ascii_lowercase())
}

/// `--query-timeout` in seconds, else `MB_DB_QUERY_TIMEOUT_MINUTES`, else 20 minutes.
fn query_timeout(args: &ServeArgs, env: &impl Fn(&str) -> Option<String>) -> Result<u64, String> {
    match (&args.query_timeout, env("MB_DB_QUERY_TIMEOUT_MINUTES")) {
        (Some(v), _) => positive(v)
            .ok_or_else(|| format!("--query-timeout: {v:?} must be a positive number of seconds")),
        (None, Some(m)) => positive(&m).and_then(|m| m.checked_mul(60)).ok_or_else(|| {
            format!("MB_DB_QUERY_TIMEOUT_MINUTES: {m:?} must be a positive number of minutes")
        }),
        (None, None) => Ok(1200),
    }
}

fn warehouse_pool_size(args: &ServeArgs) -> Result<u32, String> {
    match &args.warehouse_pool_size {
        Some(v) => positive(v)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("--warehouse-pool-size: {v:?} must be a positive integer")),
        None => Ok(15),
    }
}

/// `--sqlite-allowed-dir` (repeated), else `FERROBASE_SQLITE_ALLOWED_DIRS` (`:`-separated).
fn sqlite_allowed_dirs(args: &ServeArgs, env: &impl Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    if !args.sqlite_allowed_dir.is_empty() {
        return args.sqlite_allowed_dir.clone();
    }
    env("FERROBASE_SQLITE_ALLOWED_DIRS")
        .map(|v| {
            v.split(':')
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default()
}

/// `--sync-interval`: 0 (off) or 60 seconds to a week.
fn sync_interval(args: &ServeArgs) -> Result<u64, String> {
    match &args.sync_interval {
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if n == 0 || (60..=604_800).contains(&n) => Ok(n),
            _ => Err(format!(
                "--sync-interval: {v:?} must be 0 or an integer from 60 to 604800"
            )),
        },
        None => Ok(3600),
    }
}

/// `--idle-timeout`: 1 second to an hour.
fn idle_timeout(args: &ServeArgs) -> Result<std::time::Duration, String> {
    let secs = match &args.idle_timeout {
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if (1..=3600).contains(&n) => n,
            _ => {
                return Err(format!(
                    "--idle-timeout: {v:?} must be an integer from 1 to 3600"
                ))
            }
        },
        None => super::DEFAULT_IDLE_TIMEOUT_SECS,
    };
    Ok(std::time::Duration::from_secs(secs))
}

fn env_bool(env: &impl Fn(&str) -> Option<String>, name: &str) -> Result<Option<bool>, String> {
    match env(name) {
        None => Ok(None),
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(format!("{name}: {v:?} must be true or false")),
        },
    }
}

/// The query limits of `args`; each must be a positive integer (a cell cap also at most the
/// result cap, and both within what SQLite's length limit can express).
fn query_limits(args: &ServeArgs) -> Result<QueryLimits, String> {
    let d = QueryLimits::default();
    let num = |name: &str, v: &Option<String>, default: u64, max: u64| match v {
        None => Ok(default),
        Some(v) => positive(v)
            .filter(|n| *n <= max)
            .ok_or_else(|| format!("{name}: {v:?} must be an integer from 1 to {max}")),
    };
    let i32_max = i32::MAX as u64;
    let l = QueryLimits {
        max_cell_bytes: num(
            "--query-max-cell-bytes",
            &args.query_max_cell_bytes,
            d.max_cell_bytes,
            i32_max,
        )?,
        max_result_bytes: num(
            "--query-max-result-bytes",
            &args.query_max_result_bytes,
            d.max_result_bytes,
            u64::from(u32::MAX),
        )?,
        concurrency: num(
            "--query-concurrency",
            &args.query_concurrency,
            u64::from(d.concurrency),
            10_000,
        )? as u32,
        // 0 is a valid queue: no waiting at all, a full instance answers 503 at once.
        queue: match &args.query_queue {
            None => d.queue,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= 100_000)
                .ok_or_else(|| {
                    format!("--query-queue: {v:?} must be an integer from 0 to 100000")
                })?,
        },
    };
    if l.max_cell_bytes > l.max_result_bytes {
        return Err(format!(
            "--query-max-cell-bytes: {} must not exceed --query-max-result-bytes ({})",
            l.max_cell_bytes, l.max_result_bytes
        ));
    }
    Ok(l)
}

fn positive(v: &str) -> Option<u64> {
    v.trim().parse::<u64>().ok().filter(|n| *n >= 1)
}

fn parse_bind(what: &str, s: &str) -> Result<SocketAddr, String> {
    s.trim()
        .parse::<SocketAddr>()
        .map_err(|_| format!("{what}: {s:?} is not an ADDRESS:PORT (e.g. 127.0.0.1:3000)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(args: ServeArgs, vars: &[(&str, &str)]) -> Result<Config, String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::resolve(&args, |k| map.get(k).cloned())
    }

    #[test]
    fn idle_timeout_has_a_default_over_a_minute_and_rejects_bad_values() {
        let base = || ServeArgs {
            data_dir: ".".into(),
            ..Default::default()
        };
        let c = resolve(base(), &[]).unwrap();
        assert_eq!(c.idle_timeout, std::time::Duration::from_secs(75));
        assert!(c.idle_timeout > std::time::Duration::from_secs(60));
        for (v, ok) in [
            ("1", true),
            ("3600", true),
            ("0", false),
            ("3601", false),
            ("x", false),
        ] {
            let r = resolve(
                ServeArgs {
                    idle_timeout: Some(v.into()),
                    ..base()
                },
                &[],
            );
            assert_eq!(r.is_ok(), ok, "{v}");
        }
    }

    #[test]
    fn query_limits_have_defaults_and_reject_bad_values() {
        let base = || ServeArgs {
            data_dir: ".".into(),
            ..Default::default()
        };
        let c = resolve(base(), &[]).unwrap();
        assert_eq!((c.sync_interval_secs, c.sync_on_start), (3600, true));
        for (v, ok) in [
            ("0", true),
            ("60", true),
            ("604800", true),
            ("59", false),
            ("x", false),
        ] {
            let r = resolve(
                ServeArgs {
                    sync_interval: Some(v.into()),
                    ..base()
                },
                &[],
            );
            assert_eq!(r.is_ok(), ok, "{v}");
        }
        let c = resolve(
            ServeArgs {
                no_sync_on_start: true,
                ..base()
            },
            &[],
        )
        .unwrap();
        assert!(!c.sync_on_start);
        let c = resolve(base(), &[("FERROBASE_SYNC_ON_START", "false")]).unwrap();
        assert!(!c.sync_on_start);
        let c = resolve(base(), &[]).unwrap();
        assert_eq!(c.query_limits, QueryLimits::default());
        let c = resolve(
            ServeArgs {
                query_max_cell_bytes: Some("1000".into()),
                query_max_result_bytes: Some("5000".into()),
                query_concurrency: Some("2".into()),
                query_queue: Some("3".into()),
                ..base()
            },
            &[],
        )
        .unwrap();
        assert_eq!(
            c.query_limits,
            QueryLimits {
                max_cell_bytes: 1000,
                max_result_bytes: 5000,
                concurrency: 2,
                queue: 3
            }
        );
        for (args, name) in [
            (
                ServeArgs {
                    query_max_cell_bytes: Some("0".into()),
                    ..base()
                },
                "--query-max-cell-bytes",
            ),
            (
                ServeArgs {
                    query_concurrency: Some("many".into()),
                    ..base()
                },
                "--query-concurrency",
            ),
            (
                ServeArgs {
                    query_max_cell_bytes: Some("9000".into()),
                    query_max_result_bytes: Some("8000".into()),
                    ..base()
                },
                "--query-max-cell-bytes",
            ),
        ] {
            let e = resolve(args, &[]).unwrap_err();
            assert!(e.starts_with(name), "{e}");
        }
    }

    #[test]
    fn defaults() {
        let c = resolve(
            ServeArgs {
                data_dir: ".".into(),
                ..Default::default()
            },
            &[],
        )
        .unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(c.database, DatabaseUrl::SqliteFile("./ferrobase.db".into()));
        assert_eq!(c.max_session_age_minutes, 20160);
    }

    #[test]
    fn metabase_fallbacks_and_precedence() {
        let c = resolve(
            ServeArgs::default(),
            &[
                ("MB_JETTY_PORT", "4000"),
                ("MB_DB_CONNECTION_URI", "jdbc:postgresql://u@h/db"),
            ],
        )
        .unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:4000");
        assert!(matches!(c.database, DatabaseUrl::Postgres(_)));
        let c = resolve(
            ServeArgs {
                bind: Some("0.0.0.0:5000".into()),
                ..Default::default()
            },
            &[("MB_JETTY_PORT", "4000")],
        )
        .unwrap();
        assert_eq!(c.bind.to_string(), "0.0.0.0:5000");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let e = resolve(
            ServeArgs {
                bind: Some("nope".into()),
                ..Default::default()
            },
            &[],
        );
        assert!(e.unwrap_err().starts_with("--bind"));
        let e = resolve(ServeArgs::default(), &[("MB_SESSION_COOKIES", "yes")]);
        assert!(e.unwrap_err().starts_with("MB_SESSION_COOKIES"));
        let e = resolve(ServeArgs::default(), &[("MB_PASSWORD_COMPLEXITY", "hard")]);
        assert!(e.unwrap_err().starts_with("MB_PASSWORD_COMPLEXITY"));
        let e = resolve(
            ServeArgs {
                database: Some("mysql://x".into()),
                ..Default::default()
            },
            &[],
        );
        assert!(e.unwrap_err().contains("--database"));
        let e = resolve(
            ServeArgs {
                query_timeout: Some("0".into()),
                ..Default::default()
            },
            &[],
        );
        assert!(e.unwrap_err().starts_with("--query-timeout"));
        let e = resolve(
            ServeArgs::default(),
            &[("FERROBASE_SAMPLE_DATABASE", "nope")],
        );
        assert!(e.unwrap_err().starts_with("FERROBASE_SAMPLE_DATABASE"));
    }

    #[test]
    fn query_options() {
        let c = resolve(
            ServeArgs::default(),
            &[("MB_DB_QUERY_TIMEOUT_MINUTES", "2")],
        )
        .unwrap();
        assert_eq!(c.query_timeout_secs, 120);
        assert!(c.sample_database);
        assert_eq!(c.warehouse_pool_size, 15);
        let c = resolve(
            ServeArgs {
                query_timeout: Some("5".into()),
                no_sample_database: true,
                ..Default::default()
            },
            &[
                ("MB_DB_QUERY_TIMEOUT_MINUTES", "2"),
                ("FERROBASE_SQLITE_ALLOWED_DIRS", "/a:/b"),
            ],
        )
        .unwrap();
        assert_eq!(c.query_timeout_secs, 5);
        assert!(!c.sample_database);
        assert_eq!(
            c.sqlite_allowed_dirs,
            vec![PathBuf::from("/a"), PathBuf::from("/b")]
        );
    }
}
