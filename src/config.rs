//! One typed configuration: defaults → `FERROBASE_*` / Metabase environment variables → CLI flags.
//! Anything invalid is reported as one line naming the exact setting (exit status 2).
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::passwords::{Complexity, PasswordPolicy};
use crate::store::DatabaseUrl;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const METABASE_TAG: &str = "v0.58.0";
const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (Metabase API v0.58.0)");

#[derive(Debug, Parser)]
#[command(
    name = "ferrobase",
    version = LONG_VERSION,
    about = "A Metabase-compatible analytics API server built around first-class API keys"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP server (API and web UI).
    Serve(ServeArgs),
    /// Export content, databases and settings as a YAML tree into DIR (serialization).
    Export(ExportArgs),
    /// Import a YAML tree (a directory, .tar.gz, .tgz or .tar) into the application database.
    Import(ImportArgs),
    /// Work on API keys offline.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Find ferrobase API keys in files (leak scanner).
    ///
    /// Exit status 0: no key found; 1: keys found; 2: usage or configuration error; 3: a file
    /// could not be read.
    Scan(ScanArgs),
}

/// Output of `ferrobase keys scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Files and directories to scan [default: .]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,
    /// Application database to look keys up in: sqlite://PATH or postgres://…
    /// [default: the configured one, if any]
    #[arg(long, env = "FERROBASE_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// Data directory holding the default SQLite application database
    #[arg(long, env = "FERROBASE_DATA_DIR", default_value = ".")]
    pub data_dir: PathBuf,
    /// Delete every active or retired key found (needs an application database)
    #[arg(long)]
    pub revoke: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Directory to write the tree into (created if needed)
    pub dir: PathBuf,
    /// Collections to export (integer ids or entity ids), comma-separated or repeated
    #[arg(short = 'c', long = "collection", value_delimiter = ',')]
    pub collections: Vec<String>,
    /// Export no content (all_collections=false)
    #[arg(short = 'C', long)]
    pub no_collections: bool,
    /// Do not write settings.yaml
    #[arg(short = 'S', long)]
    pub no_settings: bool,
    /// Do not write database files
    #[arg(short = 'D', long)]
    pub no_data_model: bool,
    /// Accepted; has no effect (ferrobase keeps no field values)
    #[arg(short = 'f', long)]
    pub include_field_values: bool,
    /// Include database connection details in plain text
    #[arg(short = 's', long)]
    pub include_database_secrets: bool,
    /// Skip entities that cannot be exported
    #[arg(short = 'e', long)]
    pub continue_on_error: bool,
    /// Add cause chains to error lines
    #[arg(long)]
    pub full_stacktrace: bool,
    #[command(flatten)]
    pub common: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// A directory, or a .tar.gz, .tgz or .tar file
    pub path: PathBuf,
    /// Keep loading after an entity fails
    #[arg(short = 'e', long)]
    pub continue_on_error: bool,
    /// Add cause chains to error lines
    #[arg(long)]
    pub full_stacktrace: bool,
    #[command(flatten)]
    pub common: ServeArgs,
}

