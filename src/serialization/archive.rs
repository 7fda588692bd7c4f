//! Deterministic `.tar.gz` archives (serialization.md §9): entries sorted by path, modes 0644 and
//! 0755, owner 0, empty owner names, mtime 0; gzip header with mtime 0, no name, OS byte 255.
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use flate2::{Compression, GzBuilder};

/// Packs `files` (paths relative to `dirname`) under the single top-level directory `dirname/`.
pub fn pack(dirname: &str, files: &BTreeMap<String, Vec<u8>>) -> std::io::Result<Vec<u8>> {
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    dirs.insert(format!("{dirname}/"));
    for path in files.keys() {
        let mut acc = format!("{dirname}/");
        let parts: Vec<&str> = path.split('/').collect();
        for p in &parts[..parts.len().saturating_sub(1)] {
            acc.push_str(p);
            acc.push('/');
            dirs.insert(acc.clone());
        }
    }
    let mut entries: Vec<(String, Option<&[u8]>)> = dirs.into_iter().map(|d| (d, None)).collect();
    for (path, data) in files {
        entries.push((format!("{dirname}/{path}"), Some(data.as_slice())));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));

    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::default());
    let mut builder = tar::Builder::new(gz);
    builder.mode(tar::HeaderMode::Deterministic);
    for (path, data) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        match data {
            None => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
            }
            Some(d) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(d.len() as u64);
            }
        }
        if h.set_path(&path).is_err() {
            // Too long for ustar: a pax header carries the full path.
            builder.append_pax_extensions([("path", path.as_bytes())])?;
            let short: String = path.chars().rev().take(90).collect::<String>();
            let short: String = short.chars().rev().collect();
            h.set_path(short.trim_start_matches('/'))?;
        }
        h.set_cksum();
        builder.append(&h, data.unwrap_or(&[]))?;
    }
    let gz = builder.into_inner()?;
    let mut out = gz.finish()?;
    out.flush()?;
    Ok(out)
}
