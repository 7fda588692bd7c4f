//! `DashboardTx` (rows, delete, dashboard questions, positions) and `LayoutTx` (tabs, dashcards).
use super::*;

// ---------------------------------------------------------------------------------------------
// DashboardTx
// ---------------------------------------------------------------------------------------------

both!(
    contract_dashboard_round_trip_update_and_not_found,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "dash@example.com", false, 1).await;
        let v = user(tx.as_mut(), "dash2@example.com", false, 1).await;
        let c = coll(tx.as_mut(), "dash", "/").await.id;
        let full = dash("dash-full", u, Some(c));
        let id = tx.dashboard_insert(&full).await.unwrap();
        let bare = DashboardRow {
            description: None,
            collection_id: None,
            collection_position: None,
            cache_ttl: None,
            position: None,
            caveats: None,
            points_of_interest: None,
            ..dash("dash-bare", u, None)
        };
        let bare_id = tx.dashboard_insert(&bare).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = t.app.store.begin().await.unwrap();
        assert_eq!(
            tx.dashboard_get(id).await.unwrap().unwrap(),
            DashboardRow { id, ..full.clone() }
        );
        assert_eq!(
            tx.dashboard_get_by_entity_id("dash-bare")
                .await
                .unwrap()
                .unwrap(),
            DashboardRow {
                id: bare_id,
                ..bare
            }
        );
        assert!(tx.dashboard_get(MISSING).await.unwrap().is_none());
        assert!(tx
            .dashboard_get_by_entity_id("nope")
            .await
            .unwrap()
            .is_none());
        let mut all: Vec<i64> = tx
            .dashboard_list()
            .await
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        all.sort();
        assert_eq!(all, vec![id, bare_id]);
        let changed = DashboardRow {
            id,
            entity_id: "ignored".into(),
            name: "n".into(),
            description: None,
            collection_id: None,
            collection_position: None,
            parameters: "[]".into(),
            width: "fixed".into(),
            auto_apply_filters: true,
            cache_ttl: None,
            position: None,
            caveats: None,
            points_of_interest: None,
            archived: true,
            archived_directly: true,
            creator_id: v,
            last_editor_id: v,
            created_at: 1,
            updated_at: 99,
        };
        tx.dashboard_update(&changed).await.unwrap();
        assert_eq!(
            tx.dashboard_get(id).await.unwrap().unwrap(),
            DashboardRow {
                entity_id: "dash-full".into(),
                creator_id: u,
                created_at: 11,
                ..changed
            }
        );
        tx.commit().await.unwrap();
        let mut tx = t.app.store.begin().await.unwrap();
        assert!(is_conflict(
            &tx.dashboard_insert(&dash("dash-full", u, None)).await
        ));
        drop(tx);
        let mut tx = t.app.store.begin().await.unwrap();
        let r = tx.dashboard_insert(&dash("fk", u, Some(MISSING))).await;
        assert!(is_conflict(&r), "{r:?}");
    }
);

both!(
    contract_dashboard_delete_removes_layout_and_cascades_its_questions,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "dd@example.com", false, 1).await;
        let d = tx.dashboard_insert(&dash("dd", u, None)).await.unwrap();
        let keep = tx.dashboard_insert(&dash("keep", u, None)).await.unwrap();
        let t1 = tx.tab_insert(&tab("dd-t1", d, 0)).await.unwrap();
        let plain = tx.card_insert(&bare_card("plain", u)).await.unwrap();
        let q = tx
            .card_insert(&CardRow {
                dashboard_id: Some(d),
                dashboard_tab_id: Some(t1),
                ..bare_card("q", u)
            })
            .await
            .unwrap();
        tx.dashcard_insert(&dashcard("dd-1", d, Some(t1), Some(plain)))
            .await
            .unwrap();
        let kept = tx
            .dashcard_insert(&dashcard("dd-2", keep, None, Some(plain)))
            .await
            .unwrap();
        assert_eq!(tx.dashboard_question_ids(d).await.unwrap(), vec![q]);
        assert!(tx.dashboard_question_ids(keep).await.unwrap().is_empty());
        tx.dashboard_delete(d).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = t.app.store.read().await.unwrap();
        assert!(tx.dashboard_get(d).await.unwrap().is_none());
        assert!(tx.dashcard_list(d).await.unwrap().is_empty());
        assert!(tx.tab_list(d).await.unwrap().is_empty());
        assert!(tx.tab_get(t1).await.unwrap().is_none());
        // report_card.dashboard_id is ON DELETE CASCADE on both backends (SQLite enforces
        // foreign keys), so a dashboard question left behind by a caller goes too.
        assert!(tx.card_get(q).await.unwrap().is_none());
        assert!(tx.card_get(plain).await.unwrap().is_some());
        let left: Vec<i64> = tx
            .dashcard_list(keep)
            .await
            .unwrap()
            .iter()
            .map(|x| x.id)
            .collect();
        assert_eq!(left, vec![kept]);
    }
);

