//! `ferrobase keys scan [PATH…] [--format text|json|sarif] [--database URL] [--revoke]`
//! (key-restrictions.md §5): finds well-formed API keys in files, optionally looks each one up
//! in the application database by its SHA-256 digest and revokes the live ones. The plain key
//! is never printed or logged: only masked keys, prefixes and ids leave this module.
//!
//! `finder` is the pure byte search, `walk` the parallel file walk, `lookup` the database side
//! and `report` the three output formats; this module resolves the arguments, runs them in
//! order and chooses the exit status.
pub mod finder;
pub mod lookup;
pub mod report;
pub mod walk;

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use crate::api_keys::format::KeyDigest;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ScanArgs, ScanFormat, ServeArgs};
use crate::state::App;
use crate::store::{DatabaseUrl, DynStore};
use lookup::{KeyInfo, Revoked};
use report::Finding;

/// Exit statuses (§5).
pub const NO_KEY: u8 = 0;
pub const FOUND: u8 = 1;
pub const USAGE: u8 = 2;
pub const UNREADABLE: u8 = 3;

/// The exit status of a finished scan: keys found outrank unreadable files (both fail a build;
/// 1 is the one that says a key must be revoked).
pub fn exit_status(findings: usize, unreadable: usize) -> u8 {
    match (findings, unreadable) {
        (0, 0) => NO_KEY,
        (0, _) => UNREADABLE,
        _ => FOUND,
    }
}

/// The application database to consult, resolved as for the other commands (`--database`,
/// `FERROBASE_DATABASE_URL`, `MB_DB_CONNECTION_URI`, else `<data dir>/ferrobase.db`). `None`
/// when none was named and the default file does not exist: the scan then runs offline rather
/// than creating an empty database. A named SQLite file must exist.
fn database(args: &ScanArgs) -> Result<Option<Config>, String> {
    let env = |k: &str| std::env::var(k).ok();
    let named = args.database.is_some() || env("MB_DB_CONNECTION_URI").is_some();
    let serve = ServeArgs {
        database: args.database.clone(),
        data_dir: args.data_dir.clone(),
        ..ServeArgs::default()
    };
    let config = Config::resolve(&serve, env)?;
    match &config.database {
        DatabaseUrl::SqliteFile(p) if !p.is_file() => {
            if named {
                Err(format!(
                    "the application database {} does not exist",
                    p.display()
                ))
            } else {
                Ok(None)
            }
        }
        _ => Ok(Some(config)),
    }
}

/// Runs the command; returns the exit status.
pub fn run(args: &ScanArgs) -> u8 {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    for p in &paths {
        if std::fs::metadata(p).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
            eprintln!(
                "ferrobase: {}: no such file or directory",
                finder::redact(&p.to_string_lossy())
            );
            return USAGE;
        }
    }
    let config = match database(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ferrobase: {e}");
            return USAGE;
        }
    };
    if args.revoke && config.is_none() {
        eprintln!("ferrobase: --revoke needs an application database (--database URL)");
        return USAGE;
    }
    let db = match config.map(open).transpose() {
        Ok(db) => db,
        Err(e) => {
            eprintln!("ferrobase: {e}");
            return USAGE;
        }
    };
    let walked = walk::walk(&paths, 0);
    for e in &walked.errors {
        eprintln!("ferrobase: cannot read {}", finder::redact(e));
    }
    let mut findings: Vec<(Finding, KeyDigest)> = walked
        .files
        .iter()
        .flat_map(|f| {
            let path = report::display_path(&f.path);
            f.hits.iter().map(move |h| {
                let finding = Finding {
                    path: path.clone(),
                    line: h.line,
                    column: h.column,
                    masked_key: crate::api_keys::format::masked(&h.prefix),
                    info: None,
                    revoked: None,
                };
                (finding, h.digest)
            })
        })
        .collect();
    let mut revoked = Vec::new();
    if let Some(db) = db {
        let digests: Vec<KeyDigest> = findings.iter().map(|(_, d)| *d).collect();
        let outcome = db.runtime.block_on(consult(&db, digests, args.revoke));
        db.runtime.block_on(db.app.store.close());
        let (infos, done, error) = match outcome {
            Ok(o) => o,
            Err(e) => {
                eprintln!("ferrobase: {e}");
                return USAGE;
            }
        };
        let ids: BTreeSet<i64> = done.iter().map(|r| r.key_id).collect();
        for (f, d) in &mut findings {
            f.info = infos.get(d).cloned();
            if args.revoke {
                let id = f.info.as_ref().and_then(|i| i.key_id);
                f.revoked = Some(id.is_some_and(|id| ids.contains(&id)));
            }
        }
        revoked = done;
        if let Some(e) = error {
            print(args.format, &findings, &revoked);
            eprintln!("ferrobase: revoking failed: {e}");
            return USAGE;
        }
    }
    print(args.format, &findings, &revoked);
    exit_status(findings.len(), walked.errors.len())
}

fn print(format: ScanFormat, findings: &[(Finding, KeyDigest)], revoked: &[Revoked]) {
    let findings: Vec<Finding> = findings.iter().map(|(f, _)| f.clone()).collect();
    let out = match format {
        ScanFormat::Text => report::text(&findings, revoked),
        ScanFormat::Json => report::json(&findings),
        ScanFormat::Sarif => report::sarif(&findings),
    };
    if format != ScanFormat::Text {
        for r in revoked {
            eprintln!("ferrobase: {}", report::revoked_line(r));
        }
    }
    // A closed pipe (`| head`) is not an error of the scan.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
}

/// An open application database and the runtime its driver needs.
struct Db {
    runtime: tokio::runtime::Runtime,
    app: Arc<App>,
}

fn open(config: Config) -> Result<Db, String> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let store: DynStore = runtime
        .block_on(crate::store::open(&config.database))
        .map_err(|e| e.to_string())?;
    let app = App::new(store, config, Arc::new(SystemClock));
    Ok(Db { runtime, app })
}

type Consulted = (HashMap<KeyDigest, KeyInfo>, Vec<Revoked>, Option<String>);

/// Looks the keys up and, with `revoke`, deletes the live ones.
async fn consult(db: &Db, digests: Vec<KeyDigest>, revoke: bool) -> Result<Consulted, String> {
    let now = SystemClock.now();
    let infos = lookup::look_up(&db.app.store, digests, now)
        .await
        .map_err(|e| e.to_string())?;
    if !revoke {
        return Ok((infos, Vec::new(), None));
    }
    let (done, error) = lookup::revoke(&db.app, &infos).await;
    Ok((infos, done, error.map(|e| e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_found_outrank_unreadable_files() {
        assert_eq!(exit_status(0, 0), NO_KEY);
        assert_eq!(exit_status(3, 0), FOUND);
        assert_eq!(exit_status(0, 1), UNREADABLE);
        assert_eq!(exit_status(2, 1), FOUND);
    }
}
