//! Explicit joins (mbql.md §2.9, §1.3). Legacy joins name their source with `source-table` or a
//! bare `source-query` and their condition with one `condition`; MBQL 5 joins hold one stage
//! with only a source and an array of `conditions`. A joined source holding more than a
//! source is kept as `JoinSource::Unsupported` for the checks (ferrobase rule).
use serde_json::{Map, Value};

use super::clause::{get, positive_id, Form};
use super::error::{MbqlError, Path};
use super::filter::filter;
use super::model::{Filter, Join, JoinFields, JoinSource, Unsupported};
use super::refs::reference;
use super::stage::{filters, list, push_conjuncts, table_or_card};
use super::tokens::{token, JoinStrategy};

/// Keys that make a joined stage more than a source.
const CLAUSE_KEYS: &[&str] = &[
    "source-query",
    "native",
    "fields",
    "filter",
    "filters",
    "expressions",
    "aggregation",
    "breakout",
    "order-by",
    "limit",
    "page",
    "joins",
];

/// The `joins` of a stage.
pub(crate) fn joins(
    map: &Map<String, Value>,
    path: &Path,
    form: Form,
) -> Result<Vec<Join>, MbqlError> {
    list(map, "joins", path, |v, p| join(v, p, form))
}

fn join(v: &Value, path: &Path, form: Form) -> Result<Join, MbqlError> {
    let Some(map) = v.as_object() else {
        return Err(path.malformed("expected a join map"));
    };
    let (source, conditions) = match form {
        Form::Legacy => (legacy_source(map, path)?, legacy_condition(map, path)?),
        Form::V5 => (v5_source(map, path)?, v5_conditions(map, path)?),
    };
    Ok(Join {
        alias: alias(map, path)?,
        strategy: strategy(map, path)?,
        source,
        conditions,
        fields: fields(map, path, form)?,
    })
}

fn has_clauses(map: &Map<String, Value>) -> bool {
    CLAUSE_KEYS.iter().any(|k| match get(map, k) {
        None => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    })
}

fn unsupported(thing: &str) -> JoinSource {
    JoinSource::Unsupported(Unsupported {
        thing: thing.to_string(),
    })
}

/// `source-table` (id or `card__N`), or a `source-query` holding only a `source-table`.
fn legacy_source(map: &Map<String, Value>, path: &Path) -> Result<JoinSource, MbqlError> {
    match (get(map, "source-table"), get(map, "source-query")) {
        (Some(t), None) => table_or_card(t, &path.key("source-table")).map(JoinSource::from),
        (None, Some(Value::Object(query))) => {
            let at = path.key("source-query");
            match get(query, "source-table") {
                _ if has_clauses(query) => {
                    Ok(unsupported("Join \"source-query\" with more than a source"))
                }
                Some(t) => table_or_card(t, &at.key("source-table")).map(JoinSource::from),
                None => Err(at.malformed("expected a \"source-table\"")),
            }
        }
        (None, Some(_)) => Err(path.key("source-query").malformed("expected a map")),
        _ => {
            Err(path.malformed("exactly one of \"source-table\" and \"source-query\" is required"))
        }
    }
}

/// `stages`: exactly one MBQL stage holding only `source-table` or `source-card`.
fn v5_source(map: &Map<String, Value>, path: &Path) -> Result<JoinSource, MbqlError> {
    let at = path.key("stages");
    let stages = match get(map, "stages") {
        Some(Value::Array(stages)) if !stages.is_empty() => stages,
        _ => return Err(at.malformed("expected a non-empty array of stages")),
    };
    let first = at.index(0);
    let Some(stage) = stages[0].as_object() else {
        return Err(first.malformed("expected a stage map"));
    };
    let native = stage.get("lib/type").and_then(Value::as_str) == Some("mbql.stage/native");
    if stages.len() > 1 || native || has_clauses(stage) {
        return Ok(unsupported("Join \"stages\" with more than a source"));
    }
    match (get(stage, "source-table"), get(stage, "source-card")) {
        (Some(t), None) => table_or_card(t, &first.key("source-table")).map(JoinSource::from),
        (None, Some(card)) => positive_id(card, &first.key("source-card")).map(JoinSource::Card),
        _ => {
            Err(first.malformed("exactly one of \"source-table\" and \"source-card\" is required"))
        }
    }
}

fn legacy_condition(map: &Map<String, Value>, path: &Path) -> Result<Vec<Filter>, MbqlError> {
    let Some(condition) = get(map, "condition") else {
        return Err(path.malformed("a join needs a \"condition\""));
    };
    let mut out = Vec::new();
    push_conjuncts(
        filter(condition, &path.key("condition"), Form::Legacy)?,
        &mut out,
    );
    Ok(out)
}

fn v5_conditions(map: &Map<String, Value>, path: &Path) -> Result<Vec<Filter>, MbqlError> {
    let conditions = filters(map, "conditions", path, Form::V5)?;
    if conditions.is_empty() {
        return Err(path.malformed("a join needs \"conditions\""));
    }
    Ok(conditions)
}

/// The alias as written (a user-chosen name), if any.
fn alias(map: &Map<String, Value>, path: &Path) -> Result<Option<String>, MbqlError> {
    match get(map, "alias") {
        None => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(path.key("alias").malformed("expected a non-blank string")),
    }
}

fn strategy(map: &Map<String, Value>, path: &Path) -> Result<JoinStrategy, MbqlError> {
    match get(map, "strategy") {
        None => Ok(JoinStrategy::LeftJoin),
        Some(Value::String(s)) => JoinStrategy::parse(s).ok_or_else(|| {
            path.key("strategy")
                .malformed(format!("unknown join strategy \"{s}\""))
        }),
        Some(_) => Err(path.key("strategy").malformed("expected a string")),
    }
}

/// `"all"`, `"none"` (the default; also an empty list) or a list of references.
fn fields(map: &Map<String, Value>, path: &Path, form: Form) -> Result<JoinFields, MbqlError> {
    match get(map, "fields") {
        None => Ok(JoinFields::None),
        Some(Value::String(s)) => match &*token(s) {
            "all" => Ok(JoinFields::All),
            "none" => Ok(JoinFields::None),
            _ => Err(path
                .key("fields")
                .malformed(format!("expected \"all\", \"none\" or a list, not \"{s}\""))),
        },
        Some(Value::Array(_)) => {
            let refs = list(map, "fields", path, |v, p| reference(v, p, form))?;
            Ok(if refs.is_empty() {
                JoinFields::None
            } else {
                JoinFields::List(refs)
            })
        }
        Some(_) => Err(path
            .key("fields")
            .malformed("expected \"all\", \"none\" or a list")),
    }
}
