//! The storage contract of the content traits (collections, items, cards, dashboards, layout,
//! databases, data permissions, serialization writes), run against both backends through the
//! `Tx` the store hands out. Pinned: every column round trips (NULLs, Unicode, large JSON text
//! byte for byte), the orderings callers rely on, constraint violations as `Conflict`, cascades,
//! rollback on drop, subtree location rewrites and the "not found" answers.
use ferrobase::cards::store::CardRow;
use ferrobase::collections::item_store::ItemScope;
use ferrobase::collections::store::{CollectionRow, NewCollection, PermRow};
use ferrobase::dashboards::layout_store::{series_text, DashcardRow, TabRow};
use ferrobase::dashboards::store::DashboardRow;
use ferrobase::databases::store::DatabaseRow;
use ferrobase::permissions::grant::{CreateQueries, Grant, ViewData};
use ferrobase::permissions::store::{DataPermRow, PermGraph};
use ferrobase::store::{StoreError, Tx};
use ferrobase::users::store::NewUser;

use crate::both;

mod cards;
mod collections;
mod dashboards;
mod databases;
mod serdes;

const MISSING: i64 = 987_654_321;

/// JSON text a JSON-typed column would reformat: odd spacing, key order, escapes, Unicode and
/// 256 KiB of payload. The store must keep it byte for byte.
fn big_json() -> String {
    format!(
        "{{ \"z\" : 1,\"a\":[ 1.50, \"é😀\\u0000\\n\" ],  \"pad\":\"{}\" }}",
        "x".repeat(256 * 1024)
    )
}

async fn user(tx: &mut dyn Tx, email: &str, superuser: bool, joined: i64) -> i64 {
    tx.user_insert(&NewUser {
        email: email.into(),
        first_name: Some("Zoë".into()),
        last_name: None,
        password_hash: None,
        key_user: false,
        is_superuser: superuser,
        is_installer: false,
        locale: None,
        login_attributes: None,
        now: joined,
    })
    .await
    .unwrap()
}

async fn coll(tx: &mut dyn Tx, eid: &str, location: &str) -> CollectionRow {
    tx.collection_insert(&NewCollection {
        entity_id: eid,
        name: eid,
        description: None,
        location,
        now: 7,
    })
    .await
    .unwrap()
}

/// A card with every optional column set.
fn card(eid: &str, user: i64, collection_id: Option<i64>) -> CardRow {
    CardRow {
        id: 0,
        entity_id: eid.into(),
        name: format!("Ventes 📈 {eid}"),
        description: Some("“quoted” — desc".into()),
        card_type: "model".into(),
        display: "table".into(),
        dataset_query: big_json(),
        query_type: Some("native".into()),
        database_id: Some(1),
        table_id: Some(42),
        visualization_settings: "{\"b\":2,  \"a\":1}".into(),
        parameters: "[ ]".into(),
        parameter_mappings: "[{\"x\":null}]".into(),
        result_metadata: Some("[{\"name\":\"ñ\"}]".into()),
        collection_id,
        collection_position: Some(3),
        collection_preview: false,
        dashboard_id: None,
        dashboard_tab_id: None,
        cache_ttl: Some(60),
        archived: false,
        archived_directly: false,
        creator_id: user,
        last_editor_id: user,
        last_used_at: Some(1_700_000_000_000_001),
        created_at: 1_700_000_000_000_002,
        updated_at: 1_700_000_000_000_003,
    }
}

fn bare_card(eid: &str, user: i64) -> CardRow {
    CardRow {
        description: None,
        query_type: None,
        database_id: None,
        table_id: None,
        result_metadata: None,
        collection_position: None,
        cache_ttl: None,
        last_used_at: None,
        card_type: "question".into(),
        ..card(eid, user, None)
    }
}

fn dash(eid: &str, user: i64, collection_id: Option<i64>) -> DashboardRow {
    DashboardRow {
        id: 0,
        entity_id: eid.into(),
        name: format!("Tableau de bord «{eid}»"),
        description: Some("ü".into()),
        collection_id,
        collection_position: Some(1),
        parameters: big_json(),
        width: "full".into(),
        auto_apply_filters: false,
        cache_ttl: Some(5),
        position: Some(9),
        caveats: Some("c".into()),
        points_of_interest: Some("p".into()),
        archived: false,
        archived_directly: false,
        creator_id: user,
        last_editor_id: user,
        created_at: 11,
        updated_at: 12,
    }
}

fn dashcard(eid: &str, dashboard_id: i64, tab: Option<i64>, card: Option<i64>) -> DashcardRow {
    DashcardRow {
        id: 0,
        entity_id: eid.into(),
        dashboard_id,
        dashboard_tab_id: tab,
        card_id: card,
        row: 2,
        col: 3,
        size_x: 4,
        size_y: 5,
        parameter_mappings: big_json(),
        visualization_settings: "{\"t\":\"ß\"}".into(),
        inline_parameters: "[\"p\"]".into(),
        series: "[]".into(),
        created_at: 21,
        updated_at: 22,
    }
}

fn tab(eid: &str, dashboard_id: i64, position: i64) -> TabRow {
    TabRow {
        id: 0,
        entity_id: eid.into(),
        dashboard_id,
        name: format!("Onglet {eid}"),
        position,
        created_at: 31,
        updated_at: 32,
    }
}

fn database(name: &str, creator: Option<i64>) -> DatabaseRow {
    DatabaseRow {
        id: 0,
        name: name.into(),
        description: Some("base de données".into()),
        engine: "postgres".into(),
        details: big_json(),
        is_sample: false,
        auto_run_queries: false,
        cache_ttl: Some(30),
        creator_id: creator,
        created_at: 41,
        updated_at: 42,
    }
}

fn is_conflict<T>(r: &Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Conflict(_)))
}
