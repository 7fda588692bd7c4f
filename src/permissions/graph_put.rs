//! What the `PUT`s of both permission graphs share (people-and-groups.md §8.3, §9.4): the body's
//! `revision` and `groups`, the check against a concurrent edit, the per-group entries, and
//! Metabase's error texts.
use serde_json::{json, Map, Value};

use crate::error::validation::{ValidationErrors, NON_NEGATIVE_INT};
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryParams;

pub const STALE: &str = "Looks like someone else edited the permissions and your data is out of date. Please fetch new data and try again.";
const INVALID: &str = "Cannot parse permissions graph because it is invalid: ";

/// A validated graph `PUT`.
pub struct GraphPut<T> {
    /// The revision the client's graph was based on.
    pub revision: i64,
    /// Group id → that group's entries, as sent.
    pub groups: Map<String, Value>,
    /// What the graph's own keys of the body say.
    pub rest: T,
    /// `?force=true`: apply even when `revision` is not the current one.
    pub force: bool,
    /// `?skip-graph=true`: answer `{"revision"}` instead of the new graph.
    pub skip_graph: bool,
}

/// Reads a graph `PUT`: the query flags first (their errors alone, if any), then the body's
/// `revision`, `groups` and, through `rest`, the graph's own keys, all reported together.
pub fn parse<T>(
    q: &QueryParams,
    body: &Map<String, Value>,
    rest: impl FnOnce(&mut ValidationErrors) -> T,
) -> ApiResult<GraphPut<T>> {
    let mut errs = ValidationErrors::new();
    let force = q.boolean(&mut errs, "force").unwrap_or(false);
    let skip_graph = q.flag(&mut errs, "skip-graph", "skip_graph");
    errs.into_result()?;

    let mut errs = ValidationErrors::new();
    let revision = match body.get("revision") {
        Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n >= 0) => n.as_i64(),
        other => {
            errs.add_received(&["revision"], NON_NEGATIVE_INT, other);
            None
        }
    };
    let groups = match body.get("groups") {
        Some(Value::Object(m)) => Some(m.clone()),
        other => {
            errs.add_received(&["groups"], "value must be a map.", other);
            None
        }
    };
    let rest = rest(&mut errs);
    errs.into_result()?;
    match (revision, groups) {
        (Some(revision), Some(groups)) => Ok(GraphPut {
            revision,
            groups,
            rest,
            force,
            skip_graph,
        }),
        _ => Err(ApiError::internal("graph body validated without values")),
    }
}

/// Refuses a `PUT` based on another revision than the `current` one, unless `force`d.
pub fn check_revision(sent: i64, current: i64, force: bool) -> ApiResult<()> {
    if sent != current && !force {
        return Err(ApiError::Text(crate::error::Kind::Conflict, STALE.into()));
    }
    Ok(())
}

/// `400` with Metabase's "invalid graph" text followed by `what`.
pub fn invalid(what: String) -> ApiError {
    ApiError::bad_request_text(format!("{INVALID}{what}"))
}

/// One `groups` entry of the body: the id of an existing group (`known`) and its map.
pub fn group_entries<'a>(
    gkey: &str,
    entries: &'a Value,
    known: impl Fn(i64) -> bool,
) -> ApiResult<(i64, &'a Map<String, Value>)> {
    let gid = gkey
        .parse::<i64>()
        .ok()
        .filter(|id| known(*id))
        .ok_or_else(|| invalid(format!("unknown group id {gkey}")))?;
    let Value::Object(entries) = entries else {
        return Err(invalid(format!(
            "the entries of group {gkey} are not a map"
        )));
    };
    Ok((gid, entries))
}

/// Records `value` under `graph[group_id][key]` in a revision's before or after graph.
pub fn record(graph: &mut Map<String, Value>, group_id: i64, key: String, value: Value) {
    if let Value::Object(o) = graph.entry(group_id.to_string()).or_insert(json!({})) {
        o.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn query(pairs: &[(&str, &str)]) -> QueryParams {
        QueryParams(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn error_keys(e: ApiError) -> Vec<String> {
        let ApiError::Validation(errs) = e else {
            panic!("expected a validation error, got {e:?}");
        };
        map(errs.into_json()["errors"].clone())
            .keys()
            .cloned()
            .collect()
    }

    #[test]
    fn parse_reports_every_bad_body_key() {
        let body = map(json!({"revision": -1, "groups": [], "extra": 1}));
        let r = parse(&query(&[]), &body, |errs| {
            errs.add_received(&["extra"], "value must be a string.", body.get("extra"));
        });
        let keys = error_keys(r.err().expect("invalid"));
        assert_eq!(keys.len(), 3);
        for k in ["revision", "groups", "extra"] {
            assert!(keys.contains(&k.to_string()), "{k} missing in {keys:?}");
        }
    }

    #[test]
    fn parse_reports_bad_query_flags_before_the_body() {
        let body = map(json!({"revision": -1}));
        let r = parse(
            &query(&[("force", "yes"), ("skip_graph", "no")]),
            &body,
            |_| (),
        );
        let mut keys = error_keys(r.err().expect("invalid"));
        keys.sort();
        assert_eq!(keys, vec!["force", "skip_graph"]);
    }

    #[test]
    fn parse_returns_the_values_flags_and_what_rest_read() {
        let body = map(json!({"revision": 3, "groups": {"1": {}}}));
        let q = query(&[("skip-graph", "TRUE"), ("skip_graph", "false")]);
        let put = parse(&q, &body, |_| "rest").expect("valid");
        assert_eq!(
            (
                put.revision,
                put.groups.len(),
                put.rest,
                put.force,
                put.skip_graph
            ),
            (3, 1, "rest", false, true)
        );
    }

    #[test]
    fn revision_check_refuses_stale_unless_forced() {
        assert!(check_revision(2, 2, false).is_ok());
        assert!(check_revision(1, 2, true).is_ok());
        assert!(matches!(
            check_revision(1, 2, false),
            Err(ApiError::Text(crate::error::Kind::Conflict, t)) if t == STALE
        ));
    }

    #[test]
    fn group_entries_needs_a_known_group_and_a_map() {
        let entries = json!({"root": "write"});
        let (gid, m) = group_entries("4", &entries, |id| id == 4).expect("known");
        assert_eq!((gid, m.len()), (4, 1));
        assert!(group_entries("5", &entries, |id| id == 4).is_err());
        assert!(group_entries("x", &entries, |_| true).is_err());
        assert!(group_entries("4", &json!("write"), |_| true).is_err());
    }

    #[test]
    fn record_nests_by_group() {
        let mut g = Map::new();
        record(&mut g, 2, "root".into(), json!("write"));
        record(&mut g, 2, "5".into(), json!("read"));
        assert_eq!(
            Value::Object(g),
            json!({"2": {"root": "write", "5": "read"}})
        );
    }
}