both!(
    contract_dashboard_questions_archive_move_and_shift,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "dq@example.com", false, 1).await;
        let c = coll(tx.as_mut(), "dq-c", "/").await.id;
        let c2 = coll(tx.as_mut(), "dq-c2", "/").await.id;
        let d = tx
            .dashboard_insert(&dash("dq-d", u, Some(c)))
            .await
            .unwrap();
        let q = |eid: &str, directly: bool| CardRow {
            dashboard_id: Some(d),
            archived: directly,
            archived_directly: directly,
            ..card(eid, u, Some(c))
        };
        let live = tx.card_insert(&q("dq-live", false)).await.unwrap();
        let own = tx.card_insert(&q("dq-own", true)).await.unwrap();
        let mut got = tx.dashboard_question_ids(d).await.unwrap();
        got.sort();
        assert_eq!(got, vec![live, own]);
        let flags = |r: CardRow| {
            (
                r.archived,
                r.archived_directly,
                r.updated_at,
                r.collection_id,
            )
        };
        tx.dashboard_questions_archive(d, true, 70).await.unwrap();
        assert_eq!(
            flags(tx.card_get(live).await.unwrap().unwrap()),
            (true, false, 70, Some(c))
        );
        let own_before = (true, true, 1_700_000_000_000_003, Some(c));
        assert_eq!(flags(tx.card_get(own).await.unwrap().unwrap()), own_before);
        tx.dashboard_questions_archive(d, false, 80).await.unwrap();
        assert_eq!(
            flags(tx.card_get(live).await.unwrap().unwrap()),
            (false, false, 80, Some(c))
        );
        assert_eq!(flags(tx.card_get(own).await.unwrap().unwrap()), own_before);
        tx.dashboard_questions_move(d, Some(c2), 90).await.unwrap();
        assert_eq!(
            flags(tx.card_get(live).await.unwrap().unwrap()),
            (false, false, 90, Some(c2))
        );
        // Already there: not touched again.
        tx.dashboard_questions_move(d, Some(c2), 95).await.unwrap();
        assert_eq!(tx.card_get(own).await.unwrap().unwrap().updated_at, 90);
        tx.dashboard_questions_move(d, None, 99).await.unwrap();
        assert_eq!(
            flags(tx.card_get(live).await.unwrap().unwrap()),
            (false, false, 99, None)
        );

        // Shift: cards all move, dashboards except the one being placed.
        let other = tx
            .dashboard_insert(&DashboardRow {
                collection_position: Some(4),
                ..dash("dq-o", u, Some(c))
            })
            .await
            .unwrap();
        let pc = tx.card_insert(&card("dq-pc", u, Some(c))).await.unwrap();
        tx.dashboard_shift_positions(Some(c), 1, d).await.unwrap();
        let dp = |r: Option<DashboardRow>| r.unwrap().collection_position;
        assert_eq!(dp(tx.dashboard_get(d).await.unwrap()), Some(1));
        assert_eq!(dp(tx.dashboard_get(other).await.unwrap()), Some(5));
        assert_eq!(
            tx.card_get(pc).await.unwrap().unwrap().collection_position,
            Some(4)
        );
    }
);

// ---------------------------------------------------------------------------------------------
// LayoutTx
// ---------------------------------------------------------------------------------------------

both!(
    contract_layout_tabs_ordered_by_position_then_id,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "tabs@example.com", false, 1).await;
        let d = tx.dashboard_insert(&dash("tabs", u, None)).await.unwrap();
        let other = tx.dashboard_insert(&dash("tabs-o", u, None)).await.unwrap();
        let b = tx.tab_insert(&tab("t-b", d, 1)).await.unwrap();
        let a = tx.tab_insert(&tab("t-a", d, 0)).await.unwrap();
        let b2 = tx.tab_insert(&tab("t-b2", d, 1)).await.unwrap();
        tx.tab_insert(&tab("t-o", other, 0)).await.unwrap();
        let order = |rows: Vec<TabRow>| rows.iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(order(tx.tab_list(d).await.unwrap()), vec![a, b, b2]);
        assert_eq!(
            tx.tab_get(a).await.unwrap().unwrap(),
            TabRow {
                id: a,
                ..tab("t-a", d, 0)
            }
        );
        assert!(tx.tab_get(MISSING).await.unwrap().is_none());
        assert!(tx.tab_entity_id_used("t-a").await.unwrap());
        assert!(!tx.tab_entity_id_used("t-z").await.unwrap());
        assert!(tx.tab_list(MISSING).await.unwrap().is_empty());
        // Update writes name, position and updated_at only.
        tx.tab_update(&TabRow {
            id: b2,
            entity_id: "x".into(),
            dashboard_id: other,
            name: "Premier ✓".into(),
            position: -1,
            created_at: 0,
            updated_at: 77,
        })
        .await
        .unwrap();
        assert_eq!(
            tx.tab_get(b2).await.unwrap().unwrap(),
            TabRow {
                id: b2,
                entity_id: "t-b2".into(),
                dashboard_id: d,
                name: "Premier ✓".into(),
                position: -1,
                created_at: 31,
                updated_at: 77,
            }
        );
        assert_eq!(order(tx.tab_list(d).await.unwrap()), vec![b2, a, b]);
        tx.commit().await.unwrap();
        let mut tx = t.app.store.begin().await.unwrap();
        assert!(is_conflict(&tx.tab_insert(&tab("t-a", d, 5)).await));
        drop(tx);
        let mut tx = t.app.store.begin().await.unwrap();
        assert!(is_conflict(&tx.tab_insert(&tab("t-fk", MISSING, 0)).await));
    }
);

