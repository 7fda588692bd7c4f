//! Dashboard rules and permission checks (content.md §3, §4.2, §4.6, §5): creating, reading,
//! listing and deleting; `PUT` lives in [`super::update`] and [`super::layout`].
use std::collections::HashMap;

use serde_json::json;

use super::input::NewDashboard;
use super::store::DashboardRow;
use super::view::{self, DashContext, Dashboard, DashboardDetail, Dashcard, DashcardCard, Tab};
use crate::auth::Principal;
use crate::cards::dashboard_link::remove_from_series;
use crate::cards::patch::json_text;
use crate::cards::store::CardRow;
use crate::collections::perms::{self, Level};
use crate::collections::service::{ARCHIVED_PARENT, DUPLICATE_ENTITY_ID, TRASH_MODIFY};
use crate::entity_id::new_entity_id;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::store::{StoreError, Tx};

pub const CURATE: &str = "You do not have curate permissions for this Collection.";

/// A dashboard addressed by integer id or entity id (content.md §0.2).
#[derive(Debug, Clone)]
pub enum DashRef {
    Id(i64),
    EntityId(String),
}

impl From<crate::entity_id::ObjectRef> for DashRef {
    fn from(r: crate::entity_id::ObjectRef) -> Self {
        match r {
            crate::entity_id::ObjectRef::Id(id) => DashRef::Id(id),
            crate::entity_id::ObjectRef::EntityId(e) => DashRef::EntityId(e),
        }
    }
}

pub fn curate() -> ApiError {
    ApiError::forbidden_json(json!({ "message": CURATE }))
}

/// `404` `{"message":"The object has been archived.","error_code":"archived"}`.
pub fn archived_object() -> ApiError {
    ApiError::not_found_json(
        json!({"message": "The object has been archived.", "error_code": "archived"}),
    )
}

pub fn entity_id_used() -> ApiError {
    ApiError::field("entity_id", DUPLICATE_ENTITY_ID)
}

/// A unique-constraint failure on insert can only be a used entity id (ids are generated).
pub fn map_conflict(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => entity_id_used(),
        other => other.into(),
    }
}

pub async fn resolve(tx: &mut dyn Tx, r: &DashRef) -> ApiResult<DashboardRow> {
    let row = match r {
        DashRef::Id(id) => tx.dashboard_get(*id).await?,
        DashRef::EntityId(e) => tx.dashboard_get_by_entity_id(e).await?,
    };
    row.ok_or(ApiError::NotFound)
}

pub async fn level(tx: &mut dyn Tx, caller: &Principal, coll: Option<i64>) -> ApiResult<Level> {
    Ok(perms::level(tx, caller, coll).await?)
}

/// The §3.1 list representation of `d` for `caller`.
pub async fn render(tx: &mut dyn Tx, caller: &Principal, d: &DashboardRow) -> ApiResult<Dashboard> {
    let editor = tx.user_get(d.last_editor_id).await?;
    let collection = match d.collection_id {
        Some(id) => tx.content_collection(id).await?,
        None => None,
    };
    let ctx = DashContext {
        editor: editor.as_ref(),
        collection: collection.as_ref(),
        level: level(tx, caller, d.collection_id).await?,
        trash_id: if d.archived_directly {
            tx.content_trash_id().await?
        } else {
            None
        },
    };
    Ok(view::dashboard(d, &ctx))
}

/// The §3.1 detail representation: the list one with `tabs`, `dashcards` and `param_fields`.
pub async fn render_detail(
    tx: &mut dyn Tx,
    caller: &Principal,
    d: &DashboardRow,
) -> ApiResult<DashboardDetail> {
    let dashboard = render(tx, caller, d).await?;
    let tabs = tx.tab_list(d.id).await?;
    Ok(DashboardDetail {
        dashboard,
        tabs: tabs.iter().map(Tab::from).collect(),
        dashcards: dashcards(tx, caller, d.id).await?,
        param_fields: None,
    })
}

/// Renders cards for one caller, each card once: the full card when readable, `{"id"}` when
/// not, `None` when it no longer exists.
struct CardRenderer<'a> {
    caller: &'a Principal,
    rows: HashMap<i64, Option<CardRow>>,
    views: HashMap<i64, DashcardCard>,
}

impl<'a> CardRenderer<'a> {
    fn new(caller: &'a Principal) -> Self {
        CardRenderer {
            caller,
            rows: HashMap::new(),
            views: HashMap::new(),
        }
    }

    async fn row(&mut self, tx: &mut dyn Tx, id: i64) -> ApiResult<Option<&CardRow>> {
        if let std::collections::hash_map::Entry::Vacant(e) = self.rows.entry(id) {
            e.insert(tx.card_get(id).await?);
        }
        Ok(self.rows.get(&id).and_then(Option::as_ref))
    }

    async fn view(&mut self, tx: &mut dyn Tx, id: i64) -> ApiResult<Option<DashcardCard>> {
        if let Some(v) = self.views.get(&id) {
            return Ok(Some(v.clone()));
        }
        let Some(row) = self.row(tx, id).await?.cloned() else {
            return Ok(None);
        };
        let v = if crate::cards::service::card_level(tx, self.caller, &row).await? == Level::None {
            DashcardCard::Hidden { id }
        } else {
            let card = crate::cards::service::render(tx, self.caller, &row).await?;
            DashcardCard::Readable(Box::new(card))
        };
        self.views.insert(id, v.clone());
        Ok(Some(v))
    }
}