#[derive(Debug, Clone, Args, Default)]
pub struct ServeArgs {
    /// Address and port of the HTTP listener [default: 127.0.0.1:3000]
    #[arg(long, env = "FERROBASE_BIND")]
    pub bind: Option<String>,
    /// Application database URL: sqlite://PATH, sqlite::memory: or postgres://…
    /// [default: sqlite://<data dir>/ferrobase.db]
    #[arg(long, env = "FERROBASE_DATABASE_URL")]
    pub database: Option<String>,
    /// Data directory (default SQLite file, temporary files)
    #[arg(long, env = "FERROBASE_DATA_DIR", default_value = ".")]
    pub data_dir: PathBuf,
    /// Largest accepted file upload, in bytes
    #[arg(
        long,
        env = "FERROBASE_MAX_UPLOAD_BYTES",
        default_value_t = 1_073_741_824
    )]
    pub max_upload_bytes: u64,
    /// Header set by a trusted reverse proxy that carries the client IP (e.g. X-Forwarded-For)
    #[arg(long, env = "FERROBASE_SOURCE_ADDRESS_HEADER")]
    pub source_address_header: Option<String>,
    /// Query timeout in seconds [default: 1200]
    #[arg(long, env = "FERROBASE_QUERY_TIMEOUT")]
    pub query_timeout: Option<String>,
    /// Do not create the Sample Database when initialising a new application database
    #[arg(long)]
    pub no_sample_database: bool,
    /// Directory that SQLite warehouse files must lie in (repeatable)
    #[arg(long = "sqlite-allowed-dir")]
    pub sqlite_allowed_dir: Vec<PathBuf>,
    /// Maximum connections per warehouse database [default: 15]
    #[arg(long, env = "FERROBASE_WAREHOUSE_POOL_SIZE")]
    pub warehouse_pool_size: Option<String>,
    /// Largest value (cell) a query may return, in bytes [default: 4194304]
    #[arg(long, env = "FERROBASE_QUERY_MAX_CELL_BYTES")]
    pub query_max_cell_bytes: Option<String>,
    /// Largest interactive query result, and largest row of a download, in bytes [default: 67108864]
    #[arg(long, env = "FERROBASE_QUERY_MAX_RESULT_BYTES")]
    pub query_max_result_bytes: Option<String>,
    /// Queries running at once on this instance [default: 8]
    #[arg(long, env = "FERROBASE_QUERY_CONCURRENCY")]
    pub query_concurrency: Option<String>,
    /// Queries waiting for a free slot before new ones get 503 [default: 32]
    #[arg(long, env = "FERROBASE_QUERY_QUEUE")]
    pub query_queue: Option<String>,
    /// Seconds between periodic syncs of each database; 0 disables [default: 3600]
    #[arg(long, env = "FERROBASE_SYNC_INTERVAL")]
    pub sync_interval: Option<String>,
    /// Do not sync stale databases at start-up
    #[arg(long)]
    pub no_sync_on_start: bool,
}

/// Bounds on what one query may make the process hold (docs/security.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Largest cell, in bytes (also SQLite's `SQLITE_LIMIT_LENGTH`).
    pub max_cell_bytes: u64,
    /// Largest interactive result (sum of its cells), and largest row of a download.
    pub max_result_bytes: u64,
    /// Queries running at once.
    pub concurrency: u32,
    /// Queries waiting for a slot; one more gets `503`.
    pub queue: u32,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_cell_bytes: 4 << 20,
            max_result_bytes: 64 << 20,
            concurrency: 8,
            queue: 32,
        }
    }
}

/// The resolved configuration the application runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub database: DatabaseUrl,
    pub data_dir: PathBuf,
    pub max_upload_bytes: u64,
    pub source_address_header: Option<http::HeaderName>,
    pub disable_api_key_throttle: bool,
    pub disable_session_throttle: bool,
    pub max_session_age_minutes: i64,
    pub session_cookies: Option<bool>,
    pub password_policy: PasswordPolicy,
    pub log: String,
    /// Query timeout (queries.md §4.7).
    pub query_timeout_secs: u64,
    /// Seconds between periodic syncs (data-model.md §2.1); `0` disables them.
    pub sync_interval_secs: u64,
    /// Sync stale databases at start-up.
    pub sync_on_start: bool,
    /// Create the Sample Database on a new application database (queries.md §1.8).
    pub sample_database: bool,
    /// Directories SQLite warehouse files must lie in; empty = unrestricted (queries.md §1.1).
    pub sqlite_allowed_dirs: Vec<PathBuf>,
    /// Maximum connections per warehouse database.
    pub warehouse_pool_size: u32,
    /// Per-query memory bounds and the admission limit.
    pub query_limits: QueryLimits,
}

