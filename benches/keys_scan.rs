//! Leak-scanner throughput (key-restrictions.md §5: at least 200 MB/s of text per core), in
//! memory: 64 MiB of generated source-like text with a key every ~4 MiB and look-alikes with a
//! wrong checksum in between, searched
//! - as one buffer (`find_keys`: the SIMD `mb_` search plus in-place validation),
//! - as a stream in the scanner's 1 MiB reads (`scan_stream`: also carries read boundaries and
//!   computes line and column for each hit).
//!
//! Run: `cargo bench --bench keys_scan` (add `-- --quick` for a shorter run).
use std::io::Cursor;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferrobase::api_keys::format;
use ferrobase::api_keys::scan::finder::{find_keys, scan_stream, CHUNK};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SIZE: usize = 64 << 20;
const KEYS: usize = 16;

/// Lines of a made-up Rust/YAML/env mix, some mentioning `mb_` like real code about keys would.
const LINES: &[&str] = &[
    "fn handle_request(state: &AppState, req: Request) -> Result<Response, Error> {",
    "    let mb_prefix = \"mb_\"; // keys start with mb_",
    "    for (i, item) in items.iter().enumerate() { total += item.price * i as u64; }",
    "database_url: postgres://ferrobase@db.internal:5432/ferrobase",
    "# TODO(ana): move the timeout into the configuration file",
    "    assert_eq!(parse_amount(\"12.50\"), Some(Amount::cents(1250)));",
    "export PATH=\"$HOME/.cargo/bin:$PATH\"",
    "}",
    "",
];

fn corpus() -> (Vec<u8>, usize) {
    let mut rng = StdRng::seed_from_u64(15);
    let mut text = Vec::with_capacity(SIZE + 4096);
    let mut keys = 0;
    let every = SIZE / KEYS;
    while text.len() < SIZE {
        let line = LINES[rng.gen_range(0..LINES.len())];
        text.extend_from_slice(line.as_bytes());
        text.push(b'\n');
        if text.len() / every > keys {
            let key = format::generate(&mut rng);
            text.extend_from_slice(format!("FERROBASE_API_KEY={}\n", key.expose()).as_bytes());
            let mut fake = key.expose().as_bytes().to_vec();
            fake[48] = if fake[48] == b'A' { b'B' } else { b'A' };
            text.extend_from_slice(b"not_a_key: ");
            text.extend_from_slice(&fake);
            text.push(b'\n');
            keys += 1;
        }
    }
    (text, keys)
}

fn bench(c: &mut Criterion) {
    let (text, keys) = corpus();
    let mut g = c.benchmark_group("keys_scan");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.sample_size(20);
    g.bench_function("find_keys_64MiB", |b| {
        b.iter(|| {
            let mut n = 0;
            find_keys(&text, |_| n += 1);
            assert_eq!(n, keys);
        })
    });
    let mut buf = vec![0u8; CHUNK];
    g.bench_function("scan_stream_64MiB", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            scan_stream(Cursor::new(&text), &mut buf, &mut out).expect("scan");
            assert_eq!(out.len(), keys);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
