//! UTC offsets of IANA time zones, read from the system's compiled zone files (TZif), so that
//! `timestamptz` values render in the `report-timezone` session zone (queries.md §4.1, §4.5)
//! without bundling a zone database. Instants after a file's last transition keep the last
//! offset (the system's files list transitions up to 2037).
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

#[derive(Debug)]
pub struct Zone {
    /// Transition instants (seconds since the epoch, UTC), ascending.
    times: Vec<i64>,
    /// The offset (seconds east of UTC) that starts at each transition.
    offsets: Vec<i32>,
    /// The offset before the first transition.
    initial: i32,
}

impl Zone {
    /// The offset in seconds east of UTC at `utc_secs`.
    pub fn offset_at(&self, utc_secs: i64) -> i32 {
        match self.times.partition_point(|t| *t <= utc_secs) {
            0 => self.initial,
            i => self.offsets[i - 1],
        }
    }

    /// Parses a TZif file (version 2 or later uses its 64-bit section).
    pub fn parse(b: &[u8]) -> Option<Zone> {
        let (version, counts) = header_at(b, 0)?;
        let v1_len = block_len(&counts, 4);
        if version >= b'2' {
            let start = 44 + v1_len;
            let (_, counts2) = header_at(b, start)?;
            return data(b, start + 44, &counts2, 8);
        }
        data(b, 44, &counts, 4)
    }

    /// The zone named `name` (cached), or `None` when the system has no such zone.
    pub fn named(name: &str) -> Option<Arc<Zone>> {
        static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<Zone>>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(z) = cache.lock().get(name) {
            return z.clone();
        }
        let valid = !name.is_empty()
            && !name.starts_with('/')
            && !name.contains("..")
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'));
        let zone = valid
            .then(|| std::fs::read(Path::new("/usr/share/zoneinfo").join(name)).ok())
            .flatten()
            .and_then(|bytes| Zone::parse(&bytes))
            .map(Arc::new);
        cache.lock().insert(name.to_string(), zone.clone());
        zone
    }
}

struct Counts {
    isut: usize,
    isstd: usize,
    leap: usize,
    time: usize,
    types: usize,
    chars: usize,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn header_at(b: &[u8], at: usize) -> Option<(u8, Counts)> {
    if b.get(at..at + 4)? != b"TZif" {
        return None;
    }
    let version = *b.get(at + 4)?;
    let c = |i: usize| be32(b, at + 20 + 4 * i).and_then(|n| usize::try_from(n).ok());
    Some((
        version,
        Counts {
            isut: c(0)?,
            isstd: c(1)?,
            leap: c(2)?,
            time: c(3)?,
            types: c(4)?,
            chars: c(5)?,
        },
    ))
}

fn block_len(c: &Counts, time_size: usize) -> usize {
    c.time * time_size
        + c.time
        + c.types * 6
        + c.chars
        + c.leap * (time_size + 4)
        + c.isstd
        + c.isut
}

fn data(b: &[u8], start: usize, c: &Counts, time_size: usize) -> Option<Zone> {
    let mut at = start;
    let mut times = Vec::with_capacity(c.time);
    for _ in 0..c.time {
        let t = if time_size == 8 {
            i64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?)
        } else {
            i64::from(i32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
        };
        times.push(t);
        at += time_size;
    }
    let indices = b.get(at..at + c.time)?.to_vec();
    at += c.time;
    let mut types = Vec::with_capacity(c.types);
    for i in 0..c.types {
        let off = i32::from_be_bytes(b.get(at + 6 * i..at + 6 * i + 4)?.try_into().ok()?);
        let dst = *b.get(at + 6 * i + 4)? != 0;
        types.push((off, dst));
    }
    let offsets = indices
        .iter()
        .map(|i| types.get(usize::from(*i)).map(|t| t.0))
        .collect::<Option<Vec<i32>>>()?;
    let initial = types
        .iter()
        .find(|t| !t.1)
        .or(types.first())
        .map(|t| t.0)
        .unwrap_or(0);
    Some(Zone {
        times,
        offsets,
        initial,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_offsets() {
        let Some(z) = Zone::named("Europe/Paris") else {
            return; // no zone files on this system
        };
        assert_eq!(z.offset_at(1_704_067_200), 3600); // 2024-01-01 winter
        assert_eq!(z.offset_at(1_719_792_000), 7200); // 2024-07-01 summer
        assert!(Zone::named("../../etc/passwd").is_none());
        assert!(Zone::named("Nowhere/Special").is_none());
    }
}
