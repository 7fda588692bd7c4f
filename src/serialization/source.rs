//! The unpacked tree an import reads, on disk (serialization.md §3.2, §5.1 step 2). Only the
//! names are held in memory; each entity file is read when it is needed, one at a time and at
//! most [`MAX_FILE_BYTES`] of it, so an import's memory does not grow with the archive.
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::unpack;

/// The largest entity file an import reads. Metabase's largest files (cards with wide
/// `result_metadata`) stay well below a megabyte; the cap bounds what one file can cost.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// The source directory of an unpacked tree and its entity files.
pub struct Source {
    dir: PathBuf,
    files: Vec<String>,
}

impl Source {
    /// Lists the regular files under `root` (links and other entries are never followed) and
    /// finds the source directory; `Ok(None)` when there is none. The entity files together
    /// may not exceed `max_unpacked` bytes (what an upload may unpack to).
    pub fn find(root: &Path, max_unpacked: u64) -> std::io::Result<Option<Source>> {
        let paths = list_files(root, max_unpacked)?;
        let Some(source) = unpack::source_dir(&paths) else {
            return Ok(None);
        };
        let files = unpack::entity_files(&paths, &source);
        let dir = if source.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&source)
        };
        Ok(Some(Source { dir, files }))
    }

    /// The entity files, relative to the source directory, in path order.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// The size of an entity file on disk (0 when it cannot be read; [`Source::read`] says why).
    pub fn size(&self, rel: &str) -> u64 {
        std::fs::metadata(self.dir.join(rel)).map_or(0, |m| m.len())
    }

    /// One entity file parsed: `Err` (the message of a `failed File` line) when it cannot be
    /// read, is larger than [`MAX_FILE_BYTES`], is not UTF-8 or not YAML within the reader's
    /// limits, or its top level is not a map.
    pub fn read(&self, rel: &str) -> Result<Map<String, Value>, String> {
        let text = read_capped(&self.dir.join(rel))?;
        match super::yaml::parse(&text)? {
            Value::Object(m) => Ok(m),
            _ => Err("the top level is not a map".into()),
        }
    }
}

fn read_capped(path: &Path) -> Result<String, String> {
    let too_large = || format!("the file is larger than {MAX_FILE_BYTES} bytes");
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    // The cap again while reading: the file may grow after the check (an import of a directory).
    let mut data = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(|e| e.to_string())?;
    if data.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    String::from_utf8(data).map_err(|e| e.to_string())
}

/// Every regular file under `root`, relative to it, in byte order. Only the sizes of the files
/// an import reads (`.yaml`/`.yml`) count against `max_unpacked`; the others matter for their
/// names only (the source-directory search).
pub fn list_files(root: &Path, max_unpacked: u64) -> std::io::Result<Vec<String>> {
    let mut files = Vec::new();
    let mut total = 0u64;
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        for e in std::fs::read_dir(&dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            // `file_type` does not follow links, so a link is neither and is left out.
            let ft = e.file_type()?;
            let rel = format!("{prefix}{name}");
            if ft.is_dir() {
                stack.push((e.path(), format!("{rel}/")));
            } else if ft.is_file() {
                if name.ends_with(".yaml") || name.ends_with(".yml") {
                    total = total.saturating_add(e.metadata()?.len());
                    if total > max_unpacked {
                        return Err(std::io::Error::other("the directory is too large"));
                    }
                }
                files.push(rel);
            }
        }
    }
    files.sort();
    Ok(files)
}
