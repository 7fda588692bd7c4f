//! What the `PUT`s of both permission graphs share (people-and-groups.md §8.3, §9.4): the body's
//! `revision` and `groups`, the check against a concurrent edit, the per-group entries, and
//! Metabase's error texts.
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::validation::{ValidationErrors, NON_NEGATIVE_INT};
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryParams;

pub const STALE: &str = "Looks like someone else edited the permissions and your data is out of date. Please fetch new data and try again.";
const INVALID: &str = "Cannot parse permissions graph because it is invalid: ";

/// One group's entries of a graph `PUT`, each read by the graph's entry reader.
#[derive(Debug)]
pub struct GroupEntries<E> {
    /// The group id as sent (checked against the groups when the `PUT` is applied).
    pub group: String,
    /// Entry key (a database id, a collection id or `root`) → what the entry says.
    pub entries: Vec<(String, E)>,
}

/// A validated graph `PUT`.
#[derive(Debug)]
pub struct GraphPut<E, T> {
    /// The revision the client's graph was based on.
    pub revision: i64,
    /// The entries, read. A malformed entry is a content error, which people-and-groups.md §9.4
    /// reports only after the revision check (step 5), so it waits here until then.
    pub groups: Result<Vec<GroupEntries<E>>, ApiError>,
    /// What the graph's own keys of the body say.
    pub rest: T,
    /// `?force=true`: apply even when `revision` is not the current one.
    pub force: bool,
    /// `?skip-graph=true`: answer `{"revision"}` instead of the new graph.
    pub skip_graph: bool,
}

/// Reads the `groups` map: every group's value a map, every entry read by `entry(group key,
/// entry key, value)`.
fn read_groups<E>(
    groups: &Map<String, Value>,
    entry: impl Fn(&str, &str, &Value) -> ApiResult<E>,
) -> ApiResult<Vec<GroupEntries<E>>> {
    let mut out = Vec::with_capacity(groups.len());
    for (gkey, entries) in groups {
        let Value::Object(entries) = entries else {
            return Err(invalid(format!(
                "the entries of group {gkey} are not a map"
            )));
        };
        let entries = entries
            .iter()
            .map(|(k, v)| Ok((k.clone(), entry(gkey, k, v)?)))
            .collect::<ApiResult<Vec<_>>>()?;
        out.push(GroupEntries {
            group: gkey.clone(),
            entries,
        });
    }
    Ok(out)
}

/// Reads a graph `PUT`: the query flags first (their errors alone, if any), then the body's
/// `revision`, `groups` and, through `rest`, the graph's own keys, all reported together; the
/// entries through `entry` (their errors wait in [`GraphPut::groups`]).
pub fn parse<E, T>(
    q: &QueryParams,
    body: &Map<String, Value>,
    rest: impl FnOnce(&mut ValidationErrors) -> T,
    entry: impl Fn(&str, &str, &Value) -> ApiResult<E>,
) -> ApiResult<GraphPut<E, T>> {
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
        Some(Value::Object(m)) => Some(m),
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
            groups: read_groups(groups, entry),
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

/// The id of a group sent in a `PUT`, which must exist (`known`).
pub fn group_id(gkey: &str, known: impl Fn(i64) -> bool) -> ApiResult<i64> {
    gkey.parse::<i64>()
        .ok()
        .filter(|id| known(*id))
        .ok_or_else(|| invalid(format!("unknown group id {gkey}")))
}

/// A revision's before or after graph (changed entries only): per group id, in ascending order,
/// the entries in the order they were recorded.
#[derive(Debug)]
pub struct RevisionGraph<V>(BTreeMap<i64, OrderedMap<String, V>>);

impl<V> Default for RevisionGraph<V> {
    fn default() -> Self {
        RevisionGraph(BTreeMap::new())
    }
}

impl<V: serde::Serialize> RevisionGraph<V> {
    /// Records `value` under `graph[group_id][key]`.
    pub fn record(&mut self, group_id: i64, key: String, value: V) {
        self.0.entry(group_id).or_default().0.push((key, value));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The graph as the revision table stores it.
    pub fn to_text(&self) -> ApiResult<String> {
        serde_json::to_string(&self.0).map_err(ApiError::internal)
    }
}

/// A JSON object whose keys keep the order they were pushed in (graph views keyed by ids).
#[derive(Debug)]
pub struct OrderedMap<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for OrderedMap<K, V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<K: serde::Serialize, V: serde::Serialize> serde::Serialize for OrderedMap<K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        let r = parse(
            &query(&[]),
            &body,
            |errs| {
                errs.add_received(&["extra"], "value must be a string.", body.get("extra"));
            },
            |_, _, _| Ok(()),
        );
        let keys = error_keys(r.expect_err("invalid"));
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
            |_, _, _| Ok(()),
        );
        let mut keys = error_keys(r.expect_err("invalid"));
        keys.sort();
        assert_eq!(keys, vec!["force", "skip_graph"]);
    }

    #[test]
    fn parse_returns_the_values_flags_and_what_rest_read() {
        let body = map(json!({"revision": 3, "groups": {"1": {"7": "write"}}}));
        let q = query(&[("skip-graph", "TRUE"), ("skip_graph", "false")]);
        let put = parse(
            &q,
            &body,
            |_| "rest",
            |g, k, v| Ok(format!("{g}/{k}={}", v.as_str().unwrap_or_default())),
        )
        .expect("valid");
        assert_eq!(
            (put.revision, put.rest, put.force, put.skip_graph),
            (3, "rest", false, true)
        );
        let groups = put.groups.expect("entries");
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].group, "1");
        assert_eq!(
            groups[0].entries,
            vec![("7".to_string(), "1/7=write".to_string())]
        );
    }

    #[test]
    fn malformed_entries_wait_in_groups() {
        let body = map(json!({"revision": 3, "groups": {"1": "write"}}));
        let put = parse(&query(&[]), &body, |_| (), |_, _, _| Ok(())).expect("body valid");
        assert!(put.groups.is_err());
        let body = map(json!({"revision": 3, "groups": {"1": {"2": 5}}}));
        let put = parse(
            &query(&[]),
            &body,
            |_| (),
            |_, _, v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid("not a string".into()))
            },
        )
        .expect("body valid");
        assert!(put.groups.is_err());
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
    fn group_id_needs_a_known_group() {
        assert_eq!(group_id("4", |id| id == 4).expect("known"), 4);
        assert!(group_id("5", |id| id == 4).is_err());
        assert!(group_id("x", |_| true).is_err());
    }

    #[test]
    fn revision_graphs_nest_by_group_in_id_then_record_order() {
        let mut g = RevisionGraph::default();
        assert!(g.is_empty());
        g.record(10, "3".into(), "read");
        g.record(2, "root".into(), "write");
        g.record(2, "5".into(), "read");
        assert_eq!(
            g.to_text().expect("text"),
            r#"{"2":{"root":"write","5":"read"},"10":{"3":"read"}}"#
        );
    }
}
