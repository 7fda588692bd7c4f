//! Safe unpacking of an archive (serialization.md §3.1) and the source-directory search (§3.2).
//! An archive is unpacked to disk, entry by entry ([`unpack_to_dir`]): an upload into a private
//! directory under the data directory's `tmp/`, `ferrobase import FILE` into a private directory
//! under the system's temporary directory. Absolute paths and `..` make the archive invalid
//! before anything is written, links and devices are never created, and the unpacked size is
//! capped as it is read; memory stays flat whatever the archive holds.
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Component, Path};

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// Not a readable (gzip-compressed or plain) tar archive → 422.
    #[error("Cannot unpack archive: {0}")]
    Unreadable(String),
    /// An absolute path or a `..` component → 422.
    #[error("Cannot unpack archive: unsafe entry {0}")]
    Unsafe(String),
    /// More than the allowed unpacked size → 422.
    #[error("Cannot unpack archive: the unpacked content exceeds {0} bytes")]
    TooLarge(u64),
}

pub const LEGAL_DIRS: &[&str] = &[
    "collections",
    "databases",
    "snippets",
    "actions",
    "python_libraries",
    "transforms",
];

/// Unpacks the archive in `archive` (a file) into the existing, empty directory `root`; only
/// directories and regular files are created, every one of them under `root`.
pub fn unpack_to_dir(
    archive: &Path,
    root: &Path,
    max_unpacked: u64,
    log: &mut Vec<String>,
) -> Result<(), UnpackError> {
    let io = |e: std::io::Error| UnpackError::Unreadable(e.to_string());
    let file = std::fs::File::open(archive).map_err(io)?;
    let mut reader = std::io::BufReader::new(file);
    walk(&mut reader, max_unpacked, log, |rel, entry, cap| {
        if rel.is_empty() {
            return std::io::copy(&mut entry.take(cap), &mut std::io::sink()).map_err(io);
        }
        // `rel` has only normal components (`safe_path`), and nothing but directories and
        // regular files is ever created here, so no component can redirect the write.
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut out = std::fs::File::create(&path).map_err(io)?;
        std::io::copy(&mut entry.take(cap), &mut out).map_err(io)
    })
}

/// Walks the entries of a `.tar.gz` or `.tar`, handing each regular file to `on_file` with its
/// safe relative path and how many bytes it may still produce; `on_file` returns how many it
/// read. On an error the files handed over before it are the caller's to discard.
fn walk<R: std::io::BufRead>(
    mut input: R,
    max_unpacked: u64,
    log: &mut Vec<String>,
    mut on_file: impl FnMut(&str, &mut dyn Read, u64) -> Result<u64, UnpackError>,
) -> Result<(), UnpackError> {
    let gzip = input
        .fill_buf()
        .map(|b| b.starts_with(&[0x1f, 0x8b]))
        .unwrap_or(false);
    let reader: Box<dyn Read + '_> = if gzip {
        Box::new(flate2::bufread::GzDecoder::new(input))
    } else {
        Box::new(input)
    };
    // The cap applies to the decompressed stream, so a decompression bomb stops early.
    let mut limited = reader.take(max_unpacked.saturating_add(1));
    let result = (|| -> Result<(), UnpackError> {
        let mut archive = tar::Archive::new(&mut limited);
        let entries = archive
            .entries()
            .map_err(|e| UnpackError::Unreadable(e.to_string()))?;
        let mut total: u64 = 0;
        let mut any = false;
        for entry in entries {
            let mut entry = entry.map_err(|e| UnpackError::Unreadable(e.to_string()))?;
            any = true;
            let raw = entry
                .path()
                .map_err(|e| UnpackError::Unreadable(e.to_string()))?
                .into_owned();
            let display = raw.to_string_lossy().into_owned();
            let rel = safe_path(&raw).ok_or_else(|| UnpackError::Unsafe(display.clone()))?;
            let kind = entry.header().entry_type();
            if kind.is_dir() {
                continue;
            }
            if !(kind.is_file() || kind == tar::EntryType::Continuous) {
                log.push(format!("warning: ignored {display}: not a regular file"));
                continue;
            }
            let cap = max_unpacked.saturating_sub(total).saturating_add(1);
            let n = on_file(&rel, &mut entry, cap)?;
            total = total.saturating_add(n);
            if total > max_unpacked {
                return Err(UnpackError::TooLarge(max_unpacked));
            }
        }
        if !any {
            return Err(UnpackError::Unreadable("no entries".into()));
        }
        Ok(())
    })();
    if limited.limit() == 0 {
        return Err(UnpackError::TooLarge(max_unpacked));
    }
    result
}

