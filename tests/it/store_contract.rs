//! The storage contract: the `Store`/`Tx` interface itself, run against both backends (in-memory
//! SQLite and a fresh PostgreSQL database). Every behaviour a service relies on is pinned here:
//! constraint violations surface as `Conflict`, rollback on drop, cascades, forward-only writes.
use ferrobase::api_keys::format;
use ferrobase::api_keys::store::{KeyFields, KeyRotation, NewApiKey};
use ferrobase::audit::store::AuditFilter;
use ferrobase::audit::AuditEvent;
use ferrobase::clock::Timestamp;
use ferrobase::store::{StoreError, Tx};
use ferrobase::users::store::NewUser;
use serde_json::json;

use crate::both;

fn person(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        first_name: Some("Émile".into()),
        last_name: None,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$x$y".into()),
        key_user: false,
        is_superuser: false,
        is_installer: false,
        locale: Some("fr_FR".into()),
        login_attributes: Some(r#"{"a":"b"}"#.into()),
        now: 1_700_000_000_123_456,
    }
}

async fn key(tx: &mut dyn Tx, name: &str) -> (i64, format::PlainKey) {
    let user = tx
        .user_insert(&NewUser {
            key_user: true,
            ..person(&format!("{name}@api-key.invalid"))
        })
        .await
        .unwrap();
    tx.membership_insert(user, 1).await.unwrap();
    let plain = format::generate_os();
    let id = tx
        .api_key_insert(&NewApiKey {
            name: name.into(),
            user_id: user,
            key_hash: plain.digest().0.to_vec(),
            key_prefix: plain.prefix().into(),
            expires_at: None,
            restrictions: None,
            creator_id: user,
            now: 5,
        })
        .await
        .unwrap();
    (id, plain)
}

both!(
    contract_fixed_groups_and_setup_token_are_seeded,
    |t| async move {
        let mut tx = t.app.store.read().await.unwrap();
        assert_eq!(tx.group_get(1).await.unwrap().unwrap().name, "All Users");
        assert_eq!(
            tx.group_get(2)
                .await
                .unwrap()
                .unwrap()
                .magic_group_type
                .as_deref(),
            Some("admin")
        );
        assert!(tx.setting_get("setup-token").await.unwrap().is_some());
    }
);

both!(
    contract_users_round_trip_and_unique_email_is_a_conflict,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let id = tx.user_insert(&person("emile@example.com")).await.unwrap();
        let u = tx.user_get(id).await.unwrap().unwrap();
        assert_eq!(u.first_name.as_deref(), Some("Émile"));
        assert_eq!(u.date_joined, 1_700_000_000_123_456);
        assert!(u.is_active && u.is_qbnewb && !u.is_superuser && !u.is_key_user());
        assert_eq!(
            tx.user_get_by_email("emile@example.com")
                .await
                .unwrap()
                .unwrap()
                .id,
            id
        );
        let dup = tx.user_insert(&person("emile@example.com")).await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    }
);

both!(contract_dropping_a_transaction_rolls_back, |t| async move {
    {
        let mut tx = t.app.store.begin().await.unwrap();
        tx.user_insert(&person("gone@example.com")).await.unwrap();
        // dropped without commit
    }
    let mut tx = t.app.store.read().await.unwrap();
    assert!(tx
        .user_get_by_email("gone@example.com")
        .await
        .unwrap()
        .is_none());
});

