//! `CardTx`: every column, conflicts, pinned positions, the dashboards that use a card.
use super::*;

// ---------------------------------------------------------------------------------------------
// CardTx
// ---------------------------------------------------------------------------------------------

both!(
    contract_card_round_trip_every_column_nulls_unicode_large_json,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "cards@example.com", false, 1).await;
        let other = user(tx.as_mut(), "other@example.com", false, 1).await;
        let c = coll(tx.as_mut(), "cards", "/").await.id;
        let full = card("card-full", u, Some(c));
        let id = tx.card_insert(&full).await.unwrap();
        let bare = bare_card("card-bare", u);
        let bare_id = tx.card_insert(&bare).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = t.app.store.begin().await.unwrap();
        let got = tx.card_get(id).await.unwrap().unwrap();
        assert_eq!(got, CardRow { id, ..full.clone() });
        assert_eq!(got.dataset_query.len(), big_json().len());
        let got_bare = tx
            .card_get_by_entity_id("card-bare")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            got_bare,
            CardRow {
                id: bare_id,
                ..bare
            }
        );
        assert!(tx.card_get(MISSING).await.unwrap().is_none());
        assert!(tx.card_get_by_entity_id("nope").await.unwrap().is_none());
        let mut all: Vec<i64> = tx.card_list().await.unwrap().iter().map(|c| c.id).collect();
        all.sort();
        assert_eq!(all, vec![id, bare_id]);

        // Update writes everything but id, entity_id, creator_id and created_at.
        let changed = CardRow {
            id,
            entity_id: "ignored".into(),
            name: "renamed ✓".into(),
            description: None,
            card_type: "metric".into(),
            display: "line".into(),
            dataset_query: "{}".into(),
            query_type: None,
            database_id: None,
            table_id: None,
            visualization_settings: "{}".into(),
            parameters: "[1]".into(),
            parameter_mappings: "[]".into(),
            result_metadata: None,
            collection_id: None,
            collection_position: None,
            collection_preview: true,
            dashboard_id: None,
            dashboard_tab_id: None,
            cache_ttl: None,
            archived: true,
            archived_directly: true,
            creator_id: other,
            last_editor_id: other,
            last_used_at: None,
            created_at: 1,
            updated_at: 2,
        };
        tx.card_update(&changed).await.unwrap();
        let got = tx.card_get(id).await.unwrap().unwrap();
        assert_eq!(
            got,
            CardRow {
                entity_id: "card-full".into(),
                creator_id: u,
                created_at: full.created_at,
                ..changed
            }
        );
        tx.card_delete(bare_id).await.unwrap();
        assert!(tx.card_get(bare_id).await.unwrap().is_none());
        // Deleting or updating what is not there is not an error.
        tx.card_delete(MISSING).await.unwrap();
        tx.card_update(&CardRow {
            id: MISSING,
            ..full
        })
        .await
        .unwrap();
    }
);

both!(
    contract_card_entity_id_and_foreign_keys_are_conflicts,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "fk@example.com", false, 1).await;
        tx.card_insert(&bare_card("same", u)).await.unwrap();
        tx.commit().await.unwrap();
        let bad = [
            bare_card("same", u),
            CardRow {
                collection_id: Some(MISSING),
                ..bare_card("fk-coll", u)
            },
            CardRow {
                creator_id: MISSING,
                ..bare_card("fk-user", u)
            },
            CardRow {
                database_id: Some(MISSING),
                ..bare_card("fk-db", u)
            },
            CardRow {
                dashboard_id: Some(MISSING),
                ..bare_card("fk-dash", u)
            },
        ];
        for c in bad {
            let mut tx = t.app.store.begin().await.unwrap();
            let r = tx.card_insert(&c).await;
            assert!(is_conflict(&r), "{}: {r:?}", c.entity_id);
        }
        let mut tx = t.app.store.begin().await.unwrap();
        let id = tx.card_get_by_entity_id("same").await.unwrap().unwrap().id;
        let r = tx
            .card_update(&CardRow {
                id,
                last_editor_id: MISSING,
                ..bare_card("same", u)
            })
            .await;
        assert!(is_conflict(&r), "{r:?}");
    }
);

