//! Unit tests and a property test of the leak scanner's byte search.
use std::io::Cursor;

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::*;
use crate::api_keys::format::{generate, BASE62};

const K1: &str = "mb_0123456789ABCDEFGHIJabcdefghijklmnopqrst27HnjK";
const K2: &str = "mb_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2T5O3q";
const ALTERED: &str = "mb_0123456789ABCDEFGHIJabcdefghijklmnopqrst27HnjL";

fn found(text: &str) -> Vec<(u64, u64, String)> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    let r = scan_stream(Cursor::new(text.as_bytes()), &mut buf, &mut out).expect("scan");
    assert_eq!(r, Scanned::Text(text.len() as u64));
    out.into_iter()
        .map(|f| (f.line, f.column, f.prefix))
        .collect()
}

fn key(seed: u64) -> String {
    generate(&mut StdRng::seed_from_u64(seed))
        .expose()
        .to_owned()
}

/// `key` with its character at `pos` (3..49) replaced by another base62 character.
fn look_alike(key: &str, pos: usize, shift: usize) -> String {
    let mut b = key.as_bytes().to_vec();
    let i = BASE62.iter().position(|&a| a == b[pos]).expect("base62");
    b[pos] = BASE62[(i + 1 + shift % 61) % 62];
    String::from_utf8(b).expect("ascii")
}

#[test]
fn finds_valid_keys_with_line_and_column() {
    let text = format!("API_KEY={K1}\n\n  x = \"{K2}\" # {ALTERED}\n{K1}");
    assert_eq!(
        found(&text),
        vec![
            (1, 9, "mb_0123".into()),
            (3, 8, "mb_aaaa".into()),
            (4, 1, "mb_0123".into()),
        ]
    );
}

#[test]
fn digest_is_the_keys_sha256() {
    let mut hits = Vec::new();
    find_keys(K1.as_bytes(), |h| hits.push(h));
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].offset, 0);
    assert_eq!(
        hits[0].digest.to_hex(),
        "b288be5dd86a3b24fe8c1a6d68bccaf25c8d160b484b5bb96ed668315d564d0b"
    );
    assert_eq!(hits[0].masked(), format::masked("mb_0123"));
}

#[test]
fn look_alikes_and_near_misses_are_not_keys() {
    for text in [
        ALTERED.to_owned(),
        K1[..48].to_owned(),
        format!("MB_{}", &K1[3..]),
        format!("mb-{}", &K1[3..]),
        K1.replace('J', "-"),
        "mb_".repeat(40),
        String::new(),
    ] {
        assert_eq!(found(&text), vec![], "{text}");
    }
}

#[test]
fn glued_keys_are_still_keys() {
    let text = format!("x{K1}yz{K2}{K1}");
    let cols: Vec<u64> = found(&text).into_iter().map(|f| f.1).collect();
    assert_eq!(cols, vec![2, 53, 102]);
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = format!("é日本 {K1}\r\nñ{K2}");
    assert_eq!(
        found(&text),
        vec![(1, 5, "mb_0123".into()), (2, 2, "mb_aaaa".into())]
    );
}

#[test]
fn binary_files_are_skipped() {
    let text = format!("\0{K1}");
    let mut out = Vec::new();
    let mut buf = vec![0u8; 4096];
    let r = scan_stream(Cursor::new(text.as_bytes()), &mut buf, &mut out).expect("scan");
    assert_eq!((r, out.len()), (Scanned::Binary, 0));
    // A NUL after the probe does not make the file binary.
    let text = format!("{}\0{K1}", "a".repeat(BINARY_PROBE));
    assert_eq!(found(&text).len(), 1);
}

#[test]
fn read_errors_are_returned() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("boom"))
        }
    }
    let mut buf = vec![0u8; 4096];
    assert!(scan_stream(Failing, &mut buf, &mut Vec::new()).is_err());
}

#[test]
fn every_read_boundary_gives_the_same_findings() {
    let text = format!("ab\n{K1}\nxx{K2}é\n\n{ALTERED}{K1}\n{K2}");
    let whole = found(&text);
    assert_eq!(whole.len(), 4);
    for size in 2 * KEY_LEN..text.len() + 2 {
        let mut out = Vec::new();
        let mut buf = vec![0u8; size];
        scan_stream(Cursor::new(text.as_bytes()), &mut buf, &mut out).expect("scan");
        let got: Vec<_> = out
            .into_iter()
            .map(|f| (f.line, f.column, f.prefix))
            .collect();
        assert_eq!(got, whole, "buffer of {size} bytes");
    }
}

#[test]
fn redact_masks_keys_only() {
    let text = format!("dir/{K1}.env and {ALTERED}");
    assert_eq!(
        redact(&text),
        format!("dir/{}.env and {ALTERED}", format::masked("mb_0123"))
    );
    assert!(matches!(redact("plain"), Cow::Borrowed("plain")));
}

#[derive(Debug, Clone)]
enum Seg {
    Noise(String),
    Key(u64),
    LookAlike(u64, usize, usize),
}

fn seg() -> impl Strategy<Value = Seg> {
    prop_oneof![
        "[a-zA-Z0-9_ \n=\"'mb_é日]{0,60}".prop_map(Seg::Noise),
        any::<u64>().prop_map(Seg::Key),
        (any::<u64>(), 3usize..KEY_LEN, 0usize..61).prop_map(|(s, p, d)| Seg::LookAlike(s, p, d)),
    ]
}

proptest! {
    /// Random text with valid keys and checksum-mutated look-alikes at random offsets: exactly
    /// the valid keys are found, at the right line and column, whatever the read size.
    #[test]
    fn finds_exactly_the_valid_keys(segs in prop::collection::vec(seg(), 0..40),
                                    size in 2 * KEY_LEN..600usize) {
        let mut text = String::new();
        let mut expected = Vec::new();
        let (mut line, mut col) = (1u64, 1u64);
        for s in segs {
            let piece = match s {
                Seg::Noise(n) => n,
                Seg::Key(seed) => {
                    let k = key(seed);
                    expected.push((line, col, k[..PREFIX_LEN].to_owned(), KeyDigest::of(&k)));
                    k
                }
                Seg::LookAlike(seed, pos, shift) => look_alike(&key(seed), pos, shift),
            };
            for c in piece.chars() {
                if c == '\n' {
                    line += 1;
                    col = 1;
                } else {
                    col += 1;
                }
            }
            text.push_str(&piece);
        }
        let mut out = Vec::new();
        let mut buf = vec![0u8; size];
        let r = scan_stream(Cursor::new(text.as_bytes()), &mut buf, &mut out).expect("scan");
        prop_assert_eq!(r, Scanned::Text(text.len() as u64));
        let got: Vec<_> = out.into_iter().map(|f| (f.line, f.column, f.prefix, f.digest)).collect();
        prop_assert_eq!(got, expected);
    }
}