both!(
    contract_group_delete_cascades_memberships_and_names_are_unique,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let uid = tx.user_insert(&person("m@example.com")).await.unwrap();
        let g = tx.group_insert("Analysts").await.unwrap();
        assert!(g.id >= 3);
        tx.commit().await.unwrap();
        // After a Conflict the transaction is abandoned (PostgreSQL aborts it; services return).
        let mut tx = t.app.store.begin().await.unwrap();
        assert!(matches!(
            tx.group_insert("analysts").await,
            Err(StoreError::Conflict(_))
        ));
        drop(tx);
        let mut tx = t.app.store.begin().await.unwrap();
        let m = tx.membership_insert(uid, g.id).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = t.app.store.begin().await.unwrap();
        assert!(matches!(
            tx.membership_insert(uid, g.id).await,
            Err(StoreError::Conflict(_))
        ));
        drop(tx);
        let mut tx = t.app.store.begin().await.unwrap();
        assert_eq!(tx.membership_find(uid, g.id).await.unwrap().unwrap().id, m);
        tx.group_delete(g.id).await.unwrap();
        assert!(tx.membership_get(m).await.unwrap().is_none());
        assert!(tx.group_get(g.id).await.unwrap().is_none());
        tx.commit().await.unwrap();
    }
);

both!(
    contract_sessions_authenticate_with_groups_and_delete,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let uid = tx.user_insert(&person("s@example.com")).await.unwrap();
        tx.membership_insert(uid, 1).await.unwrap();
        // A current creation time: the hourly sweep must not find it expired.
        let created = t.app.clock.now().micros();
        tx.session_insert(&[7u8; 32], uid, created).await.unwrap();
        tx.commit().await.unwrap();
        let row = t.app.store.session_auth(&[7u8; 32]).await.unwrap().unwrap();
        assert_eq!(
            (row.user_id, row.created_at, row.group_ids.clone()),
            (uid, created, vec![1])
        );
        assert!(t
            .app
            .store
            .session_auth(&[8u8; 32])
            .await
            .unwrap()
            .is_none());
        let mut tx = t.app.store.begin().await.unwrap();
        assert_eq!(
            tx.session_delete_created_before(created + 1).await.unwrap(),
            1
        );
        assert!(!tx.session_delete(&[7u8; 32]).await.unwrap());
        tx.commit().await.unwrap();
    }
);

