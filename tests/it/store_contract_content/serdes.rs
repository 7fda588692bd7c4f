//! `SerdesTx`: the whole-row writes of import.
use super::*;

// ---------------------------------------------------------------------------------------------
// SerdesTx
// ---------------------------------------------------------------------------------------------

both!(
    contract_serdes_oldest_admin_is_the_earliest_active_person,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        user(tx.as_mut(), "plain@example.com", false, -3).await;
        tx.user_insert(&NewUser {
            email: "robot@api-key.invalid".into(),
            first_name: None,
            last_name: None,
            password_hash: None,
            key_user: true,
            is_superuser: true,
            is_installer: false,
            locale: None,
            login_attributes: None,
            now: -2,
        })
        .await
        .unwrap();
        let later = user(tx.as_mut(), "later@example.com", true, 5).await;
        assert_eq!(tx.serdes_oldest_admin().await.unwrap(), Some(later));
        let first = user(tx.as_mut(), "first@example.com", true, -1).await;
        assert_eq!(tx.serdes_oldest_admin().await.unwrap(), Some(first));
    }
);

both!(
    contract_serdes_collection_insert_and_update_write_every_column,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let owner = user(tx.as_mut(), "owner@example.com", false, 1).await;
        let parent = coll(tx.as_mut(), "sd-parent", "/").await.id;
        let row = CollectionRow {
            id: 0,
            entity_id: "imported-eid-0000001".into(),
            name: "Importé 📦".into(),
            description: Some("d".into()),
            location: format!("/{parent}/"),
            personal_owner_id: Some(owner),
            namespace: Some("snippets".into()),
            kind: Some("instance-analytics".into()),
            authority_level: Some("official".into()),
            archived: true,
            archived_directly: Some(false),
            archive_operation_id: Some("op".into()),
            is_sample: true,
            created_at: 1_600_000_000_000_000,
        };
        let id = tx.serdes_collection_insert(&row).await.unwrap();
        let got = tx.collection_get(id).await.unwrap().unwrap();
        assert_eq!(
            format!("{got:?}"),
            format!("{:?}", CollectionRow { id, ..row.clone() })
        );
        let cleared = CollectionRow {
            id,
            entity_id: "imported-eid-0000002".into(),
            name: "n".into(),
            description: None,
            location: "/".into(),
            personal_owner_id: None,
            namespace: None,
            kind: None,
            authority_level: None,
            archived: false,
            archived_directly: None,
            archive_operation_id: None,
            is_sample: false,
            created_at: 3,
        };
        tx.serdes_collection_update(&cleared).await.unwrap();
        let got = tx
            .collection_by_entity_id("imported-eid-0000002")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(format!("{got:?}"), format!("{cleared:?}"));
        tx.serdes_collection_update(&row_with_id(&row, id))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // One personal collection per user; entity ids unique.
        for eid in ["other-eid", "imported-eid-0000001"] {
            let mut tx = t.app.store.begin().await.unwrap();
            let r = tx
                .serdes_collection_insert(&CollectionRow {
                    entity_id: eid.into(),
                    ..row.clone()
                })
                .await;
            assert!(is_conflict(&r), "{eid}: {r:?}");
        }
    }
);

fn row_with_id(row: &CollectionRow, id: i64) -> CollectionRow {
    CollectionRow { id, ..row.clone() }
}

both!(
    contract_serdes_origins_tab_and_database_update,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "orig@example.com", false, 1).await;
        let v = user(tx.as_mut(), "orig2@example.com", false, 1).await;
        let d = tx.dashboard_insert(&dash("or-d", u, None)).await.unwrap();
        let tb = tx.tab_insert(&tab("or-t", d, 0)).await.unwrap();
        let k = tx
            .card_insert(&CardRow {
                dashboard_id: Some(d),
                ..bare_card("or-k", u)
            })
            .await
            .unwrap();
        tx.serdes_card_origin(k, 123, v).await.unwrap();
        tx.serdes_card_tab(k, tb).await.unwrap();
        tx.serdes_dashboard_origin(d, 456, v).await.unwrap();
        let c = tx.card_get(k).await.unwrap().unwrap();
        assert_eq!(
            (c.created_at, c.creator_id, c.dashboard_tab_id, c.updated_at),
            (123, v, Some(tb), 1_700_000_000_000_003)
        );
        let dr = tx.dashboard_get(d).await.unwrap().unwrap();
        assert_eq!((dr.created_at, dr.creator_id, dr.updated_at), (456, v, 12));

        let db = tx
            .database_insert(&database("sd-db", Some(u)), None)
            .await
            .unwrap();
        let import = DatabaseRow {
            id: db,
            name: "not written".into(),
            description: None,
            engine: "h2".into(),
            details: big_json(),
            is_sample: true,
            auto_run_queries: true,
            cache_ttl: None,
            creator_id: None,
            created_at: 7,
            updated_at: 8,
        };
        tx.serdes_database_update(&import).await.unwrap();
        // name, is_sample and creator_id are kept (the trait's doc names only id and name).
        assert_eq!(
            tx.database_get(db).await.unwrap().unwrap(),
            DatabaseRow {
                name: "sd-db".into(),
                is_sample: false,
                creator_id: Some(u),
                ..import
            }
        );
        tx.commit().await.unwrap();
        let mut tx = t.app.store.begin().await.unwrap();
        assert!(is_conflict(&tx.serdes_card_tab(k, MISSING).await));
        drop(tx);
        let mut tx = t.app.store.begin().await.unwrap();
        assert!(is_conflict(&tx.serdes_card_origin(k, 1, MISSING).await));
    }
);
