//! `CollectionTx` (rows, lookups, subtree location rewrites, permission entries, graph
//! revisions, archiving a collection's content) and `ItemTx` (listing scopes and kinds).
use super::*;

// ---------------------------------------------------------------------------------------------
// CollectionTx
// ---------------------------------------------------------------------------------------------

both!(
    contract_collection_round_trip_lookups_and_not_found,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let c = tx
            .collection_insert(&NewCollection {
                entity_id: "coll-eid-000000000001",
                name: "Finance 財務 🧾",
                description: None,
                location: "/",
                now: 1_700_000_000_000_009,
            })
            .await
            .unwrap();
        assert_eq!(
            (
                c.name.as_str(),
                c.description.as_deref(),
                c.location.as_str()
            ),
            ("Finance 財務 🧾", None, "/")
        );
        assert_eq!(c.created_at, 1_700_000_000_000_009);
        assert_eq!(
            (c.personal_owner_id, c.namespace.clone(), c.kind.clone()),
            (None, None, None)
        );
        assert!(!c.archived && !c.is_sample);
        assert_eq!(
            (c.archived_directly, c.archive_operation_id.clone()),
            (None, None)
        );
        let got = tx.collection_get(c.id).await.unwrap().unwrap();
        assert_eq!(format!("{got:?}"), format!("{c:?}"));
        let by_eid = tx
            .collection_by_entity_id("coll-eid-000000000001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_eid.id, c.id);
        assert!(tx.collection_get(MISSING).await.unwrap().is_none());
        assert!(tx.collection_by_entity_id("nope").await.unwrap().is_none());
        assert!(tx.content_collection(MISSING).await.unwrap().is_none());

        tx.collection_update_text(c.id, "Ünïcode", Some("desc ✓"))
            .await
            .unwrap();
        tx.collection_set_archived(c.id, true, Some(true), Some("op-1"))
            .await
            .unwrap();
        let got = tx.collection_get(c.id).await.unwrap().unwrap();
        assert_eq!(
            (got.name.as_str(), got.description.as_deref(), got.archived),
            ("Ünïcode", Some("desc ✓"), true)
        );
        assert_eq!(
            (got.archived_directly, got.archive_operation_id.as_deref()),
            (Some(true), Some("op-1"))
        );
        let brief = tx.content_collection(c.id).await.unwrap().unwrap();
        assert_eq!(
            (brief.name.as_str(), brief.archived, brief.coll_type.clone()),
            ("Ünïcode", true, None)
        );
        tx.collection_update_text(c.id, "Ünïcode", None)
            .await
            .unwrap();
        tx.collection_set_archived(c.id, false, None, None)
            .await
            .unwrap();
        let got = tx.collection_get(c.id).await.unwrap().unwrap();
        assert_eq!(
            (
                got.description,
                got.archived,
                got.archived_directly,
                got.archive_operation_id
            ),
            (None, false, None, None)
        );
        // The Trash is seeded; both lookups agree on it.
        let trash = tx.collection_trash().await.unwrap().unwrap();
        assert!(trash.is_trash());
        assert_eq!(tx.content_trash_id().await.unwrap(), Some(trash.id));
        assert!(tx
            .content_collection(trash.id)
            .await
            .unwrap()
            .unwrap()
            .is_trash());
    }
);

both!(
    contract_collection_entity_id_unique_is_a_conflict,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        coll(tx.as_mut(), "dup-eid", "/").await;
        tx.commit().await.unwrap();
        let mut tx = t.app.store.begin().await.unwrap();
        let dup = tx
            .collection_insert(&NewCollection {
                entity_id: "dup-eid",
                name: "other",
                description: None,
                location: "/",
                now: 1,
            })
            .await;
        assert!(is_conflict(&dup));
    }
);

