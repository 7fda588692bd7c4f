//! The pure byte search of the leak scanner (key-restrictions.md §5): every well-formed key
//! (api-keys.md §3.2, checksum included) in a buffer or a stream, with its line and column. A
//! SIMD substring search finds each `mb_`; only those candidates are checked in place, and line
//! and column are computed only for hits. The plain key is never copied out: a hit carries the
//! key's digest and its 7-character prefix.
//!
//! A key glued to other characters (`xmb_…`, `mb_…xyz`) is still reported: the first 49
//! characters are a leaked key all the same, and the checksum already rules out look-alikes
//! (a random 46-character tail passes it with a chance of one in 62⁶).
use std::borrow::Cow;
use std::io::{self, Read};
use std::sync::LazyLock;

use memchr::memmem;

use crate::api_keys::format::{self, KeyDigest, KEY_LEN, KEY_START, PREFIX_LEN};

/// Bytes read at once from a file (plus the carried tail of the previous read).
pub const CHUNK: usize = 1 << 20;
/// A NUL byte among the first bytes marks a binary file (git's rule).
pub const BINARY_PROBE: usize = 8 << 10;
/// Bytes carried from one read to the next: a key cut by a read boundary is seen whole in the
/// next one, and none is seen twice.
const CARRY: usize = KEY_LEN - 1;

static START: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(KEY_START.as_bytes()));

/// A well-formed key inside a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Byte offset of the key's first character.
    pub offset: usize,
    pub digest: KeyDigest,
    prefix: [u8; PREFIX_LEN],
}

impl Hit {
    /// The key's first 7 characters (safe to show).
    pub fn prefix(&self) -> &str {
        // Checked to be ASCII before the hit was made.
        std::str::from_utf8(&self.prefix).unwrap_or_default()
    }

    /// The masked key (api-keys.md §3.4).
    pub fn masked(&self) -> String {
        format::masked(self.prefix())
    }
}

/// The key starting at `window[0]`, if `window` begins with a well-formed one.
fn check(window: &[u8]) -> Option<([u8; PREFIX_LEN], KeyDigest)> {
    let window = window.get(..KEY_LEN)?;
    // The cheap alphabet test first; the checksum (and so SHA-256) only for key-shaped text.
    if !window[KEY_START.len()..]
        .iter()
        .all(u8::is_ascii_alphanumeric)
    {
        return None;
    }
    let text = std::str::from_utf8(window).ok()?;
    let digest = format::parse(text)?;
    let mut prefix = [0u8; PREFIX_LEN];
    prefix.copy_from_slice(&window[..PREFIX_LEN]);
    Some((prefix, digest))
}

/// Calls `found` for every well-formed key lying wholly inside `hay`, in order. Keys never
/// overlap: each holds exactly one `_`, its third character.
pub fn find_keys(hay: &[u8], mut found: impl FnMut(Hit)) {
    for offset in START.find_iter(hay) {
        if let Some((prefix, digest)) = check(&hay[offset..]) {
            found(Hit {
                offset,
                digest,
                prefix,
            });
        }
    }
}

/// `text` with every well-formed key replaced by its masked form (for paths and messages that
/// are printed: the plain key is never printed).
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut hits = Vec::new();
    find_keys(text.as_bytes(), |h| hits.push(h));
    if hits.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for h in hits {
        // Keys are ASCII, so both ends are character boundaries.
        out.push_str(&text[at..h.offset]);
        out.push_str(&h.masked());
        at = h.offset + KEY_LEN;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// A key found in a file: its position (1-based line; 1-based column counted in characters)
/// and what identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub line: u64,
    pub column: u64,
    pub digest: KeyDigest,
    pub prefix: String,
}

/// Tracks line and column while the scan moves forward through a stream, touching only the
/// bytes between the previous position and the next hit (or the end of a read).
#[derive(Debug, Clone, Copy)]
struct Position {
    /// Offset in the current buffer up to which lines are counted.
    at: usize,
    /// Newlines before `at`.
    newlines: u64,
    /// Characters between the last newline and `at`.
    chars: u64,
}

/// Characters in UTF-8 text: bytes that are not continuation bytes (`10xxxxxx`).
fn chars(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count() as u64
}

impl Position {
    const START: Position = Position {
        at: 0,
        newlines: 0,
        chars: 0,
    };

    /// Moves to `to` (not before the current offset) in `buf`.
    fn advance(&mut self, buf: &[u8], to: usize) {
        let seg = &buf[self.at..to];
        match memchr::memrchr(b'\n', seg) {
            Some(last) => {
                self.newlines += memchr::memchr_iter(b'\n', seg).count() as u64;
                self.chars = chars(&seg[last + 1..]);
            }
            None => self.chars += chars(seg),
        }
        self.at = to;
    }

    fn line_column(&self) -> (u64, u64) {
        (self.newlines + 1, self.chars + 1)
    }
}

/// What [`scan_stream`] made of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scanned {
    /// Text, fully scanned; the number of bytes read.
    Text(u64),
    /// A NUL byte among the first [`BINARY_PROBE`] bytes: skipped.
    Binary,
}

/// Scans `reader` in reads of `buf.len()` bytes (at least 2 × 49), appending every key to `out`
/// in order. Memory stays bounded whatever the stream's length.
pub fn scan_stream(
    mut reader: impl Read,
    buf: &mut [u8],
    out: &mut Vec<Found>,
) -> io::Result<Scanned> {
    assert!(buf.len() >= 2 * KEY_LEN, "scan buffer too small");
    let mut filled = 0;
    let mut total = 0u64;
    let mut first = true;
    let mut pos = Position::START;
    loop {
        let start = filled;
        let mut eof = false;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        total += (filled - start) as u64;
        let hay = &buf[..filled];
        if first {
            first = false;
            if memchr::memchr(0, &hay[..hay.len().min(BINARY_PROBE)]).is_some() {
                return Ok(Scanned::Binary);
            }
        }
        find_keys(hay, |hit| {
            pos.advance(hay, hit.offset);
            let (line, column) = pos.line_column();
            out.push(Found {
                line,
                column,
                digest: hit.digest,
                prefix: hit.prefix().to_owned(),
            });
        });
        if eof {
            return Ok(Scanned::Text(total));
        }
        // A key starting in the last 48 bytes was not complete: carry them over.
        let cut = filled - CARRY;
        pos.advance(hay, cut);
        pos.at = 0;
        buf.copy_within(cut..filled, 0);
        filled = CARRY;
    }
}

#[cfg(test)]
#[path = "finder_tests.rs"]
mod tests;
