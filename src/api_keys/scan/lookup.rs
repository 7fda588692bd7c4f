//! The database side of the leak scanner (key-restrictions.md §5): each key found is looked up
//! by its SHA-256 digest only (the index authentication uses, api-keys.md §4.3), and `--revoke`
//! deletes the live ones through the same service path as `DELETE /api/api-key/:id`.
use std::collections::{BTreeMap, HashMap};

use crate::api_keys::format::KeyDigest;
use crate::api_keys::service;
use crate::api_keys::store::KeyAuthRow;
use crate::clock::Timestamp;
use crate::error::ApiError;
use crate::state::App;
use crate::store::{DynStore, StoreError};

/// What a secret found in a file still is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// The key's current secret, not expired.
    Active,
    /// A previous secret still in its grace period (api-keys.md §5.5).
    Retired,
    /// The key has expired, or the retired secret's grace period is over.
    Expired,
    /// No key has this secret: deleted, replaced without a grace period, or never issued here.
    RevokedOrUnknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Retired => "retired",
            Status::Expired => "expired",
            Status::RevokedOrUnknown => "revoked-or-unknown",
        }
    }

    /// Does `--revoke` delete the key?
    pub fn revocable(self) -> bool {
        matches!(self, Status::Active | Status::Retired)
    }
}

/// The status of a secret whose digest matched `row` (or nothing) at `now` (microseconds).
/// Whether the key user is active does not matter: a deactivated key user can be reactivated,
/// so its key is still worth revoking.
pub fn status(row: Option<&KeyAuthRow>, now: i64) -> Status {
    let Some(row) = row else {
        return Status::RevokedOrUnknown;
    };
    if row.expires_at.is_some_and(|e| now >= e) {
        Status::Expired
    } else if row.matched_current {
        Status::Active
    } else if row.previous_key_valid_until.is_some_and(|v| now < v) {
        Status::Retired
    } else {
        Status::Expired
    }
}

/// What the application database says about one secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub key_id: Option<i64>,
    pub key_name: Option<String>,
    pub status: Status,
}

/// Looks every digest up once, at `now`.
pub async fn look_up(
    store: &DynStore,
    digests: impl IntoIterator<Item = KeyDigest>,
    now: Timestamp,
) -> Result<HashMap<KeyDigest, KeyInfo>, StoreError> {
    let mut out = HashMap::new();
    let mut tx = store.read().await?;
    for digest in digests {
        if out.contains_key(&digest) {
            continue;
        }
        let row = store.api_key_auth(&digest.0).await?;
        let status = status(row.as_ref(), now.micros());
        let (key_id, key_name) = match &row {
            Some(r) => (
                Some(r.key_id),
                tx.api_key_get(r.key_id).await?.map(|k| k.name),
            ),
            None => (None, None),
        };
        out.insert(
            digest,
            KeyInfo {
                key_id,
                key_name,
                status,
            },
        );
    }
    Ok(out)
}

/// A key `--revoke` deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    pub key_id: i64,
    pub key_name: String,
}

/// Deletes every key with an active or retired secret among `infos`, once each, in id order.
/// A key deleted meanwhile by someone else is skipped; any other failure is returned with the
/// keys revoked before it.
pub async fn revoke(
    app: &App,
    infos: &HashMap<KeyDigest, KeyInfo>,
) -> (Vec<Revoked>, Option<ApiError>) {
    let live: BTreeMap<i64, String> = infos
        .values()
        .filter(|i| i.status.revocable())
        .filter_map(|i| Some((i.key_id?, i.key_name.clone().unwrap_or_default())))
        .collect();
    let mut done = Vec::new();
    for (key_id, key_name) in live {
        match service::revoke_leaked(app, key_id).await {
            Ok(()) => done.push(Revoked { key_id, key_name }),
            Err(ApiError::NotFound) => {}
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(current: bool, expires_at: Option<i64>, valid_until: Option<i64>) -> KeyAuthRow {
        KeyAuthRow {
            key_id: 1,
            user_id: 2,
            matched_current: current,
            expires_at,
            previous_key_valid_until: valid_until,
            is_active: true,
            is_superuser: false,
            group_ids: vec![1],
            restrictions: None,
        }
    }

    #[test]
    fn statuses() {
        let now = 1_000;
        assert_eq!(status(None, now), Status::RevokedOrUnknown);
        assert_eq!(status(Some(&row(true, None, None)), now), Status::Active);
        assert_eq!(
            status(Some(&row(true, Some(1_001), None)), now),
            Status::Active
        );
        // Expired from the instant `expires_at` is reached (api-keys.md §4.3).
        assert_eq!(
            status(Some(&row(true, Some(1_000), None)), now),
            Status::Expired
        );
        assert_eq!(
            status(Some(&row(false, None, Some(1_001))), now),
            Status::Retired
        );
        assert_eq!(
            status(Some(&row(false, None, Some(1_000))), now),
            Status::Expired
        );
        assert_eq!(status(Some(&row(false, None, None)), now), Status::Expired);
        assert_eq!(
            status(Some(&row(false, Some(999), Some(2_000))), now),
            Status::Expired
        );
        let mut inactive = row(true, None, None);
        inactive.is_active = false;
        assert_eq!(status(Some(&inactive), now), Status::Active);
    }

    #[test]
    fn only_live_secrets_are_revocable() {
        let names: Vec<_> = [
            Status::Active,
            Status::Retired,
            Status::Expired,
            Status::RevokedOrUnknown,
        ]
        .into_iter()
        .map(|s| (s.as_str(), s.revocable()))
        .collect();
        assert_eq!(
            names,
            vec![
                ("active", true),
                ("retired", true),
                ("expired", false),
                ("revoked-or-unknown", false)
            ]
        );
    }
}