both!(
    contract_collection_subtree_location_rewrite_in_one_transaction,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let a = coll(tx.as_mut(), "a", "/").await;
        let b = coll(tx.as_mut(), "b", &format!("/{}/", a.id)).await;
        let c = coll(tx.as_mut(), "c", &format!("/{}/{}/", a.id, b.id)).await;
        let d = coll(tx.as_mut(), "d", "/").await;
        tx.commit().await.unwrap();

        // The services' move: the moved row, then every descendant found by prefix, all read
        // back within the same transaction (read-your-writes).
        let mut tx = t.app.store.begin().await.unwrap();
        let old = format!("/{}/", a.id);
        let new = format!("/{}/{}/", d.id, a.id);
        tx.collection_set_location(a.id, &format!("/{}/", d.id))
            .await
            .unwrap();
        for x in tx.collection_all().await.unwrap() {
            if let Some(rest) = x.location.strip_prefix(&old) {
                tx.collection_set_location(x.id, &format!("{new}{rest}"))
                    .await
                    .unwrap();
            }
        }
        let seen = |rows: &[CollectionRow], id: i64| {
            rows.iter()
                .find(|r| r.id == id)
                .map(|r| r.location.clone())
                .unwrap()
        };
        let rows = tx.collection_all().await.unwrap();
        assert_eq!(seen(&rows, a.id), format!("/{}/", d.id));
        assert_eq!(seen(&rows, b.id), format!("/{}/{}/", d.id, a.id));
        assert_eq!(seen(&rows, c.id), format!("/{}/{}/{}/", d.id, a.id, b.id));
        assert_eq!(seen(&rows, d.id), "/");
        tx.commit().await.unwrap();

        // A rewrite dropped without commit leaves every location as it was.
        {
            let mut tx = t.app.store.begin().await.unwrap();
            tx.collection_set_location(c.id, "/").await.unwrap();
            tx.collection_update_text(c.id, "renamed", None)
                .await
                .unwrap();
        }
        let mut tx = t.app.store.read().await.unwrap();
        let got = tx.collection_get(c.id).await.unwrap().unwrap();
        assert_eq!(
            (got.location, got.name),
            (format!("/{}/{}/{}/", d.id, a.id, b.id), "c".to_string())
        );
        // collection_all returns every row, the seeded Trash included.
        assert_eq!(tx.collection_all().await.unwrap().len(), 5);
    }
);

both!(
    contract_collection_perm_set_copy_clear_and_group_delete,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let g = tx.group_insert("Perm group").await.unwrap().id;
        let c1 = coll(tx.as_mut(), "p1", "/").await.id;
        let c2 = coll(tx.as_mut(), "p2", "/").await.id;
        // The seeded root entry of All Users.
        assert!(tx.collection_perm_all().await.unwrap().contains(&PermRow {
            group_id: 1,
            collection_id: 0,
            level: "write".into()
        }));
        assert!(tx.collection_perm_of(c1).await.unwrap().is_empty());
        tx.collection_perm_set(g, c1, "read").await.unwrap();
        tx.collection_perm_set(g, c1, "write").await.unwrap();
        tx.collection_perm_set(1, c1, "read").await.unwrap();
        let mut of = tx.collection_perm_of(c1).await.unwrap();
        of.sort_by_key(|r| r.group_id);
        assert_eq!(
            of,
            vec![
                PermRow {
                    group_id: 1,
                    collection_id: c1,
                    level: "read".into()
                },
                PermRow {
                    group_id: g,
                    collection_id: c1,
                    level: "write".into()
                },
            ]
        );
        tx.collection_perm_copy(c1, c2).await.unwrap();
        let mut copied = tx.collection_perm_of(c2).await.unwrap();
        copied.sort_by_key(|r| r.group_id);
        assert_eq!(
            copied
                .iter()
                .map(|r| (r.group_id, r.level.as_str()))
                .collect::<Vec<_>>(),
            vec![(1, "read"), (g, "write")]
        );
        tx.collection_perm_set(1, c1, "none").await.unwrap();
        assert_eq!(tx.collection_perm_of(c1).await.unwrap().len(), 1);
        tx.collection_perm_clear(c2).await.unwrap();
        assert!(tx.collection_perm_of(c2).await.unwrap().is_empty());
        tx.collection_perm_delete_group(g).await.unwrap();
        assert!(tx.collection_perm_of(c1).await.unwrap().is_empty());
        tx.collection_perm_set(g, c1, "read").await.unwrap();
        tx.collection_perm_set(g, c2, "read").await.unwrap();
        tx.commit().await.unwrap();
        // Copying onto a collection that already has entries violates the key: Conflict.
        let mut tx = t.app.store.begin().await.unwrap();
        assert!(is_conflict(&tx.collection_perm_copy(c1, c2).await));
    }
);

