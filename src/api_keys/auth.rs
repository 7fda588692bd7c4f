//! Verifying `X-Api-Key` (api-keys.md 4.3–4.5): format and checksum first (no I/O), then an
//! in-memory cache keyed by the SHA-256 digest, then one indexed lookup. No slow hash anywhere.
//! Expiry and grace periods are checked against the clock on every request, so a cached entry
//! never lets an expired key or retired secret through.
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::Mutex;

use super::format::{self, KeyDigest};
use super::key_limits::{KeyLimits, RATE_LIMIT_MESSAGE};
use super::last_used::LastUsed;
use super::ratelimit::FailedKeyLimiter;
use super::store::KeyAuthRow;
use crate::auth::{Principal, Via};
use crate::clock::Timestamp;
use crate::store::{DynStore, StoreError};

pub const CACHE_TTL: Duration = Duration::from_secs(60);
pub const CACHE_CAPACITY: usize = 100_000;

#[derive(Debug, Clone)]
struct Entry {
    /// `None`: no key has this digest (a negative entry).
    row: Option<Arc<KeyAuthRow>>,
    inserted: Instant,
}

/// Outcome of a verification, before it becomes a [`Principal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Malformed,
    Unknown,
    Refused,
    Ok(Arc<KeyAuthRow>),
}

pub struct KeyAuthenticator {
    cache: Mutex<LruCache<KeyDigest, Entry>>,
    /// Bumped on every eviction: a lookup that raced with an eviction must not refill the cache
    /// with what it read before the write committed.
    epoch: AtomicU64,
    /// False while the cross-instance listener is down (PostgreSQL): then every request goes to
    /// the database.
    trusted: AtomicBool,
    pub limiter: FailedKeyLimiter,
    pub last_used: LastUsed,
    /// Rate limits and audited address refusals of restricted keys.
    pub limits: KeyLimits,
}

impl KeyAuthenticator {
    pub fn new(throttle_enabled: bool, trusted: bool) -> Self {
        KeyAuthenticator {
            cache: Mutex::new(LruCache::new(
                NonZeroUsize::new(CACHE_CAPACITY).unwrap_or(NonZeroUsize::MIN),
            )),
            epoch: AtomicU64::new(0),
            trusted: AtomicBool::new(trusted),
            limiter: FailedKeyLimiter::new(throttle_enabled),
            last_used: LastUsed::default(),
            limits: KeyLimits::default(),
        }
    }

    /// Verifies a header value. `store` is only touched for a well-formed key on a cache miss.
    pub async fn verify(
        &self,
        store: &DynStore,
        value: Option<&str>,
        now: Timestamp,
    ) -> Result<Verdict, StoreError> {
        let Some(digest) = value.and_then(format::parse) else {
            return Ok(Verdict::Malformed);
        };
        let row = match self.cached(&digest) {
            Some(entry) => entry.row,
            None => {
                let epoch = self.epoch.load(Ordering::SeqCst);
                let row = store.api_key_auth(&digest.0).await?.map(Arc::new);
                self.fill(digest, row.clone(), epoch);
                row
            }
        };
        let Some(row) = row else {
            return Ok(Verdict::Unknown);
        };
        Ok(if is_usable(&row, now) {
            Verdict::Ok(row)
        } else {
            Verdict::Refused
        })
    }

    /// Verifies and, on success, applies the key's address and rate restrictions
    /// (key-restrictions.md §2.4–2.5), records the use and returns the principal. `Ok(None)`
    /// is a failed attempt (unknown, refused, or used from an address it may not come from);
    /// `Err(RateLimited)` a key over its own rate limit.
    pub async fn authenticate(
        &self,
        app: &crate::state::App,
        value: Option<&str>,
        ip: IpAddr,
    ) -> Result<Option<Principal>, crate::error::ApiError> {
        let now = app.clock.now();
        let Verdict::Ok(row) = self.verify(&app.store, value, now).await? else {
            return Ok(None);
        };
        if let Some(r) = &row.restrictions {
            if !r.allows_ip(ip) {
                self.ip_denied(app, &row, ip).await;
                return Ok(None);
            }
            if let Some(limit) = r.rate_limit {
                if let Err(retry_after) = self.limits.take(row.key_id, limit, Instant::now()) {
                    return Err(crate::error::ApiError::RateLimited {
                        retry_after,
                        message: RATE_LIMIT_MESSAGE,
                    });
                }
            }
        }
        self.last_used.record(row.key_id, now.micros());
        Ok(Some(Principal {
            user_id: row.user_id,
            is_superuser: row.is_superuser,
            group_ids: row.group_ids.clone().into(),
            via: Via::ApiKey { key_id: row.key_id },
            restrictions: row.restrictions.clone(),
        }))
    }

