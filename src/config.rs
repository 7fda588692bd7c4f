//! One typed configuration: defaults → `FERROBASE_*` / Metabase environment variables → CLI flags.
//! Anything invalid is reported as one line naming the exact setting (exit status 2).
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::passwords::{Complexity, PasswordPolicy};
use crate::store::DatabaseUrl;

mod resolve;

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
    /// Seconds a connection may take to send a complete request head, counted from its opening
    /// or from its last response: an idle keep-alive connection, or a client trickling its
    /// headers, is closed after it [default: 75]
    #[arg(long, env = "FERROBASE_IDLE_TIMEOUT")]
    pub idle_timeout: Option<String>,
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

/// `--idle-timeout` when not given: above the 60 s that pooled HTTP clients may keep an idle
/// connection before reusing it (so the server never closes one they are about to use), the
/// value nginx uses for its keep-alive timeout.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 75;

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
    /// How long a connection may wait for, or take to send, its next request head.
    pub idle_timeout: std::time::Duration,
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
            idle_timeout: std::time::Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECS),
        }
    }
}
