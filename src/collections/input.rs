//! Request bodies and query strings of the `/api/collection` endpoints (content.md §1,
//! §1.4, §1.6), validated at the edge: every failing field reported together, in Metabase's
//! shapes, before permissions (README 4.7).
use serde_json::{Map, Value};

use super::graph::GraphBody;
use super::items::{ItemsQuery, KNOWN_MODELS};
use super::perms::Level;
use super::service::{is_nanoid, ListQuery, NewInput, UpdateInput, OFFICIAL_402};
use super::tree::TreeQuery;
use crate::error::validation::{Fields, ValidationErrors};
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryParams;
use crate::permissions::graph_put::{self, invalid};

fn default_namespace(q: &QueryParams) -> bool {
    q.get("namespace").is_none_or(str::is_empty)
}

/// `GET /api/collection`.
pub fn list_query(q: &QueryParams) -> ApiResult<ListQuery> {
    let mut errs = ValidationErrors::new();
    let lq = ListQuery {
        archived: q.boolean(&mut errs, "archived").unwrap_or(false),
        exclude_other_user_collections: q.flag(
            &mut errs,
            "exclude-other-user-collections",
            "exclude_other_user_collections",
        ),
        personal_only: q.flag(&mut errs, "personal-only", "personal_only"),
        default_namespace: default_namespace(q),
    };
    errs.into_result()?;
    Ok(lq)
}

/// `GET /api/collection/tree`.
pub fn tree_query(q: &QueryParams) -> ApiResult<TreeQuery> {
    let mut errs = ValidationErrors::new();
    let cid_name = if q.get("collection-id").is_some() {
        "collection-id"
    } else {
        "collection_id"
    };
    let tq = TreeQuery {
        exclude_archived: q.flag(&mut errs, "exclude-archived", "exclude_archived"),
        exclude_other_user_collections: q.flag(
            &mut errs,
            "exclude-other-user-collections",
            "exclude_other_user_collections",
        ),
        shallow: q.boolean(&mut errs, "shallow").unwrap_or(false),
        collection_id: q.positive_int(&mut errs, cid_name),
        default_namespace: default_namespace(q),
    };
    errs.into_result()?;
    Ok(tq)
}

/// `authority_level`: null or absent; `"official"` is a paid feature (402).
fn authority_level(body: &Map<String, Value>, errs: &mut ValidationErrors) -> bool {
    match body.get("authority_level") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s == "official" => true,
        other => {
            errs.add_received(&["authority_level"], "value must be null.", other);
            false
        }
    }
}

/// `description`: absent, null, or a non-blank string.
fn description(
    f: &Fields,
    body: &Map<String, Value>,
    errs: &mut ValidationErrors,
) -> Option<Option<String>> {
    match body.get("description") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(_) => Some(f.non_blank(errs, "description", 65_535, false)),
    }
}

fn official() -> ApiError {
    ApiError::Text(crate::error::Kind::PaymentRequired, OFFICIAL_402.into())
}

/// `POST /api/collection`: an official collection is refused (402) once the body is valid.
pub fn new_collection(b: &Map<String, Value>) -> ApiResult<NewInput> {
    let f = Fields::new(b);
    let mut errs = ValidationErrors::new();
    let name = f.non_blank(&mut errs, "name", 254, true);
    let desc = description(&f, b, &mut errs).flatten();
    let parent_id = f.positive_int(&mut errs, "parent_id", false);
    if !matches!(b.get("namespace"), None | Some(Value::Null)) {
        errs.add_received(&["namespace"], "value must be null.", b.get("namespace"));
    }
    let entity_id = match b.get("entity_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if is_nanoid(s) => Some(s.clone()),
        other => {
            errs.add_received(
                &["entity_id"],
                "value must be a 21-character NanoID.",
                other,
            );
            None
        }
    };
    let is_official = authority_level(b, &mut errs);
    errs.into_result()?;
    if is_official {
        return Err(official());
    }
    Ok(NewInput {
        name: name.unwrap_or_default(),
        description: desc,
        parent_id,
        entity_id,
    })
}

/// `PUT /api/collection/:key`: outer `None` = absent.
pub fn update(b: &Map<String, Value>) -> ApiResult<UpdateInput> {
    let f = Fields::new(b);
    let mut errs = ValidationErrors::new();
    let name = match b.get("name") {
        None => None,
        Some(_) => f.non_blank(&mut errs, "name", 254, true),
    };
    let desc = description(&f, b, &mut errs);
    let archived = f.boolean(&mut errs, "archived");
    let parent_id = match b.get("parent_id") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(_) => f.positive_int(&mut errs, "parent_id", true).map(Some),
    };
    let is_official = authority_level(b, &mut errs);
    errs.into_result()?;
    if is_official {
        return Err(official());
    }
    Ok(UpdateInput {
        name,
        description: desc,
        archived,
        parent_id,
    })
}

/// Items query parameters; `models` may repeat, so the raw pairs are read.
pub fn items_query(q: &QueryParams, pairs: &[(String, String)]) -> ApiResult<ItemsQuery> {
    let mut errs = ValidationErrors::new();
    let models: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "models")
        .map(|(_, v)| v.clone())
        .collect();
    if let Some(bad) = models.iter().find(|m| !KNOWN_MODELS.contains(&m.as_str())) {
        errs.add_received(
            &["models"],
            "value must be a valid model.",
            Some(&Value::String(bad.clone())),
        );
    }
    let mut one_of = |name: &'static str, allowed: &[&str], default: &str| -> String {
        let v = q.get(name).unwrap_or(default).to_string();
        if !allowed.contains(&v.as_str()) {
            errs.add_received(
                &[name],
                &format!("value must be one of: {}.", allowed.join(", ")),
                Some(&Value::String(v.clone())),
            );
        }
        v
    };
    let pinned_state = one_of(
        "pinned_state",
        &["all", "is_pinned", "is_not_pinned"],
        "all",
    );
    let sort_column = one_of(
        "sort_column",
        &["name", "last_edited_at", "last_edited_by", "model"],
        "name",
    );
    let direction = one_of("sort_direction", &["asc", "desc"], "asc");
    let archived = q.boolean(&mut errs, "archived").unwrap_or(false);
    let official_first = q.boolean(&mut errs, "official_collections_first");
    let show_dashboard_questions = q
        .boolean(&mut errs, "show_dashboard_questions")
        .unwrap_or(false);
    let paging = q.paging(&mut errs);
    errs.into_result()?;
    Ok(ItemsQuery {
        models: (!models.is_empty()).then_some(models),
        archived,
        pinned_state,
        sort_column,
        descending: direction == "desc",
        official_first,
        show_dashboard_questions,
        paging,
    })
}

/// `PUT /api/collection/graph` (people-and-groups.md §8.3).
pub fn graph_put(q: &QueryParams, body: &Map<String, Value>) -> ApiResult<GraphBody> {
    let default_namespace = |errs: &mut ValidationErrors| match body.get("namespace") {
        None | Some(Value::Null) => true,
        Some(Value::String(_)) => false,
        other => {
            errs.add_received(&["namespace"], "value must be a string or null.", other);
            true
        }
    };
    graph_put::parse(q, body, default_namespace, |_, _, level| {
        level
            .as_str()
            .and_then(Level::parse)
            .ok_or_else(|| invalid(format!("invalid permission level {level}")))
    })
}