    /// Audits a refused address once per key and address per minute (`api-key-ip-denied`).
    /// A failure to write the event is logged, never turned into a different answer.
    async fn ip_denied(&self, app: &crate::state::App, row: &KeyAuthRow, ip: IpAddr) {
        tracing::info!(key_id = row.key_id, %ip, "API key used from an address it may not use");
        if !self.limits.first_denial(row.key_id, ip, Instant::now()) {
            return;
        }
        let event = crate::audit::AuditEvent::about(
            "ApiKey",
            row.key_id,
            "api-key-ip-denied",
            row.user_id,
            app.clock.now(),
            serde_json::json!({ "ip": ip.to_canonical().to_string() }),
        );
        let written = async {
            let mut tx = app.store.begin().await?;
            tx.audit_insert(&event).await?;
            tx.commit().await
        };
        if let Err(e) = written.await {
            tracing::warn!(error = %e, "writing api-key-ip-denied failed");
        }
    }

    fn cached(&self, digest: &KeyDigest) -> Option<Entry> {
        if !self.trusted.load(Ordering::SeqCst) {
            return None;
        }
        let mut cache = self.cache.lock();
        match cache.get(digest) {
            Some(e) if e.inserted.elapsed() < CACHE_TTL => Some(e.clone()),
            Some(_) => {
                cache.pop(digest);
                None
            }
            None => None,
        }
    }

    fn fill(&self, digest: KeyDigest, row: Option<Arc<KeyAuthRow>>, epoch: u64) {
        if !self.trusted.load(Ordering::SeqCst) {
            return;
        }
        let mut cache = self.cache.lock();
        // Checked under the lock that evictions also take, so no eviction slips in between.
        if self.epoch.load(Ordering::SeqCst) == epoch {
            cache.put(
                digest,
                Entry {
                    row,
                    inserted: Instant::now(),
                },
            );
        }
    }

    /// Evicts every entry of the key (both secrets). Called before the writing request responds.
    pub fn evict_key(&self, key_id: i64) {
        self.evict_where(|row| row.key_id == key_id);
    }

    /// Evicts the entries of a key user (membership or activity changes).
    pub fn evict_user(&self, user_id: i64) {
        self.evict_where(|row| row.user_id == user_id);
    }

    fn evict_where(&self, pred: impl Fn(&KeyAuthRow) -> bool) {
        let mut cache = self.cache.lock();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        let stale: Vec<KeyDigest> = cache
            .iter()
            .filter(|(_, e)| e.row.as_deref().is_some_and(&pred))
            .map(|(d, _)| *d)
            .collect();
        for d in stale {
            cache.pop(&d);
        }
    }

    /// Listener state changed: empty the cache, and trust it again only while listening.
    pub fn set_trusted(&self, trusted: bool) {
        let mut cache = self.cache.lock();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        cache.clear();
        self.trusted.store(trusted, Ordering::SeqCst);
    }

    /// Empties the cache without changing whether it is trusted: used when invalidation
    /// messages were missed (the event channel lagged).
    pub fn clear(&self) {
        let mut cache = self.cache.lock();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        cache.clear();
    }

    pub fn cache_len(&self) -> usize {
        self.cache.lock().len()
    }
}

