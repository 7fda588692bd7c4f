//! MBQL 5 queries (mbql.md §1.3): an array of stages, the first reading `source-table` or
//! `source-card` (or being a native stage that the next stage reads), `filters` and
//! `expressions` as arrays, expression names in `lib/expression-name`.
use serde_json::{Map, Value};

use super::clause::{get, positive_id, Form};
use super::error::{MbqlError, Path};
use super::expr::expr;
use super::join::joins;
use super::model::{NamedExpression, NativeSource, Source, Stage};
use super::parse::MAX_STAGES;
use super::stage::{filters, list, native_source, stage, table_or_card, Parts};

const MBQL_STAGE: &str = "mbql.stage/mbql";
const NATIVE_STAGE: &str = "mbql.stage/native";

/// The stages of an MBQL 5 query object; a leading native stage becomes the source of the
/// stage after it.
pub(crate) fn stages(body: &Map<String, Value>) -> Result<Vec<Stage>, MbqlError> {
    let path = Path::root("stages");
    let items = match get(body, "stages") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        _ => return Err(path.malformed("expected a non-empty array of stages")),
    };
    let mut out = Vec::new();
    let mut native = None;
    for (i, item) in items.iter().enumerate() {
        let at = path.index(i);
        let Some(map) = item.as_object() else {
            return Err(at.malformed("expected a stage map"));
        };
        match map.get("lib/type").and_then(Value::as_str) {
            Some(NATIVE_STAGE) if i == 0 => native = Some(native_source(map, &at)?),
            Some(NATIVE_STAGE) => return Err(at.malformed("only the first stage may be native")),
            Some(MBQL_STAGE) => {
                if out.len() >= MAX_STAGES {
                    return Err(path.malformed(format!("a query has at most {MAX_STAGES} stages")));
                }
                let source = source(map, &at, i, native.take())?;
                out.push(mbql_stage(map, &at, source)?);
            }
            _ => {
                return Err(at
                    .key("lib/type")
                    .malformed(format!("expected \"{MBQL_STAGE}\" or \"{NATIVE_STAGE}\"")))
            }
        }
    }
    if out.is_empty() {
        return Err(path.malformed("a native stage must be followed by an MBQL stage"));
    }
    Ok(out)
}

fn mbql_stage(map: &Map<String, Value>, path: &Path, source: Source) -> Result<Stage, MbqlError> {
    let parts = Parts {
        source,
        joins: joins(map, path, Form::V5)?,
        expressions: expressions(map, path)?,
        filters: filters(map, "filters", path, Form::V5)?,
    };
    stage(map, path, Form::V5, parts)
}

/// The first stage reads a table or card (or the native stage before it); later ones read the
/// stage before them.
fn source(
    map: &Map<String, Value>,
    path: &Path,
    index: usize,
    native: Option<NativeSource>,
) -> Result<Source, MbqlError> {
    let table = get(map, "source-table");
    let card = get(map, "source-card");
    if (table.is_some() || card.is_some()) && (index > 0 || native.is_some()) {
        return Err(
            path.malformed("only the first stage may have \"source-table\" or \"source-card\"")
        );
    }
    match (table, card, native) {
        (Some(t), None, _) => table_or_card(t, &path.key("source-table")).map(Source::from),
        (None, Some(c), _) => positive_id(c, &path.key("source-card")).map(Source::Card),
        (None, None, Some(native)) => Ok(Source::Native(native)),
        (None, None, None) if index > 0 => Ok(Source::PreviousStage),
        _ => Err(path.malformed("exactly one of \"source-table\" and \"source-card\" is required")),
    }
}

/// An array of expression clauses named by their `lib/expression-name` option.
fn expressions(map: &Map<String, Value>, path: &Path) -> Result<Vec<NamedExpression>, MbqlError> {
    list(map, "expressions", path, |v, p| {
        let name = v
            .as_array()
            .and_then(|a| a.get(1))
            .and_then(|o| o.get("lib/expression-name"))
            .and_then(Value::as_str)
            .ok_or_else(|| p.malformed("an expression needs a \"lib/expression-name\" option"))?;
        Ok(NamedExpression {
            name: name.to_string(),
            expr: expr(v, p, Form::V5)?,
        })
    })
}
