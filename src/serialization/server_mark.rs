//! The "a server holds this SQLite database" marker (serialization.md §6): `ferrobase serve`
//! writes `<db file>.serve.pid` with its process id and removes it on shutdown; `ferrobase
//! import` refuses to run while the file names a live process.
use std::path::{Path, PathBuf};

use crate::store::DatabaseUrl;

pub const IN_USE: &str = "The application database is in use by a running ferrobase server; \
stop it or use POST /api/ee/serialization/import.";

fn mark_path(url: &DatabaseUrl) -> Option<PathBuf> {
    match url {
        DatabaseUrl::SqliteFile(p) => {
            let mut s = p.as_os_str().to_owned();
            s.push(".serve.pid");
            Some(PathBuf::from(s))
        }
        _ => None,
    }
}

/// Held by a running server; removes the marker when dropped.
pub struct ServerMark(Option<PathBuf>);

impl ServerMark {
    /// Writes the marker for a SQLite file database (nothing for other databases).
    pub fn create(url: &DatabaseUrl) -> ServerMark {
        let path = mark_path(url);
        if let Some(p) = &path {
            if let Err(e) = std::fs::write(p, std::process::id().to_string()) {
                tracing::warn!(error = %e, "cannot write the server marker file");
            }
        }
        ServerMark(path)
    }
}

impl Drop for ServerMark {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Does a live server hold this database? A marker of a dead process (a crash) is ignored.
pub fn held_by_server(url: &DatabaseUrl) -> bool {
    let Some(path) = mark_path(url) else {
        return false;
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return false;
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        return false;
    };
    if pid == std::process::id() {
        return false;
    }
    let proc = Path::new("/proc");
    if proc.is_dir() {
        proc.join(pid.to_string()).exists()
    } else {
        true
    }
}