/// The entry path with `.` components removed, or `None` when it is absolute or has `..`.
fn safe_path(p: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

/// The first directory (breadth-first, names in byte order, hidden and `__MACOSX` skipped) that
/// directly holds a legal top-level directory or `settings.yaml`; `""` is the root.
pub fn source_dir(files: &[String]) -> Option<String> {
    let mut children: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut file_names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in files {
        let parts: Vec<&str> = path.split('/').collect();
        let mut dir = String::new();
        for (i, p) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                file_names
                    .entry(dir.clone())
                    .or_default()
                    .insert(p.to_string());
            } else {
                children
                    .entry(dir.clone())
                    .or_default()
                    .insert(p.to_string());
                dir = if dir.is_empty() {
                    p.to_string()
                } else {
                    format!("{dir}/{p}")
                };
            }
        }
    }
    let mut queue = std::collections::VecDeque::from([String::new()]);
    while let Some(dir) = queue.pop_front() {
        let subdirs = children.get(&dir).cloned().unwrap_or_default();
        let has_settings = file_names
            .get(&dir)
            .is_some_and(|f| f.contains("settings.yaml"));
        if has_settings || subdirs.iter().any(|s| LEGAL_DIRS.contains(&s.as_str())) {
            return Some(dir);
        }
        for s in subdirs {
            if s.starts_with('.') || s == "__MACOSX" {
                continue;
            }
            queue.push_back(if dir.is_empty() {
                s
            } else {
                format!("{dir}/{s}")
            });
        }
    }
    None
}

/// The entity files of the source directory, relative to it: YAML files under the legal
/// top-level directories (hidden entries skipped), plus `settings.yaml`, in the order of `files`.
/// Under `databases/` the directory and file names are those of warehouse tables and columns,
/// which may begin with a dot (`.x`, `../y`): there only `__MACOSX` and macOS's `._` companion
/// files are skipped.
pub fn entity_files(files: &[String], source: &str) -> Vec<String> {
    let prefix = if source.is_empty() {
        String::new()
    } else {
        format!("{source}/")
    };
    let mut out = Vec::new();
    for path in files {
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        let top = rel.split('/').next().unwrap_or("");
        let hidden = rel.split('/').any(|p| {
            p == "__MACOSX" || p.starts_with("._") || (p.starts_with('.') && top != "databases")
        });
        let yaml = rel.ends_with(".yaml") || rel.ends_with(".yml");
        if rel == "settings.yaml"
            || (!hidden && yaml && LEGAL_DIRS.contains(&top) && rel.contains('/'))
        {
            out.push(rel.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_files_keep_dot_names_of_the_data_model_only() {
        let files: Vec<String> = [
            "x/collections/.hidden/a.yaml",
            "x/collections/c/a.yaml",
            "x/databases/D/tables/..__SLASH__evil/..__SLASH__evil.yaml",
            "x/databases/D/tables/.t/fields/.f.yaml",
            "x/databases/D/tables/T/._T.yaml",
            "x/databases/__MACOSX/T.yaml",
            "x/settings.yaml",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            entity_files(&files, "x"),
            [
                "collections/c/a.yaml",
                "databases/D/tables/..__SLASH__evil/..__SLASH__evil.yaml",
                "databases/D/tables/.t/fields/.f.yaml",
                "settings.yaml",
            ]
        );
    }
}
