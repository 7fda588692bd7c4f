//! Logging to standard error with `tracing`. `FERROBASE_LOG` sets the level (`RUST_LOG`, when set,
//! overrides it with full directives); `FERROBASE_LOG_FORMAT=json` switches to JSON lines.
use tracing_subscriber::EnvFilter;

pub fn init(level: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| EnvFilter::new(format!("{level},sqlx=warn")));
    let json = std::env::var("FERROBASE_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
