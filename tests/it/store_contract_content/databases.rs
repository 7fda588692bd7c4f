//! `DatabaseTx` (registry rows, cascades to cards, last-used touch) and `PermissionTx`
//! (data-permission entries and revisions).
use super::*;

// ---------------------------------------------------------------------------------------------
// DatabaseTx
// ---------------------------------------------------------------------------------------------

both!(
    contract_database_round_trip_name_lookup_and_unique_name,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "db@example.com", false, 1).await;
        let full = database("Entrepôt 🏭", Some(u));
        let id = tx.database_insert(&full, None).await.unwrap();
        let bare = DatabaseRow {
            description: None,
            cache_ttl: None,
            creator_id: None,
            is_sample: true,
            auto_run_queries: true,
            ..database("bare", None)
        };
        let bare_id = tx.database_insert(&bare, None).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = t.app.store.begin().await.unwrap();
        assert_eq!(
            tx.database_get(id).await.unwrap().unwrap(),
            DatabaseRow { id, ..full.clone() }
        );
        assert_eq!(
            tx.database_get_by_name("bare").await.unwrap().unwrap(),
            DatabaseRow {
                id: bare_id,
                ..bare
            }
        );
        // Names match exactly (case and all) on both backends.
        assert!(tx.database_get_by_name("BARE").await.unwrap().is_none());
        assert!(tx.database_get(MISSING).await.unwrap().is_none());
        let listed: Vec<i64> = tx
            .database_list()
            .await
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        assert!(
            listed.contains(&id) && listed.contains(&bare_id),
            "{listed:?}"
        );
        let changed = DatabaseRow {
            id,
            name: "Renamed".into(),
            description: None,
            engine: "sqlite".into(),
            details: "{}".into(),
            is_sample: true,
            auto_run_queries: true,
            cache_ttl: None,
            creator_id: None,
            created_at: 1,
            updated_at: 2,
        };
        tx.database_update(&changed).await.unwrap();
        assert_eq!(
            tx.database_get(id).await.unwrap().unwrap(),
            DatabaseRow {
                creator_id: Some(u),
                created_at: 41,
                ..changed
            }
        );
        tx.commit().await.unwrap();
        let mut tx = t.app.store.begin().await.unwrap();
        assert!(is_conflict(
            &tx.database_insert(&database("bare", None), None).await
        ));
        drop(tx);
        let mut tx = t.app.store.begin().await.unwrap();
        let r = tx
            .database_update(&DatabaseRow {
                id: bare_id,
                ..database("Renamed", None)
            })
            .await;
        assert!(is_conflict(&r), "{r:?}");
    }
);

both!(
    contract_database_insert_with_explicit_id_keeps_it,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let id = tx
            .database_insert(&database("explicit", None), Some(4_321))
            .await
            .unwrap();
        assert_eq!(id, 4_321);
        assert_eq!(
            tx.database_get(4_321).await.unwrap().unwrap().name,
            "explicit"
        );
        assert!(is_conflict(
            &tx.database_insert(&database("again", None), Some(4_321))
                .await
        ));
    }
);

// Ids generated after an insert with an explicit id must not collide with it: SQLite's
// AUTOINCREMENT moves past the explicit id by itself, PostgreSQL's sequence is moved by
// `PgTx::id_inserted` (found by this test; before, the next generated id was a Conflict).
both!(
    contract_database_explicit_id_does_not_collide_with_later_generated_ids,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let first = tx
            .database_insert(&database("g1", None), None)
            .await
            .unwrap();
        tx.database_insert(&database("explicit-next", None), Some(first + 1))
            .await
            .unwrap();
        let r = tx.database_insert(&database("g2", None), None).await;
        assert!(matches!(r, Ok(id) if id > first + 1), "{r:?}");
    }
);

both!(
    contract_database_delete_cascades_cards_and_their_dashcards,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "dbdel@example.com", false, 1).await;
        let db = tx
            .database_insert(&database("gone", Some(u)), None)
            .await
            .unwrap();
        let keep_db = tx
            .database_insert(&database("kept", Some(u)), None)
            .await
            .unwrap();
        let on = |eid: &str, db: i64| CardRow {
            database_id: Some(db),
            ..bare_card(eid, u)
        };
        let c1 = tx.card_insert(&on("db-c1", db)).await.unwrap();
        let c2 = tx.card_insert(&on("db-c2", db)).await.unwrap();
        let c3 = tx.card_insert(&on("db-c3", keep_db)).await.unwrap();
        let d = tx.dashboard_insert(&dash("db-d", u, None)).await.unwrap();
        tx.dashcard_insert(&dashcard("db-dc", d, None, Some(c1)))
            .await
            .unwrap();
        let mut ids = tx.database_card_ids(db).await.unwrap();
        ids.sort();
        assert_eq!(ids, vec![c1, c2]);
        assert!(tx.database_card_ids(MISSING).await.unwrap().is_empty());
        tx.data_perm_set(&perm(1, db, "unrestricted"))
            .await
            .unwrap();
        tx.database_delete(db).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = t.app.store.read().await.unwrap();
        assert!(tx.database_get(db).await.unwrap().is_none());
        assert!(tx.card_get(c1).await.unwrap().is_none());
        assert!(tx.card_get(c2).await.unwrap().is_none());
        assert!(tx.card_get(c3).await.unwrap().is_some());
        assert!(tx.dashcard_list(d).await.unwrap().is_empty());
        // Data permissions have no foreign key: the service deletes them itself.
        assert_eq!(tx.data_perm_of_database(db).await.unwrap().len(), 1);
    }
);

