//! Legacy (MBQL 4) inner queries (mbql.md §1.2): `source-table` or a nested `source-query`
//! (MBQL or native), one `filter`, an `expressions` map. Nesting becomes stages, innermost
//! first, as in the MBQL 5 twin (§1.6).
use serde_json::{Map, Value};

use super::clause::{get, Form};
use super::error::{MbqlError, Path};
use super::expr::expr;
use super::filter::filter;
use super::join::joins;
use super::model::{NamedExpression, Source, Stage};
use super::parse::MAX_STAGES;
use super::stage::{native_source, push_conjuncts, stage, table_or_card, Parts};

/// The stages of a legacy query object.
pub(crate) fn stages(body: &Map<String, Value>) -> Result<Vec<Stage>, MbqlError> {
    let path = Path::root("query");
    let Some(Value::Object(inner)) = get(body, "query") else {
        return Err(path.malformed("expected an inner query map"));
    };
    let mut stages = Vec::new();
    inner_query(inner, &path, &mut stages)?;
    Ok(stages)
}

/// Pushes the stages of `inner`, its source queries first.
fn inner_query(
    inner: &Map<String, Value>,
    path: &Path,
    out: &mut Vec<Stage>,
) -> Result<(), MbqlError> {
    let source = source(inner, path, out)?;
    if out.len() >= MAX_STAGES {
        return Err(path.malformed(format!("a query has at most {MAX_STAGES} stages")));
    }
    let mut filters = Vec::new();
    if let Some(f) = get(inner, "filter") {
        push_conjuncts(filter(f, &path.key("filter"), Form::Legacy)?, &mut filters);
    }
    let parts = Parts {
        source,
        joins: joins(inner, path, Form::Legacy)?,
        expressions: expressions(inner, path)?,
        filters,
    };
    out.push(stage(inner, path, Form::Legacy, parts)?);
    Ok(())
}

fn source(
    inner: &Map<String, Value>,
    path: &Path,
    out: &mut Vec<Stage>,
) -> Result<Source, MbqlError> {
    match (get(inner, "source-table"), get(inner, "source-query")) {
        (Some(table), None) => table_or_card(table, &path.key("source-table")).map(Source::from),
        (None, Some(Value::Object(query))) => {
            let path = path.key("source-query");
            if get(query, "native").is_some() {
                return native_source(query, &path).map(Source::Native);
            }
            inner_query(query, &path, out)?;
            Ok(Source::PreviousStage)
        }
        (None, Some(_)) => Err(path.key("source-query").malformed("expected a map")),
        _ => {
            Err(path.malformed("exactly one of \"source-table\" and \"source-query\" is required"))
        }
    }
}

/// `{"<name>": <expression>, …}` in definition order.
fn expressions(inner: &Map<String, Value>, path: &Path) -> Result<Vec<NamedExpression>, MbqlError> {
    let path = path.key("expressions");
    match get(inner, "expressions") {
        None => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, definition)| {
                Ok(NamedExpression {
                    name: name.clone(),
                    expr: expr(definition, &path.key(name), Form::Legacy)?,
                })
            })
            .collect(),
        Some(_) => Err(path.malformed("expected a map of names to expressions")),
    }
}
