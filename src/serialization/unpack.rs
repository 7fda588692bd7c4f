//! Safe unpacking of an uploaded archive (serialization.md §3.1) and the source-directory search
//! (§3.2). Archives are read into memory, never onto disk: an entry cannot land outside the
//! unpack area because there is none, and the unpacked size is capped as it is read.
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Component, Path};

/// The regular files of an archive: normalised relative path → content.
pub type Files = BTreeMap<String, Vec<u8>>;

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

/// Reads a `.tar.gz` or `.tar` (detected from the content) into memory. Links and devices are
/// skipped with a `warning:` line in `log`.
pub fn unpack(data: &[u8], max_unpacked: u64, log: &mut Vec<String>) -> Result<Files, UnpackError> {
    let reader: Box<dyn Read + '_> = if data.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(data))
    } else {
        Box::new(data)
    };
    // The cap applies to the decompressed stream, so a decompression bomb stops early.
    let mut limited = reader.take(max_unpacked.saturating_add(1));
    let mut files = Files::new();
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
            let mut buf = Vec::new();
            entry
                .read_to_end(&mut buf)
                .map_err(|e| UnpackError::Unreadable(e.to_string()))?;
            total = total.saturating_add(buf.len() as u64);
            if total > max_unpacked {
                return Err(UnpackError::TooLarge(max_unpacked));
            }
            if !rel.is_empty() {
                files.insert(rel, buf);
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
    result.map(|()| files)
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

/// Reads a directory tree from disk (the CLI's `import DIR`) with the same cap.
pub fn read_dir(root: &Path, max_unpacked: u64) -> std::io::Result<Files> {
    let mut files = Files::new();
    let mut total = 0u64;
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        for e in std::fs::read_dir(&dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let ft = e.file_type()?;
            let rel = format!("{prefix}{name}");
            if ft.is_dir() {
                stack.push((e.path(), format!("{rel}/")));
            } else if ft.is_file() {
                let data = std::fs::read(e.path())?;
                total += data.len() as u64;
                if total > max_unpacked {
                    return Err(std::io::Error::other("the directory is too large"));
                }
                files.insert(rel, data);
            }
        }
    }
    Ok(files)
}

/// The first directory (breadth-first, names in byte order, hidden and `__MACOSX` skipped) that
/// directly holds a legal top-level directory or `settings.yaml`; `""` is the root.
pub fn source_dir(files: &Files) -> Option<String> {
    let mut children: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut file_names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in files.keys() {
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

/// The entity files of the source directory: YAML files under the legal top-level directories
/// (hidden entries skipped), plus `settings.yaml`, in path order.
pub fn entity_files(files: &Files, source: &str) -> Vec<(String, Vec<u8>)> {
    let prefix = if source.is_empty() {
        String::new()
    } else {
        format!("{source}/")
    };
    let mut out = Vec::new();
    for (path, data) in files {
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        let top = rel.split('/').next().unwrap_or("");
        let hidden = rel
            .split('/')
            .any(|p| p.starts_with('.') || p == "__MACOSX");
        let yaml = rel.ends_with(".yaml") || rel.ends_with(".yml");
        if rel == "settings.yaml"
            || (!hidden && yaml && LEGAL_DIRS.contains(&top) && rel.contains('/'))
        {
            out.push((rel.to_string(), data.clone()));
        }
    }
    out
}