both!(
    contract_collection_graph_revision_counts_up,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let before = tx.graph_revision(PermGraph::Collection).await.unwrap();
        let r1 = tx
            .graph_revision_insert(PermGraph::Collection, "{\"a\":1}", &big_json(), 1, 5)
            .await
            .unwrap();
        let r2 = tx
            .graph_revision_insert(PermGraph::Collection, "{}", "{}", 1, 6)
            .await
            .unwrap();
        assert!(r1 > before && r2 > r1, "{before} {r1} {r2}");
        assert_eq!(tx.graph_revision(PermGraph::Collection).await.unwrap(), r2);
        drop(tx);
        let mut tx = t.app.store.read().await.unwrap();
        assert_eq!(
            tx.graph_revision(PermGraph::Collection).await.unwrap(),
            before
        );
    }
);

both!(
    contract_collection_content_archive_takes_live_items_and_restores_only_those,
    |t| async move {
        let mut tx = t.app.store.begin().await.unwrap();
        let u = user(tx.as_mut(), "arch@example.com", false, 1).await;
        let c = coll(tx.as_mut(), "arch", "/").await.id;
        let live = tx.card_insert(&card("live", u, Some(c))).await.unwrap();
        let own = tx
            .card_insert(&CardRow {
                archived: true,
                archived_directly: true,
                ..card("own", u, Some(c))
            })
            .await
            .unwrap();
        let trashed_dash = tx
            .dashboard_insert(&DashboardRow {
                archived: true,
                archived_directly: true,
                ..dash("td", u, Some(c))
            })
            .await
            .unwrap();
        let dq = tx
            .card_insert(&CardRow {
                dashboard_id: Some(trashed_dash),
                archived: true,
                ..card("dq", u, Some(c))
            })
            .await
            .unwrap();
        let d = tx.dashboard_insert(&dash("d", u, Some(c))).await.unwrap();
        tx.collection_content_archive(c, true, 500).await.unwrap();
        let flags = |r: CardRow| (r.archived, r.archived_directly, r.updated_at);
        let l = tx.card_get(live).await.unwrap().unwrap();
        assert_eq!(flags(l), (true, false, 500));
        let o = tx.card_get(own).await.unwrap().unwrap();
        assert_eq!(flags(o), (true, true, 1_700_000_000_000_003));
        let q = tx.card_get(dq).await.unwrap().unwrap();
        assert_eq!(flags(q), (true, false, 1_700_000_000_000_003));
        let dd = tx.dashboard_get(d).await.unwrap().unwrap();
        assert_eq!(
            (dd.archived, dd.archived_directly, dd.updated_at),
            (true, false, 500)
        );
        tx.collection_content_archive(c, false, 600).await.unwrap();
        let l = tx.card_get(live).await.unwrap().unwrap();
        assert_eq!(flags(l), (false, false, 600));
        let o = tx.card_get(own).await.unwrap().unwrap();
        assert_eq!(flags(o), (true, true, 1_700_000_000_000_003));
        // The question of a dashboard trashed on its own stays archived with it.
        let q = tx.card_get(dq).await.unwrap().unwrap();
        assert_eq!(flags(q), (true, false, 1_700_000_000_000_003));
        let td = tx.dashboard_get(trashed_dash).await.unwrap().unwrap();
        assert!(td.archived && td.archived_directly);
        assert!(!tx.dashboard_get(d).await.unwrap().unwrap().archived);
    }
);