/// The visible dashcards of a dashboard: those whose card is archived are left out (§4.2).
async fn dashcards(tx: &mut dyn Tx, caller: &Principal, dash: i64) -> ApiResult<Vec<Dashcard>> {
    let mut cards = CardRenderer::new(caller);
    let mut out = Vec::new();
    for dc in tx.dashcard_list(dash).await? {
        let card = match dc.card_id {
            None => None,
            Some(id) => {
                if cards.row(tx, id).await?.is_some_and(|c| c.archived) {
                    continue;
                }
                let view = cards.view(tx, id).await?;
                Some(view.unwrap_or(DashcardCard::Hidden { id }))
            }
        };
        let mut series = Vec::new();
        for id in dc.series_ids() {
            if let Some(v) = cards.view(tx, id).await? {
                series.push(v);
            }
        }
        out.push(view::dashcard(&dc, card, series));
    }
    Ok(out)
}

/// `POST /api/dashboard` (§3.2).
pub async fn create(
    app: &App,
    caller: &Principal,
    input: &NewDashboard,
) -> ApiResult<DashboardDetail> {
    let target = input.collection_id;
    let mut tx = app.store.begin().await?;
    let collection = match target {
        Some(id) => Some(tx.content_collection(id).await?.ok_or(ApiError::NotFound)?),
        None => None,
    };
    if collection.as_ref().is_some_and(|c| c.is_trash()) {
        return Err(ApiError::bad_request_text(TRASH_MODIFY));
    }
    if level(tx.as_mut(), caller, target).await? != Level::Write {
        return Err(curate());
    }
    if collection.as_ref().is_some_and(|c| c.archived) {
        return Err(ApiError::field("collection_id", ARCHIVED_PARENT));
    }
    let entity_id = match &input.entity_id {
        Some(e) if tx.dashboard_get_by_entity_id(e).await?.is_some() => {
            return Err(entity_id_used())
        }
        Some(e) => e.clone(),
        None => new_entity_id(),
    };
    let mut row = new_row(input, entity_id, caller.user_id, app.clock.now().0);
    if let Some(p) = row.collection_position {
        tx.dashboard_shift_positions(target, p, 0).await?;
    }
    row.id = tx.dashboard_insert(&row).await.map_err(map_conflict)?;
    let v = render_detail(tx.as_mut(), caller, &row).await?;
    tx.commit().await?;
    Ok(v)
}

/// The row of a new dashboard (its `id` is assigned on insert).
fn new_row(input: &NewDashboard, entity_id: String, user_id: i64, now: i64) -> DashboardRow {
    DashboardRow {
        id: 0,
        entity_id,
        name: input.name.clone(),
        description: input.description.clone(),
        collection_id: input.collection_id,
        collection_position: input.collection_position,
        parameters: json_text(&input.parameters, "[]"),
        width: "fixed".into(),
        auto_apply_filters: true,
        cache_ttl: input.cache_ttl,
        position: None,
        caveats: None,
        points_of_interest: None,
        archived: false,
        archived_directly: false,
        creator_id: user_id,
        last_editor_id: user_id,
        created_at: now,
        updated_at: now,
    }
}

/// `GET /api/dashboard/:id` (§3.3).
pub async fn get(app: &App, caller: &Principal, r: &DashRef) -> ApiResult<DashboardDetail> {
    let mut tx = app.store.read().await?;
    let row = resolve(tx.as_mut(), r).await?;
    if level(tx.as_mut(), caller, row.collection_id).await? == Level::None {
        return Err(ApiError::Forbidden);
    }
    let v = render_detail(tx.as_mut(), caller, &row).await?;
    tx.commit().await?;
    Ok(v)
}

/// The `f` filter of `GET /api/dashboard` (§3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    Mine,
    Archived,
}

/// `GET /api/dashboard` (§3.3): readable dashboards by lowercased name, then id.
pub async fn list(app: &App, caller: &Principal, f: Filter) -> ApiResult<Vec<Dashboard>> {
    let mut tx = app.store.read().await?;
    let mut rows = tx.dashboard_list().await?;
    rows.retain(|d| match f {
        Filter::Archived => d.archived,
        _ if d.archived => false,
        Filter::Mine => d.creator_id == caller.user_id,
        Filter::All => true,
    });
    rows.sort_by_key(|d| (d.name.to_lowercase(), d.id));
    let mut levels: HashMap<Option<i64>, Level> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for d in &rows {
        let lvl = match levels.get(&d.collection_id) {
            Some(l) => *l,
            None => {
                let l = level(tx.as_mut(), caller, d.collection_id).await?;
                levels.insert(d.collection_id, l);
                l
            }
        };
        if lvl != Level::None {
            out.push(render(tx.as_mut(), caller, d).await?);
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// `DELETE /api/dashboard/:id` (§3.6, §4.6): tabs, dashcards and dashboard questions go too.
pub async fn delete(app: &App, caller: &Principal, r: &DashRef) -> ApiResult<()> {
    let mut tx = app.store.begin().await?;
    let row = resolve(tx.as_mut(), r).await?;
    if level(tx.as_mut(), caller, row.collection_id).await? != Level::Write {
        return Err(ApiError::Forbidden);
    }
    let now = app.clock.now().0;
    for q in tx.dashboard_question_ids(row.id).await? {
        remove_from_series(tx.as_mut(), q, now).await?;
        tx.card_delete(q).await?;
    }
    tx.dashboard_delete(row.id).await?;
    tx.commit().await?;
    Ok(())
}