/// Step 4 of api-keys.md 4.3.
pub fn is_usable(row: &KeyAuthRow, now: Timestamp) -> bool {
    let now = now.micros();
    row.is_active
        && row.expires_at.is_none_or(|e| now < e)
        && (row.matched_current || row.previous_key_valid_until.is_some_and(|v| now < v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_keys::store::KeyAuthRow;

    fn row(current: bool) -> KeyAuthRow {
        KeyAuthRow {
            key_id: 1,
            user_id: 2,
            matched_current: current,
            expires_at: None,
            previous_key_valid_until: None,
            is_active: true,
            is_superuser: false,
            group_ids: vec![1],
            restrictions: None,
        }
    }

    #[test]
    fn usability_rules() {
        let now = Timestamp(1_000_000);
        assert!(is_usable(&row(true), now));
        assert!(!is_usable(
            &KeyAuthRow {
                is_active: false,
                ..row(true)
            },
            now
        ));
        assert!(!is_usable(
            &KeyAuthRow {
                expires_at: Some(1_000_000),
                ..row(true)
            },
            now
        ));
        assert!(is_usable(
            &KeyAuthRow {
                expires_at: Some(1_000_001),
                ..row(true)
            },
            now
        ));
        assert!(!is_usable(&row(false), now));
        assert!(is_usable(
            &KeyAuthRow {
                previous_key_valid_until: Some(2_000_000),
                ..row(false)
            },
            now
        ));
        assert!(!is_usable(
            &KeyAuthRow {
                previous_key_valid_until: Some(1_000_000),
                ..row(false)
            },
            now
        ));
    }

    /// Scenario 8: malformed values are refused without touching the store (which fails the
    /// test if called) or the cache.
    #[tokio::test]
    async fn s08_malformed_keys_never_reach_the_store() {
        use crate::api_keys::test_support::SpyStore;
        let auth = KeyAuthenticator::new(true, true);
        let store: DynStore = SpyStore::forbidden();
        let key = super::format::generate_os();
        let k = key.expose();
        let mut plus = k.to_string();
        plus.replace_range(20..21, "+");
        let values = [
            "mb_not_an_api_key".to_string(),
            k[..48].to_string(),
            format!("{k}A"),
            format!("MB_{}", &k[3..]),
            plus,
            format!("Bearer {k}"),
            "mb_0123456789ABCDEFGHIJabcdefghijklmnopqrst27HnjL".to_string(),
        ];
        for v in &values {
            let verdict = auth
                .verify(&store, Some(v), Timestamp(0))
                .await
                .expect("verify");
            assert_eq!(verdict, Verdict::Malformed, "{v:?}");
        }
        // Several X-Api-Key headers (no single value) and non-UTF-8 values are malformed too.
        assert_eq!(
            auth.verify(&store, None, Timestamp(0))
                .await
                .expect("verify"),
            Verdict::Malformed
        );
        assert_eq!(auth.cache_len(), 0);
    }

    /// Scenario 79: when the LISTEN connection drops, the cache is emptied and bypassed (every
    /// request goes to the database) until listening resumes, so a key deleted elsewhere in the
    /// meantime is refused on the next request; once listening again the cache is emptied once
    /// more and used again.
    #[tokio::test]
    async fn s79_listener_loss_empties_and_bypasses_the_cache() {
        use crate::api_keys::input::NewKey;
        use crate::api_keys::service::{create, OsKeyGenerator};
        use crate::api_keys::test_support::{app_with, TestClock};
        let (app, spy, admin) = app_with(TestClock::at(1_000_000)).await;
        let new = |name: &str| NewKey {
            name: name.into(),
            group_id: 1,
            expires_at: None,
            restrictions: None,
        };
        let k1 = create(&app, &admin, new("one"), &OsKeyGenerator)
            .await
            .expect("k1")
            .unmasked_key;
        let k2 = create(&app, &admin, new("two"), &OsKeyGenerator)
            .await
            .expect("k2")
            .unmasked_key;
        let (k1, k2) = (k1.as_str(), k2.as_str());
        let verify = |k: &str| {
            let app = app.clone();
            let k = k.to_string();
            async move {
                app.api_keys
                    .verify(&app.store, Some(&k), app.clock.now())
                    .await
                    .expect("verify")
            }
        };
        let ok = |v: &Verdict| matches!(v, Verdict::Ok(_));

        // Listening: the second verification is served from the cache.
        assert!(ok(&verify(k1).await));
        assert!(ok(&verify(k1).await));
        assert_eq!(spy.auth_calls(), 1);
        assert_eq!(app.api_keys.cache_len(), 1);

        // The listener drops: the cache is emptied and every request goes to the database.
        app.api_keys.set_trusted(false);
        assert_eq!(app.api_keys.cache_len(), 0);
        assert!(ok(&verify(k1).await));
        assert!(ok(&verify(k2).await));
        assert!(ok(&verify(k2).await));
        assert_eq!(spy.auth_calls(), 4);
        assert_eq!(app.api_keys.cache_len(), 0);

        // Another instance deletes k1; its notification is lost with the connection, and no
        // local eviction happens. The next request is still refused.
        let mut tx = app.store.begin().await.expect("begin");
        tx.api_key_delete(1).await.expect("delete");
        tx.commit().await.expect("commit");
        assert_eq!(verify(k1).await, Verdict::Unknown);

        // Listening again: emptied once more, then used again.
        app.api_keys.set_trusted(true);
        assert_eq!(app.api_keys.cache_len(), 0);
        let before = spy.auth_calls();
        assert!(ok(&verify(k2).await));
        assert!(ok(&verify(k2).await));
        assert_eq!(spy.auth_calls(), before + 1);
    }
}