both!(contract_api_key_restrictions_round_trip, |t| async move {
    let mut tx = t.app.store.begin().await.unwrap();
    let (id, plain) = key(tx.as_mut(), "restricted").await;
    let text = r#"{"access":"read-only","databases":[1,3]}"#;
    let fields = KeyFields {
        name: "restricted",
        expires_at: None,
        restrictions: Some(text),
        updated_by_id: 1,
        now: 7,
    };
    tx.api_key_set_fields(id, &fields).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = t.app.store.read().await.unwrap();
    let row = tx.api_key_get(id).await.unwrap().unwrap();
    assert_eq!(row.restrictions.as_deref(), Some(text));
    let listed = tx.api_key_list().await.unwrap();
    assert_eq!(listed.restrictions, vec![(id, text.to_string())]);
    drop(tx);
    let auth = t
        .app
        .store
        .api_key_auth(&plain.digest().0)
        .await
        .unwrap()
        .unwrap();
    let r = auth.restrictions.expect("restrictions");
    assert!(r.read_only());
    assert!(r.allows_database(3) && !r.allows_database(2));
    // `null` clears them; a value that restricts nothing is not carried by authentication.
    let mut tx = t.app.store.begin().await.unwrap();
    let cleared = KeyFields {
        restrictions: Some(r#"{"access":"read-write"}"#),
        ..fields
    };
    tx.api_key_set_fields(id, &cleared).await.unwrap();
    tx.commit().await.unwrap();
    let auth = t
        .app
        .store
        .api_key_auth(&plain.digest().0)
        .await
        .unwrap()
        .unwrap();
    assert!(auth.restrictions.is_none());
    let mut tx = t.app.store.begin().await.unwrap();
    tx.api_key_set_fields(
        id,
        &KeyFields {
            restrictions: None,
            ..cleared
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = t.app.store.read().await.unwrap();
    assert!(tx
        .api_key_get(id)
        .await
        .unwrap()
        .unwrap()
        .restrictions
        .is_none());
    assert!(tx.api_key_list().await.unwrap().restrictions.is_empty());
});

both!(contract_api_key_lookup_touch_and_rotation, |t| async move {
    let mut tx = t.app.store.begin().await.unwrap();
    let (id, plain) = key(tx.as_mut(), "k1").await;
    assert!(tx.api_key_prefix_taken(plain.prefix(), 0).await.unwrap());
    tx.commit().await.unwrap();
    let digest = plain.digest().0;
    let row = t.app.store.api_key_auth(&digest).await.unwrap().unwrap();
    assert!(row.matched_current && row.is_active);
    assert_eq!((row.key_id, row.group_ids.clone()), (id, vec![1]));
    // last_used_at only moves forward and never touches updated_at.
    t.app.store.api_key_touch(&[(id, 100)]).await.unwrap();
    t.app.store.api_key_touch(&[(id, 50)]).await.unwrap();
    let mut tx = t.app.store.read().await.unwrap();
    let k = tx.api_key_get(id).await.unwrap().unwrap();
    assert_eq!(
        (k.last_used_at, k.updated_at, k.group_id),
        (Some(100), 5, 1)
    );
    drop(tx);
    // Rotation with a grace period keeps the old digest findable as the retired secret.
    let next = format::generate_os();
    let mut tx = t.app.store.begin().await.unwrap();
    tx.api_key_rotate(
        id,
        &KeyRotation {
            key_hash: next.digest().0.to_vec(),
            key_prefix: next.prefix().into(),
            previous_valid_until: Some(1_000),
            updated_by_id: k.user_id,
            now: 10,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let old = t.app.store.api_key_auth(&digest).await.unwrap().unwrap();
    assert!(!old.matched_current);
    assert_eq!(old.previous_key_valid_until, Some(1_000));
    let new = t
        .app
        .store
        .api_key_auth(&next.digest().0)
        .await
        .unwrap()
        .unwrap();
    assert!(new.matched_current);
    let mut tx = t.app.store.begin().await.unwrap();
    assert!(tx.api_key_prefix_taken(plain.prefix(), 999).await.unwrap());
    assert!(!tx
        .api_key_prefix_taken(plain.prefix(), 1_000)
        .await
        .unwrap());
    tx.api_key_delete(id).await.unwrap();
    tx.commit().await.unwrap();
    assert!(t
        .app
        .store
        .api_key_auth(&next.digest().0)
        .await
        .unwrap()
        .is_none());
});

both!(
    contract_audit_log_filters_pages_and_orders_newest_first,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        for i in 1..=3 {
            tx.audit_insert(&AuditEvent {
                topic: "group-create",
                timestamp: Timestamp(i),
                user_id: Some(1),
                model: if i == 2 { "User" } else { "PermissionsGroup" },
                model_id: Some(i),
                details: json!({"n": i}),
            })
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let mut tx = t.app.store.read().await.unwrap();
        let all = AuditFilter {
            model: None,
            model_id: None,
            limit: 10,
            offset: 0,
        };
        let (rows, total) = tx.audit_list(&all).await.unwrap();
        assert_eq!(total, 3);
        assert_eq!(
            rows.iter().map(|r| r.model_id).collect::<Vec<_>>(),
            vec![Some(3), Some(2), Some(1)]
        );
        let f = AuditFilter {
            model: Some("PermissionsGroup".into()),
            model_id: None,
            limit: 1,
            offset: 1,
        };
        let (rows, total) = tx.audit_list(&f).await.unwrap();
        assert_eq!((rows.len(), total, rows[0].model_id), (1, 2, Some(1)));
        assert_eq!(rows[0].details, r#"{"n":1}"#);
    }
);

both!(contract_settings_upsert, |t| async move {
    let mut tx = t.app.store.begin().await.unwrap();
    tx.setting_set("site-name", Some("A")).await.unwrap();
    tx.setting_set("site-name", Some("B")).await.unwrap();
    assert_eq!(
        tx.setting_get("site-name").await.unwrap().as_deref(),
        Some("B")
    );
    tx.setting_set("site-name", None).await.unwrap();
    assert_eq!(tx.setting_get("site-name").await.unwrap(), None);
    tx.commit().await.unwrap();
});
