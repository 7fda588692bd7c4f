//! `ferrobase export DIR` and `ferrobase import PATH` (serialization.md §6). They work on the
//! application database directly, print the log to standard output and return the exit code.
use std::path::Path;

use super::export::{self, ExportError, ExportOptions};
use super::import::{self, ImportOptions, Status};
use super::progress::{Progress, TerminalBar};
use super::select::CollectionRef;
use crate::config::{Config, ExportArgs, ImportArgs};
use crate::store::DynStore;

/// Exit codes (§6).
pub const OK: u8 = 0;
pub const FAILED: u8 = 1;
pub const USAGE: u8 = 2;
pub const PARTIAL: u8 = 3;

pub async fn export_cmd(config: &Config, args: &ExportArgs) -> u8 {
    let mut collections = Vec::new();
    for raw in &args.collections {
        match CollectionRef::parse(raw.trim()) {
            Some(r) => collections.push(r),
            None => {
                eprintln!("ferrobase: --collection {raw:?} is neither an id nor an entity id");
                return USAGE;
            }
        }
    }
    let opts = ExportOptions {
        collections,
        all_collections: !args.no_collections,
        settings: !args.no_settings,
        data_model: !args.no_data_model,
        database_secrets: args.include_database_secrets,
        continue_on_error: args.continue_on_error,
        full_stacktrace: args.full_stacktrace,
        scope: None,
    };
    let store = match crate::store::open(&config.database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ferrobase: {e}");
            return USAGE;
        }
    };
    let result = export::run(&store, &opts).await;
    store.close().await;
    let tree = match result {
        Ok(t) => t,
        Err(ExportError::NotFound(m)) | Err(ExportError::Personal(m)) => {
            eprintln!("ferrobase: {m}");
            return FAILED;
        }
        Err(ExportError::Store(e)) => {
            eprintln!("ferrobase: {e}");
            return FAILED;
        }
        Err(ExportError::Failed(log)) => {
            print!("{log}");
            eprintln!("ferrobase: the export failed; nothing was written");
            return FAILED;
        }
    };
    if let Err(e) = write_tree(&args.dir, &tree.files, &TerminalBar::new()) {
        eprintln!("ferrobase: cannot write {}: {e}", args.dir.display());
        return FAILED;
    }
    print!("{}", tree.log);
    if tree
        .log
        .lines()
        .any(|l| l.starts_with("skipped ") || l.starts_with("failed "))
    {
        PARTIAL
    } else {
        OK
    }
}

/// Replaces the export's own entries in `dir` and writes the new tree; other files stay.
pub fn write_tree(
    dir: &Path,
    files: &std::collections::BTreeMap<String, Vec<u8>>,
    progress: &dyn Progress,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for d in ["collections", "databases"] {
        let p = dir.join(d);
        if p.is_dir() {
            std::fs::remove_dir_all(&p)?;
        }
    }
    for f in ["settings.yaml", "export.log"] {
        let p = dir.join(f);
        if p.is_file() {
            std::fs::remove_file(&p)?;
        }
    }
    progress.start("writing", files.len() as u64);
    let written = files.iter().try_for_each(|(rel, data)| {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, data)?;
        progress.advance(rel);
        Ok(())
    });
    progress.finish();
    written
}

/// What a server's start does to an application database before import: the Sample Database
/// decided, created and synced (data-model.md §2.11), so that the table and field files of an
/// archive find the metadata they apply to in a fresh application database. Databases of the
/// archive itself are never synced by import.
async fn initialise(store: &DynStore, config: &Config) -> anyhow::Result<()> {
    let app = crate::state::App::new(
        store.clone(),
        config.clone(),
        std::sync::Arc::new(crate::clock::SystemClock),
    );
    crate::databases::startup(&app).await?;
    crate::data_model::sync::schedule::sync_new_sample(&app).await
}

pub async fn import_cmd(config: &Config, args: &ImportArgs) -> u8 {
    if super::server_mark::held_by_server(&config.database) {
        eprintln!("{}", super::server_mark::IN_USE);
        return USAGE;
    }
    let max = config.max_upload_bytes.saturating_mul(10);
    let mut log = Vec::new();
    // An archive is unpacked into a private directory (mode 0700) under the system's temporary
    // directory (`TMPDIR`), removed when the command ends: not under the data directory, which
    // defaults to the working directory, where a stray `tmp/` would be left behind.
    let mut unpacked: Option<tempfile::TempDir> = None;
    let root = if args.path.is_dir() {
        args.path.clone()
    } else {
        let dir = match tempfile::Builder::new()
            .prefix("ferrobase-import-")
            .tempdir()
        {
            Ok(d) => d,
            Err(e) => {
                eprintln!("ferrobase: cannot create a temporary directory: {e}");
                return USAGE;
            }
        };
        if let Err(e) = std::fs::File::open(&args.path) {
            eprintln!("ferrobase: cannot read {}: {e}", args.path.display());
            return USAGE;
        }
        if let Err(e) = super::unpack::unpack_to_dir(&args.path, dir.path(), max, &mut log) {
            eprintln!("ferrobase: {e}");
            return FAILED;
        }
        let root = dir.path().to_path_buf();
        unpacked = Some(dir);
        root
    };
    let source = match super::source::Source::find(&root, max) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ferrobase: cannot read {}: {e}", args.path.display());
            return USAGE;
        }
    };
    let store: DynStore = match crate::store::open(&config.database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ferrobase: {e}");
            return USAGE;
        }
    };
    let lock = match store.try_import_lock().await {
        Ok(Some(l)) => l,
        Ok(None) => {
            store.close().await;
            eprintln!("ferrobase: {}", super::import_api::BUSY);
            return USAGE;
        }
        Err(e) => {
            store.close().await;
            eprintln!("ferrobase: {e}");
            return USAGE;
        }
    };
    if let Err(e) = initialise(&store, config).await {
        lock.release().await;
        store.close().await;
        eprintln!("ferrobase: {e}");
        return USAGE;
    }
    let creator = match store.read().await {
        Ok(mut tx) => tx.serdes_oldest_admin().await.ok().flatten(),
        Err(_) => None,
    };
    let opts = ImportOptions {
        continue_on_error: args.continue_on_error,
        full_stacktrace: args.full_stacktrace,
        default_creator: creator,
    };
    let now = chrono::Utc::now().timestamp_micros();
    let result = match source {
        None => import::ImportResult::no_source(),
        Some(source) => {
            import::run(&store, config, source, &opts, log, now, &TerminalBar::new()).await
        }
    };
    lock.release().await;
    store.close().await;
    drop(unpacked);
    print!("{}", result.log);
    match result.status {
        Status::Ok => OK,
        Status::Partial => PARTIAL,
        Status::Failed => FAILED,
        Status::NoSource => {
            eprintln!("ferrobase: {}", import::NO_SOURCE);
            FAILED
        }
    }
}