both!(
    contract_database_card_touch_last_used_leaves_updated_at,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "touch@example.com", false, 1).await;
        let k = tx.card_insert(&bare_card("touch", u)).await.unwrap();
        tx.card_touch_last_used(k, 1_800_000_000_000_000)
            .await
            .unwrap();
        tx.card_touch_last_used(MISSING, 1).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = t.app.store.read().await.unwrap();
        let got = tx.card_get(k).await.unwrap().unwrap();
        assert_eq!(
            (got.last_used_at, got.updated_at),
            (Some(1_800_000_000_000_000), 1_700_000_000_000_003)
        );
    }
);

// ---------------------------------------------------------------------------------------------
// PermissionTx
// ---------------------------------------------------------------------------------------------

fn perm(group_id: i64, database_id: i64, view: &str) -> DataPermRow {
    DataPermRow {
        group_id,
        database_id,
        view_data: Grant::from_db(view),
        create_queries: Grant::Plain(CreateQueries::QueryBuilderAndNative),
        download: "full".into(),
        data_model: "all".into(),
        details: "no".into(),
    }
}

both!(
    contract_permission_data_perm_upsert_per_pair_and_delete_by_database,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let (db1, db2) = (9_001, 9_002);
        assert!(tx.data_perm_of_database(db1).await.unwrap().is_empty());
        let before = tx.data_perm_all().await.unwrap().len();
        tx.data_perm_set(&perm(1, db1, "unrestricted"))
            .await
            .unwrap();
        tx.data_perm_set(&perm(2, db1, "unrestricted"))
            .await
            .unwrap();
        tx.data_perm_set(&perm(1, db2, "unrestricted"))
            .await
            .unwrap();
        let replaced = DataPermRow {
            create_queries: Grant::Plain(CreateQueries::No),
            download: "none".into(),
            data_model: "none".into(),
            details: "yes".into(),
            ..perm(1, db1, "blocked")
        };
        tx.data_perm_set(&replaced).await.unwrap();
        let mut of = tx.data_perm_of_database(db1).await.unwrap();
        of.sort_by_key(|r| r.group_id);
        assert_eq!(of, vec![replaced.clone(), perm(2, db1, "unrestricted")]);
        assert_eq!(tx.data_perm_all().await.unwrap().len(), before + 3);
        // Granular values (data-model.md §4.1) are stored and read back as they were.
        let granular = DataPermRow {
            create_queries: Grant::from_db(r#"{"":{"3":"query-builder","12":"no"},"s":"no"}"#),
            ..perm(3, 9_003, r#"{"public":"unrestricted","":{"7":"blocked"}}"#)
        };
        assert!(matches!(granular.view_data, Grant::Schemas(_)));
        assert!(matches!(granular.create_queries, Grant::Schemas(_)));
        tx.data_perm_set(&granular).await.unwrap();
        assert_eq!(
            tx.data_perm_of_database(9_003).await.unwrap(),
            vec![granular]
        );
        tx.data_perm_delete_database(9_003).await.unwrap();
        tx.data_perm_delete_database(db1).await.unwrap();
        assert!(tx.data_perm_of_database(db1).await.unwrap().is_empty());
        assert_eq!(
            tx.data_perm_of_database(db2).await.unwrap(),
            vec![perm(1, db2, "unrestricted")]
        );
        tx.commit().await.unwrap();
        {
            let mut tx = t.app.store.begin().await.unwrap();
            tx.data_perm_set(&perm(1, db2, "blocked")).await.unwrap();
        }
        let mut tx = t.app.store.read().await.unwrap();
        assert_eq!(
            tx.data_perm_of_database(db2).await.unwrap()[0].view_data,
            Grant::Plain(ViewData::Unrestricted)
        );
    }
);

both!(contract_permission_tables_of_a_database, |t| async move {
    // The Sample Database's four tables, with their schema (`""` on SQLite).
    let mut tx = t.app.store.read().await.unwrap();
    assert_eq!(
        tx.data_perm_tables(1).await.unwrap(),
        vec![
            (String::new(), 1),
            (String::new(), 2),
            (String::new(), 3),
            (String::new(), 4)
        ]
    );
    assert!(tx.data_perm_tables(999).await.unwrap().is_empty());
});

both!(contract_permission_revision_counts_up, |t| async move {
    let mut tx = t.app.store.begin().await.unwrap();
    let before = tx.graph_revision(PermGraph::Data).await.unwrap();
    let r1 = tx
        .graph_revision_insert(PermGraph::Data, &big_json(), "{}", 1, 3)
        .await
        .unwrap();
    let r2 = tx
        .graph_revision_insert(PermGraph::Data, "{}", "{}", 1, 4)
        .await
        .unwrap();
    assert!(r1 > before && r2 > r1, "{before} {r1} {r2}");
    assert_eq!(tx.graph_revision(PermGraph::Data).await.unwrap(), r2);
    tx.commit().await.unwrap();
    let mut tx = t.app.store.read().await.unwrap();
    assert_eq!(tx.graph_revision(PermGraph::Data).await.unwrap(), r2);
});
