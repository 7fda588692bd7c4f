//! Key verification cost (api-keys.md 4.3), in-process:
//! - a valid key served from the cache,
//! - a valid key after a cache miss (one indexed SQLite lookup), with 1 key and with 100,000 keys,
//! - a malformed key (rejected before any lookup),
//! - the baseline of Metabase's design: one bcrypt cost-10 verification of a 47-character key;
//! - what a key with every restriction set adds to a request (key-restrictions.md §2): the
//!   address check against 16 blocks, the rate-limit count, the read-only route check, and a
//!   database and a collection check (the permission functions consult them once each).
//!
//! Run: `cargo bench --bench key_verification` (add `-- --quick` for a shorter run).
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use ferrobase::api_keys::auth::{KeyAuthenticator, Verdict};
use ferrobase::api_keys::format::{self, PlainKey};
use ferrobase::api_keys::store::NewApiKey;
use ferrobase::clock::{Clock, SystemClock};
use ferrobase::store::{DatabaseUrl, DynStore};
use ferrobase::users::store::NewUser;

/// Opens a SQLite store in a temporary file holding `n` keys; returns one of them.
async fn store_with_keys(dir: &std::path::Path, n: usize) -> (DynStore, PlainKey) {
    let url = DatabaseUrl::SqliteFile(dir.join(format!("bench-{n}.db")));
    let store = ferrobase::store::open(&url).await.expect("open store");
    let now = SystemClock.now().micros();
    let mut last = None;
    let mut tx = store.begin().await.expect("begin");
    for i in 0..n {
        let key = format::generate_os();
        let user = NewUser {
            email: format!("api-key-user-{i}@api-key.invalid"),
            first_name: Some(format!("key {i}")),
            last_name: Some(String::new()),
            password_hash: None,
            key_user: true,
            is_superuser: false,
            is_installer: false,
            locale: None,
            login_attributes: None,
            now,
        };
        let user_id = tx.user_insert(&user).await.expect("user");
        tx.membership_insert(user_id, 1).await.expect("membership");
        // Prefix collisions are possible among 100,000 random keys; skip those.
        if tx
            .api_key_prefix_taken(key.prefix(), now)
            .await
            .expect("prefix")
        {
            continue;
        }
        tx.api_key_insert(&NewApiKey {
            name: format!("key {i}"),
            user_id,
            key_hash: key.digest().0.to_vec(),
            key_prefix: key.prefix().to_string(),
            expires_at: None,
            restrictions: None,
            creator_id: user_id,
            now,
        })
        .await
        .expect("key");
        last = Some(key);
    }
    tx.commit().await.expect("commit");
    (store, last.expect("at least one key"))
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let now = SystemClock.now();
    let mut group = c.benchmark_group("key_verification");

    for n in [1usize, 100_000] {
        let (store, key) = rt.block_on(store_with_keys(dir.path(), n));
        let hit = Arc::new(KeyAuthenticator::new(true, true));
        let miss = Arc::new(KeyAuthenticator::new(true, false)); // untrusted cache: always a lookup
        let k = key.expose().to_string();
        assert!(matches!(
            rt.block_on(hit.verify(&store, Some(&k), now))
                .expect("verify"),
            Verdict::Ok(_)
        ));
        group.bench_function(format!("valid_cache_hit/{n}_keys"), |b| {
            b.to_async(&rt)
                .iter(|| async { hit.verify(&store, Some(&k), now).await })
        });
        group.bench_function(format!("valid_cache_miss_sqlite/{n}_keys"), |b| {
            b.to_async(&rt)
                .iter(|| async { miss.verify(&store, Some(&k), now).await })
        });
    }

    let (store, _) = rt.block_on(store_with_keys(dir.path(), 2));
    let auth = KeyAuthenticator::new(true, true);
    group.bench_function("malformed", |b| {
        b.to_async(&rt)
            .iter(|| async { auth.verify(&store, Some("mb_not_an_api_key"), now).await })
    });

    // Metabase: bcrypt (cost 10) of the 47-character key on every request.
    let metabase_key = "mb_QWxhZGRpbjpvcGVuIHNlc2FtZQ0123456789abcdefgh";
    assert_eq!(metabase_key.len(), 47);
    let hash = bcrypt::hash(metabase_key, 10).expect("bcrypt");
    group.sample_size(10);
    group.bench_function("bcrypt_cost10_baseline", |b| {
        b.iter(|| bcrypt::verify(metabase_key, &hash).expect("verify"))
    });
    group.finish();
}

/// The restriction checks of one request made with a key that has every restriction set.
fn restrictions(c: &mut Criterion) {
    use ferrobase::api_keys::key_limits::KeyLimits;
    use ferrobase::auth::restrictions::{parse, Parsed};
    use ferrobase::http::auth::read_only_may;
    let ips: Vec<String> = (0..15)
        .map(|i| format!("10.{i}.0.0/16"))
        .chain(["127.0.0.1".to_string()])
        .collect();
    let Ok(Parsed::Some(r)) = parse(&serde_json::json!({
        "access": "read-only",
        "collections": [3, 9, 27, 81, "root"],
        "databases": [1, 2, 5, 8],
        "allowed_ips": ips,
        "rate_limit": {"requests": 1_000_000, "per_seconds": 86_400},
    })) else {
        panic!("restrictions parse");
    };
    let limit = r.rate_limit.expect("rate limit");
    let limits = KeyLimits::default();
    let ip: std::net::IpAddr = "127.0.0.1".parse().expect("ip");
    let method = axum::http::Method::POST;
    let mut group = c.benchmark_group("key_restrictions");
    group.bench_function("every_restriction_one_request", |b| {
        b.iter(|| {
            // The count is taken whatever it answers (a long run exhausts the budget).
            std::hint::black_box(limits.take(7, limit, std::time::Instant::now()).is_ok());
            let ok = r.allows_ip(std::hint::black_box(ip))
                && read_only_may(&method, std::hint::black_box("/api/card/12/query"))
                && r.allows_database(std::hint::black_box(5))
                && r.allows_collection(Some(std::hint::black_box(400)), &[27, 200]);
            assert!(ok);
        })
    });
    group.finish();
}

criterion_group!(benches, bench, restrictions);
criterion_main!(benches);
