//! The file side of the leak scanner: a parallel walk of the given paths that honours
//! `.gitignore`, `.ignore` and git's exclude files in any directory (inside a git repository or
//! not), includes hidden files (`.env` is where keys leak) but not `.git` itself, never follows
//! symbolic links, and streams each regular file through [`finder::scan_stream`].
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use ignore::{WalkBuilder, WalkState};

use super::finder::{self, Found, Scanned};

/// The keys of one file.
#[derive(Debug)]
pub struct FileHits {
    pub path: PathBuf,
    pub hits: Vec<Found>,
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walked {
    /// Files holding at least one key, in path order.
    pub files: Vec<FileHits>,
    /// One message per file or directory that could not be read, sorted.
    pub errors: Vec<String>,
}

enum Event {
    Hits(FileHits),
    Error(String),
}

/// Walks `paths` on `threads` threads (0: one per core).
pub fn walk(paths: &[PathBuf], threads: usize) -> Walked {
    let Some((first, rest)) = paths.split_first() else {
        return Walked::default();
    };
    let mut builder = WalkBuilder::new(first);
    for p in rest {
        builder.add(p);
    }
    builder
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .threads(threads)
        .filter_entry(|e| e.file_name() != std::ffi::OsStr::new(".git"));
    let (send, receive) = mpsc::channel();
    builder.build_parallel().run(|| {
        let send = send.clone();
        let mut buf = vec![0u8; finder::CHUNK];
        Box::new(move |entry| {
            let mut events = Vec::new();
            match entry {
                Err(e) => events.push(Event::Error(e.to_string())),
                Ok(entry) => {
                    // An ignore file that could not be read. A bad pattern in one is not an
                    // error (nor is it for git).
                    if let Some(e) = entry.error().filter(|e| e.io_error().is_some()) {
                        events.push(Event::Error(e.to_string()));
                    }
                    if entry.file_type().is_some_and(|t| t.is_file()) {
                        events.extend(scan_file(entry.path(), &mut buf));
                    }
                }
            }
            for ev in events {
                if send.send(ev).is_err() {
                    return WalkState::Quit;
                }
            }
            WalkState::Continue
        })
    });
    drop(send);
    let mut out = Walked::default();
    for ev in receive {
        match ev {
            Event::Hits(f) => out.files.push(f),
            Event::Error(e) => out.errors.push(e),
        }
    }
    out.files.sort_by(|a, b| a.path.cmp(&b.path));
    out.errors.sort();
    out
}

/// Scans one file: `None` when it holds no key (or is binary).
fn scan_file(path: &Path, buf: &mut [u8]) -> Option<Event> {
    let mut hits = Vec::new();
    let scanned = std::fs::File::open(path).and_then(|f| finder::scan_stream(f, buf, &mut hits));
    match scanned {
        Err(e) => Some(Event::Error(format!("{}: {e}", path.display()))),
        Ok(Scanned::Binary) => None,
        Ok(Scanned::Text(_)) if hits.is_empty() => None,
        Ok(Scanned::Text(_)) => Some(Event::Hits(FileHits {
            path: path.to_path_buf(),
            hits,
        })),
    }
}