both!(
    contract_card_shift_positions_within_one_collection_root_included,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "pos@example.com", false, 1).await;
        let c = coll(tx.as_mut(), "pos", "/").await.id;
        let at = |eid: &str, coll: Option<i64>, p: Option<i64>| CardRow {
            collection_position: p,
            ..card(eid, u, coll)
        };
        let c1 = tx.card_insert(&at("c1", Some(c), Some(1))).await.unwrap();
        let c2 = tx.card_insert(&at("c2", Some(c), Some(2))).await.unwrap();
        let moved = tx.card_insert(&at("mv", Some(c), Some(2))).await.unwrap();
        let unpinned = tx.card_insert(&at("np", Some(c), None)).await.unwrap();
        let root = tx.card_insert(&at("r1", None, Some(2))).await.unwrap();
        let d = tx
            .dashboard_insert(&DashboardRow {
                collection_position: Some(5),
                ..dash("pd", u, Some(c))
            })
            .await
            .unwrap();
        let dr = tx
            .dashboard_insert(&DashboardRow {
                collection_position: Some(1),
                ..dash("pdr", u, None)
            })
            .await
            .unwrap();
        tx.content_shift_positions(Some(c), 2, moved).await.unwrap();
        let mut pos = Vec::new();
        for id in [c1, c2, moved, unpinned, root] {
            pos.push(tx.card_get(id).await.unwrap().unwrap().collection_position);
        }
        assert_eq!(pos, vec![Some(1), Some(3), Some(2), None, Some(2)]);
        let dp = |r: Option<DashboardRow>| r.unwrap().collection_position;
        assert_eq!(dp(tx.dashboard_get(d).await.unwrap()), Some(6));
        assert_eq!(dp(tx.dashboard_get(dr).await.unwrap()), Some(1));
        // The root is `collection_id IS NULL` on both backends.
        tx.content_shift_positions(None, 1, 0).await.unwrap();
        assert_eq!(
            tx.card_get(root)
                .await
                .unwrap()
                .unwrap()
                .collection_position,
            Some(3)
        );
        assert_eq!(dp(tx.dashboard_get(dr).await.unwrap()), Some(2));
        assert_eq!(
            tx.card_get(c1).await.unwrap().unwrap().collection_position,
            Some(1)
        );
    }
);

both!(
    contract_card_dashboard_count_and_delete_removes_dashcards,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "cnt@example.com", false, 1).await;
        let k = tx.card_insert(&bare_card("k", u)).await.unwrap();
        let other = tx.card_insert(&bare_card("o", u)).await.unwrap();
        let d1 = tx.dashboard_insert(&dash("d1", u, None)).await.unwrap();
        let d2 = tx.dashboard_insert(&dash("d2", u, None)).await.unwrap();
        let d3 = tx.dashboard_insert(&dash("d3", u, None)).await.unwrap();
        assert_eq!(tx.content_dashboard(d1).await.unwrap(), Some((None, false)));
        assert_eq!(tx.content_dashboard(MISSING).await.unwrap(), None);
        assert_eq!(tx.card_dashboard_count(k).await.unwrap(), 0);
        // Twice on d1 (counted once), in a series on d2; on d3 only ids that contain k's
        // digits (`kk`, `1k`, `k0`), which must not match.
        tx.dashcard_insert(&dashcard("dc1", d1, None, Some(k)))
            .await
            .unwrap();
        tx.dashcard_insert(&dashcard("dc2", d1, None, Some(k)))
            .await
            .unwrap();
        let on_d2 = DashcardRow {
            series: series_text(&[other, k]),
            ..dashcard("dc3", d2, None, Some(other))
        };
        let on_d2 = tx.dashcard_insert(&on_d2).await.unwrap();
        let lookalikes: Vec<i64> = [format!("{k}{k}"), format!("1{k}"), format!("{k}0")]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let decoy = tx
            .dashcard_insert(&DashcardRow {
                series: series_text(&lookalikes),
                ..dashcard("dc4", d3, None, None)
            })
            .await
            .unwrap();
        assert_eq!(tx.card_dashboard_count(k).await.unwrap(), 2);
        let with: Vec<i64> = tx
            .dashcards_with_series_card(k)
            .await
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(with, vec![on_d2]);
        tx.card_delete(k).await.unwrap();
        assert!(tx.dashcard_list(d1).await.unwrap().is_empty());
        // The series entry is the service's to fix; the store leaves the text as it was.
        assert_eq!(
            tx.dashcard_list(d2).await.unwrap()[0].series,
            series_text(&[other, k])
        );
        assert_eq!(tx.dashcard_list(d3).await.unwrap()[0].id, decoy);
    }
);