// ---------------------------------------------------------------------------------------------
// ItemTx
// ---------------------------------------------------------------------------------------------

both!(contract_item_scopes_and_kinds, |t| async move {
    let mut tx = t.app.store.begin().await.unwrap();
    let u = user(tx.as_mut(), "items@example.com", false, 1).await;
    let editor = user(tx.as_mut(), "editor@example.com", false, 1).await;
    let c = coll(tx.as_mut(), "items", "/").await.id;
    let empty = coll(tx.as_mut(), "empty", "/").await.id;
    let model = tx
        .card_insert(&CardRow {
            last_editor_id: editor,
            ..card("m", u, Some(c))
        })
        .await
        .unwrap();
    let root_q = tx.card_insert(&bare_card("rq", u)).await.unwrap();
    let gone = tx
        .card_insert(&CardRow {
            archived: true,
            archived_directly: true,
            card_type: "metric".into(),
            ..card("gone", u, Some(c))
        })
        .await
        .unwrap();
    let d = tx
        .dashboard_insert(&dash("items-d", u, Some(c)))
        .await
        .unwrap();
    let dq = tx
        .card_insert(&CardRow {
            dashboard_id: Some(d),
            card_type: "question".into(),
            ..card("items-dq", u, Some(c))
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = t.app.store.read().await.unwrap();
    let ids = |mut rows: Vec<ferrobase::collections::item_store::ItemRow>| {
        rows.sort_by(|a, b| (&a.kind, a.id).cmp(&(&b.kind, b.id)));
        rows.into_iter()
            .map(|r| (r.model(), r.id))
            .collect::<Vec<_>>()
    };
    let in_c = tx.content_items(ItemScope::In(Some(c))).await.unwrap();
    let m = in_c
        .iter()
        .find(|r| r.id == model && r.kind == "card")
        .unwrap();
    assert_eq!(
        (
            m.editor_id,
            m.editor_email.as_str(),
            m.editor_first_name.as_deref()
        ),
        (editor, "editor@example.com", Some("Zoë"))
    );
    assert_eq!(m.editor_last_name, None);
    assert_eq!(m.dataset_query.as_deref(), Some(big_json().as_str()));
    assert_eq!(
        (
            m.display.as_deref(),
            m.database_id,
            m.collection_preview,
            m.last_used_at
        ),
        (
            Some("table"),
            Some(1),
            Some(false),
            Some(1_700_000_000_000_001)
        )
    );
    assert_eq!(
        (m.collection_position, m.created_at, m.updated_at),
        (Some(3), 1_700_000_000_000_002, 1_700_000_000_000_003)
    );
    let dr = in_c.iter().find(|r| r.kind == "dashboard").unwrap();
    assert_eq!(
        (
            dr.card_type.clone(),
            dr.display.clone(),
            dr.database_id,
            dr.dashboard_id
        ),
        (None, None, None, None)
    );
    assert_eq!(
        (dr.collection_preview, dr.dataset_query.clone()),
        (None, None)
    );
    assert_eq!(dr.description.as_deref(), Some("ü"));
    assert_eq!(
        ids(in_c),
        vec![
            ("dataset", model),
            ("metric", gone),
            ("card", dq),
            ("dashboard", d)
        ]
    );
    assert_eq!(
        ids(tx.content_items(ItemScope::In(None)).await.unwrap()),
        vec![("card", root_q)]
    );
    assert_eq!(
        ids(tx.content_items(ItemScope::Trashed).await.unwrap()),
        vec![("metric", gone)]
    );
    assert_eq!(tx.content_items(ItemScope::All).await.unwrap().len(), 5);
    assert!(tx
        .content_items(ItemScope::In(Some(empty)))
        .await
        .unwrap()
        .is_empty());
    // Live kinds only: no archived metric, no dashboard question, no root item.
    let mut kinds = tx.content_kinds().await.unwrap();
    kinds.sort();
    assert_eq!(kinds, vec![(c, None), (c, Some("model".to_string()))]);
});