impl Config {
    /// Defaults suitable for tests: in-memory SQLite, port 0.
    pub fn for_tests() -> Config {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: DatabaseUrl::SqliteMemory,
            data_dir: PathBuf::from("."),
            max_upload_bytes: 1 << 30,
            source_address_header: None,
            disable_api_key_throttle: false,
            disable_session_throttle: false,
            max_session_age_minutes: 20160,
            session_cookies: None,
            password_policy: PasswordPolicy::new(Complexity::Normal, None),
            log: "info".into(),
            query_timeout_secs: 1200,
            sync_interval_secs: 3600,
            sync_on_start: true,
            sample_database: true,
            sqlite_allowed_dirs: Vec::new(),
            warehouse_pool_size: 15,
            query_limits: QueryLimits::default(),
        }
    }

    /// Resolves `args` and the environment (through `env`, so tests can inject variables).
    pub fn resolve(
        args: &ServeArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, String> {
        let bind = match &args.bind {
            Some(b) => parse_bind("--bind", b)?,
            None => match env("MB_JETTY_PORT") {
                Some(port) => {
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
                    SocketAddr::new(ip, port)
                }
                None => SocketAddr::from(([127, 0, 0, 1], 3000)),
            },
        };
        let database = match (&args.database, env("MB_DB_CONNECTION_URI")) {
            (Some(url), _) => {
                DatabaseUrl::parse(url).map_err(|e| e.replace("URL", "URL (--database)"))?
            }
            (None, Some(url)) => {
                DatabaseUrl::parse(&url).map_err(|e| format!("MB_DB_CONNECTION_URI: {e}"))?
            }
            (None, None) => DatabaseUrl::SqliteFile(args.data_dir.join("ferrobase.db")),
        };
        let source_address_header = match &args.source_address_header {
            Some(h) if !h.trim().is_empty() => Some(
                http::HeaderName::from_bytes(h.trim().as_bytes())
                    .map_err(|_| format!("--source-address-header: {h:?} is not a header name"))?,
            ),
            _ => None,
        };
        let complexity = match env("MB_PASSWORD_COMPLEXITY") {
            Some(v) => v.parse::<Complexity>().map_err(|_| {
                format!("MB_PASSWORD_COMPLEXITY: {v:?} must be weak, normal or strong")
            })?,
            None => Complexity::Normal,
        };
        let length = match env("MB_PASSWORD_LENGTH") {
            Some(v) => Some(
                v.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| {
                        format!("MB_PASSWORD_LENGTH: {v:?} must be a positive integer")
                    })?,
            ),
            None => None,
        };
        let max_session_age_minutes = match env("MAX_SESSION_AGE") {
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    format!("MAX_SESSION_AGE: {v:?} must be a positive number of minutes")
                })?,
            None => 20160,
        };
        let log = env("FERROBASE_LOG").unwrap_or_else(|| "info".into());
        if !["error", "warn", "info", "debug", "trace"].contains(&log.to_ascii_lowercase().as_str())
        {
            return Err(format!(
                "FERROBASE_LOG: {log:?} must be error, warn, info, debug or trace"
            ));
        }
        let query_timeout_secs = match (&args.query_timeout, env("MB_DB_QUERY_TIMEOUT_MINUTES")) {
            (Some(v), _) => positive(v).ok_or_else(|| {
                format!("--query-timeout: {v:?} must be a positive number of seconds")
            })?,
            (None, Some(m)) => positive(&m)
                .and_then(|m| m.checked_mul(60))
                .ok_or_else(|| {
                    format!(
                        "MB_DB_QUERY_TIMEOUT_MINUTES: {m:?} must be a positive number of minutes"
                    )
                })?,
            (None, None) => 1200,
        };
        let warehouse_pool_size = match &args.warehouse_pool_size {
            Some(v) => positive(v)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    format!("--warehouse-pool-size: {v:?} must be a positive integer")
                })?,
            None => 15,
        };
        let sample_database = !args.no_sample_database
            && env_bool(&env, "FERROBASE_SAMPLE_DATABASE")?.unwrap_or(true);
        let sqlite_allowed_dirs = if args.sqlite_allowed_dir.is_empty() {
            env("FERROBASE_SQLITE_ALLOWED_DIRS")
                .map(|v| {
                    v.split(':')
                        .filter(|p| !p.is_empty())
                        .map(PathBuf::from)
                        .collect()
                })
                .unwrap_or_default()
        } else {
            args.sqlite_allowed_dir.clone()
        };
        let query_limits = query_limits(args)?;
        let sync_interval_secs = match &args.sync_interval {
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if n == 0 || (60..=604_800).contains(&n) => n,
                _ => {
                    return Err(format!(
                        "--sync-interval: {v:?} must be 0 or an integer from 60 to 604800"
                    ))
                }
            },
            None => 3600,
        };
        let sync_on_start =
            !args.no_sync_on_start && env_bool(&env, "FERROBASE_SYNC_ON_START")?.unwrap_or(true);
        Ok(Config {
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
            disable_api_key_throttle: env_bool(&env, "FERROBASE_DISABLE_API_KEY_THROTTLE")?
                .unwrap_or(false),
            disable_session_throttle: env_bool(&env, "MB_DISABLE_SESSION_THROTTLE")?
                .unwrap_or(false),
            max_session_age_minutes,
            session_cookies: env_bool(&env, "MB_SESSION_COOKIES")?,
            password_policy: PasswordPolicy::new(complexity, length),
            log: log.to_ascii_lowercase(),
        })
    }
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
