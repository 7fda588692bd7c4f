//! Session rules (people-and-groups.md 2): random UUID ids stored only as SHA-256 digests,
//! a fixed lifetime from login, Metabase's two login throttlers, and Argon2id verification off
//! the async threads with a dummy hash for unknown users.
use std::time::Instant;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::input::Login;
use super::throttle::Throttler;
use crate::audit::AuditEvent;
use crate::auth::{Principal, Via};
use crate::clock::Timestamp;
use crate::error::{ApiError, ApiResult};
use crate::passwords;
use crate::state::App;
use crate::store::{StoreResult, Tx};

pub struct SessionService {
    username: Throttler,
    ip: Throttler,
    throttle: bool,
    max_age_micros: i64,
}

pub fn digest(sid: &uuid::Uuid) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(sid.hyphenated().to_string().as_bytes());
    h.finalize().into()
}

/// Creates a session for `user_id` inside `tx` and returns its id.
pub async fn create_session(
    tx: &mut dyn Tx,
    user_id: i64,
    now: Timestamp,
) -> StoreResult<uuid::Uuid> {
    let sid = uuid::Uuid::new_v4();
    tx.session_insert(&digest(&sid), user_id, now.micros())
        .await?;
    Ok(sid)
}

/// A successful login: a new session, the login recorded (and the password rehashed when its
/// parameters are outdated), `user-joined` on the first login, then `user-login`.
async fn start_session(app: &App, user_id: i64, rehash: Option<String>) -> ApiResult<uuid::Uuid> {
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    let sid = create_session(tx.as_mut(), user_id, now).await?;
    let first = tx.user_record_login(user_id, now.micros()).await?;
    if let Some(h) = rehash {
        tx.user_set_password(user_id, &h).await?;
    }
    let event = |topic| AuditEvent {
        topic,
        timestamp: now,
        user_id: Some(user_id),
        model: "User",
        model_id: Some(user_id),
        details: json!({}),
    };
    if first {
        tx.audit_insert(&event("user-joined")).await?;
    }
    tx.audit_insert(&event("user-login")).await?;
    tx.commit().await?;
    Ok(sid)
}

fn login_error(field: &str, message: String) -> ApiError {
    ApiError::JsonBody(
        crate::error::Kind::Unauthenticated,
        json!({"errors": {field: message}}),
    )
}

impl SessionService {
    pub fn new(config: &crate::config::Config) -> Self {
        SessionService {
            username: Throttler::new(10),
            ip: Throttler::new(50),
            throttle: !config.disable_session_throttle,
            max_age_micros: config.max_session_age_minutes.saturating_mul(60_000_000),
        }
    }

    pub async fn authenticate(&self, app: &App, sid: uuid::Uuid) -> ApiResult<Option<Principal>> {
        let Some(row) = app.store.session_auth(&digest(&sid)).await? else {
            return Ok(None);
        };
        let now = app.clock.now().micros();
        if !row.is_active || now - row.created_at >= self.max_age_micros {
            return Ok(None);
        }
        Ok(Some(Principal {
            user_id: row.user_id,
            is_superuser: row.is_superuser,
            group_ids: row.group_ids.into(),
            via: Via::Session,
            restrictions: None,
        }))
    }

    fn record_failure(&self, username_key: &str, ip: &str, now: Instant) {
        if self.throttle {
            self.username.record_failure(username_key, now);
            self.ip.record_failure(ip, now);
        }
    }

    /// `POST /api/session` after validation. Returns the new session id.
    pub async fn login(
        &self,
        app: &App,
        login: Login,
        ip: std::net::IpAddr,
    ) -> ApiResult<uuid::Uuid> {
        let now_i = Instant::now();
        let ukey = login.username.to_lowercase();
        let ipkey = ip.to_string();
        self.check_throttle(&ukey, &ipkey, now_i)?;
        let user = {
            let mut tx = app.store.read().await?;
            tx.user_get_by_email(&ukey).await?
        }
        .filter(|u| !u.is_key_user());
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let ok = passwords::verify_password(login.password.clone(), stored.clone()).await;
        let Some(user) = user.filter(|_| ok) else {
            self.record_failure(&ukey, &ipkey, now_i);
            return Err(login_error(
                "password",
                "did not match stored password".into(),
            ));
        };
        if !user.is_active {
            self.record_failure(&ukey, &ipkey, now_i);
            return Err(login_error("_error", "Your account is disabled.".into()));
        }
        let rehash = match stored.as_deref() {
            Some(h) if passwords::needs_rehash(h) => {
                passwords::hash_password(login.password.clone()).await.ok()
            }
            _ => None,
        };
        start_session(app, user.id, rehash).await
    }

    /// Refuses (and counts) an attempt while the username or the address is throttled.
    fn check_throttle(&self, ukey: &str, ipkey: &str, now: Instant) -> ApiResult<()> {
        if !self.throttle {
            return Ok(());
        }
        let waited = self
            .username
            .check(ukey, now)
            .and_then(|()| self.ip.check(ipkey, now));
        if let Err(wait) = waited {
            self.record_failure(ukey, ipkey, now);
            return Err(login_error(
                "username",
                format!("Too many attempts! You must wait {wait} seconds before trying again."),
            ));
        }
        Ok(())
    }

    /// `DELETE /api/session`: ends exactly the presented session.
    pub async fn logout(&self, app: &App, sid: Option<uuid::Uuid>) -> ApiResult<()> {
        let sid = sid.ok_or(ApiError::NotFound)?;
        let mut tx = app.store.begin().await?;
        let deleted = tx.session_delete(&digest(&sid)).await?;
        tx.commit().await?;
        if deleted {
            Ok(())
        } else {
            Err(ApiError::NotFound)
        }
    }

    pub async fn sweep_expired(&self, app: &App) {
        let cutoff = app.clock.now().micros() - self.max_age_micros;
        let result = async {
            let mut tx = app.store.begin().await?;
            let n = tx.session_delete_created_before(cutoff).await?;
            tx.commit().await?;
            Ok::<u64, crate::store::StoreError>(n)
        }
        .await;
        match result {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "session sweep failed"),
        }
    }
}