both!(
    contract_layout_tab_delete_takes_its_dashcards_and_frees_questions,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "tabdel@example.com", false, 1).await;
        let d = tx.dashboard_insert(&dash("td-d", u, None)).await.unwrap();
        let t1 = tx.tab_insert(&tab("td-1", d, 0)).await.unwrap();
        let t2 = tx.tab_insert(&tab("td-2", d, 1)).await.unwrap();
        let q = tx
            .card_insert(&CardRow {
                dashboard_id: Some(d),
                dashboard_tab_id: Some(t1),
                ..bare_card("td-q", u)
            })
            .await
            .unwrap();
        tx.dashcard_insert(&dashcard("td-dc1", d, Some(t1), Some(q)))
            .await
            .unwrap();
        let stays = tx
            .dashcard_insert(&dashcard("td-dc2", d, Some(t2), Some(q)))
            .await
            .unwrap();
        tx.tab_delete(t1).await.unwrap();
        let left: Vec<i64> = tx
            .dashcard_list(d)
            .await
            .unwrap()
            .iter()
            .map(|x| x.id)
            .collect();
        assert_eq!(left, vec![stays]);
        let q = tx.card_get(q).await.unwrap().unwrap();
        assert_eq!((q.dashboard_id, q.dashboard_tab_id), (Some(d), None));
        assert!(tx.tab_get(t1).await.unwrap().is_none());
    }
);

both!(
    contract_layout_dashcard_round_trip_order_update_and_conflicts,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "dc@example.com", false, 1).await;
        let d = tx.dashboard_insert(&dash("dc-d", u, None)).await.unwrap();
        let d2 = tx.dashboard_insert(&dash("dc-d2", u, None)).await.unwrap();
        let t1 = tx.tab_insert(&tab("dc-t", d, 0)).await.unwrap();
        let k = tx.card_insert(&bare_card("dc-k", u)).await.unwrap();
        let text = tx
            .dashcard_insert(&dashcard("dc-text", d, None, None))
            .await
            .unwrap();
        let full = dashcard("dc-full", d, Some(t1), Some(k));
        let id = tx.dashcard_insert(&full).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = t.app.store.begin().await.unwrap();
        let rows = tx.dashcard_list(d).await.unwrap();
        assert_eq!(
            rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![text, id]
        );
        assert_eq!(rows[1], DashcardRow { id, ..full });
        assert_eq!(rows[0].dashboard_tab_id, None);
        assert_eq!(rows[0].card_id, None);
        assert!(tx.dashcard_entity_id_used("dc-full").await.unwrap());
        assert!(!tx.dashcard_entity_id_used("nope").await.unwrap());
        assert!(tx.dashcard_list(MISSING).await.unwrap().is_empty());
        assert!(tx
            .dashcards_with_series_card(MISSING)
            .await
            .unwrap()
            .is_empty());
        let changed = DashcardRow {
            id,
            entity_id: "ignored".into(),
            dashboard_id: d2,
            dashboard_tab_id: None,
            card_id: None,
            row: 10,
            col: 11,
            size_x: 12,
            size_y: 13,
            parameter_mappings: "[]".into(),
            visualization_settings: "{}".into(),
            inline_parameters: "[]".into(),
            series: series_text(&[k]),
            created_at: 0,
            updated_at: 66,
        };
        tx.dashcard_update(&changed).await.unwrap();
        let got = tx.dashcard_list(d).await.unwrap().pop().unwrap();
        assert_eq!(
            got,
            DashcardRow {
                entity_id: "dc-full".into(),
                dashboard_id: d,
                created_at: 21,
                ..changed
            }
        );
        assert_eq!(got.series_ids(), vec![k]);
        tx.dashcard_delete(text).await.unwrap();
        tx.dashcard_delete(MISSING).await.unwrap();
        assert_eq!(tx.dashcard_list(d).await.unwrap().len(), 1);
        tx.commit().await.unwrap();
        let bad = [
            dashcard("dc-full", d, None, None),
            dashcard("dc-fk-card", d, None, Some(MISSING)),
            dashcard("dc-fk-tab", d, Some(MISSING), None),
            dashcard("dc-fk-dash", MISSING, None, None),
        ];
        for b in bad {
            let mut tx = t.app.store.begin().await.unwrap();
            let r = tx.dashcard_insert(&b).await;
            assert!(is_conflict(&r), "{}: {r:?}", b.entity_id);
        }
    }
);
