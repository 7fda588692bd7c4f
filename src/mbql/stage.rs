//! The keys a stage spells the same way in both forms (`fields`, `aggregation`, `breakout`,
//! `order-by`, `limit`, `page`), and the helpers both forms use for the rest: clause lists,
//! AND-ed filter lists, sources by table id or `card__N`.
use serde_json::{Map, Value};

use super::aggregation::aggregation;
use super::clause::{get, non_negative, positive_id, Clause, Form};
use super::error::{MbqlError, Path};
use super::filter::filter;
use super::model::{
    CardId, Filter, Join, JoinSource, NamedExpression, NativeSource, OrderBy, Page, Source, Stage,
    TableId,
};
use super::refs::{order_target, reference};
use super::tokens::Direction;

/// The parts of a stage whose keys differ between the forms.
pub(crate) struct Parts {
    pub source: Source,
    pub joins: Vec<Join>,
    pub expressions: Vec<NamedExpression>,
    pub filters: Vec<Filter>,
}

/// Builds a stage from its form-specific `parts` and the keys common to both forms.
pub(crate) fn stage(
    map: &Map<String, Value>,
    path: &Path,
    form: Form,
    parts: Parts,
) -> Result<Stage, MbqlError> {
    let fields = list(map, "fields", path, |v, p| reference(v, p, form))?;
    let mut uuids = Vec::new();
    let aggregations = list(map, "aggregation", path, |v, p| {
        let (aggregation, uuid) = aggregation(v, p, form)?;
        uuids.push(uuid);
        Ok(aggregation)
    })?;
    let breakouts = list(map, "breakout", path, |v, p| reference(v, p, form))?;
    let order_by = list(map, "order-by", path, |v, p| order_by(v, p, form, &uuids))?;
    Ok(Stage {
        source: parts.source,
        joins: parts.joins,
        expressions: parts.expressions,
        filters: parts.filters,
        fields,
        aggregations,
        breakouts,
        order_by,
        limit: get(map, "limit")
            .map(|v| non_negative(v, &path.key("limit")))
            .transpose()?,
        page: get(map, "page")
            .map(|v| page(v, &path.key("page")))
            .transpose()?,
    })
}

/// The array under `key` built item by item; absent or `null` is empty, and a single clause
/// not wrapped in an array counts as one item [compat: Metabase wraps it].
pub(crate) fn list<T>(
    map: &Map<String, Value>,
    key: &str,
    path: &Path,
    mut item: impl FnMut(&Value, &Path) -> Result<T, MbqlError>,
) -> Result<Vec<T>, MbqlError> {
    let path = path.key(key);
    match get(map, key) {
        None => Ok(Vec::new()),
        Some(v @ Value::Array(items)) if items.first().is_some_and(Value::is_string) => {
            Ok(vec![item(v, &path)?])
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| item(v, &path.index(i)))
            .collect(),
        Some(_) => Err(path.malformed("expected an array")),
    }
}

/// Adds a filter to an AND-ed list, splitting a top-level `and` so that a legacy `filter` and
/// its MBQL 5 `filters` twin give the same list.
pub(crate) fn push_conjuncts(filter: Filter, out: &mut Vec<Filter>) {
    match filter {
        Filter::And(parts) => parts.into_iter().for_each(|f| push_conjuncts(f, out)),
        other => out.push(other),
    }
}

/// A list of filters under `key`, AND-ed.
pub(crate) fn filters(
    map: &Map<String, Value>,
    key: &str,
    path: &Path,
    form: Form,
) -> Result<Vec<Filter>, MbqlError> {
    let mut out = Vec::new();
    for f in list(map, key, path, |v, p| filter(v, p, form))? {
        push_conjuncts(f, &mut out);
    }
    Ok(out)
}

/// What a source names: a table or a saved question.
pub(crate) enum TableOrCard {
    Table(TableId),
    Card(CardId),
}

impl From<TableOrCard> for Source {
    fn from(t: TableOrCard) -> Self {
        match t {
            TableOrCard::Table(id) => Source::Table(id),
            TableOrCard::Card(id) => Source::Card(id),
        }
    }
}

impl From<TableOrCard> for JoinSource {
    fn from(t: TableOrCard) -> Self {
        match t {
            TableOrCard::Table(id) => JoinSource::Table(id),
            TableOrCard::Card(id) => JoinSource::Card(id),
        }
    }
}

/// A table id, or `"card__<id>"` for a saved question.
pub(crate) fn table_or_card(v: &Value, path: &Path) -> Result<TableOrCard, MbqlError> {
    if let Some(card) = v.as_str().and_then(|s| s.strip_prefix("card__")) {
        return card
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(TableOrCard::Card)
            .ok_or_else(|| path.malformed(format!("invalid card reference \"card__{card}\"")));
    }
    positive_id(v, path)
        .map(TableOrCard::Table)
        .map_err(|_| path.malformed("expected a table id or \"card__<id>\""))
}

/// A native source: `{"native": "<SQL>", "template-tags": {…}}`, a legacy `source-query` or an
/// MBQL 5 native stage.
pub(crate) fn native_source(
    map: &Map<String, Value>,
    path: &Path,
) -> Result<NativeSource, MbqlError> {
    let Some(Value::String(sql)) = get(map, "native") else {
        return Err(path.key("native").malformed("expected SQL text"));
    };
    let template_tags = match get(map, "template-tags") {
        None => Map::new(),
        Some(Value::Object(tags)) => tags.clone(),
        Some(_) => return Err(path.key("template-tags").malformed("expected a map")),
    };
    Ok(NativeSource {
        sql: sql.clone(),
        template_tags,
    })
}

fn order_by(
    v: &Value,
    path: &Path,
    form: Form,
    uuids: &[Option<String>],
) -> Result<OrderBy, MbqlError> {
    let c = Clause::read(v, path, form, "an order-by clause")?;
    let direction = Direction::parse(c.op)
        .ok_or_else(|| c.malformed(format!("unknown order-by direction \"{}\"", c.op)))?;
    c.exactly(1)?;
    let target = c.parse_arg(0, |v, p, form| order_target(v, p, form, uuids))?;
    Ok(OrderBy { direction, target })
}

/// `{"page": p, "items": k}`, both at least 1.
fn page(v: &Value, path: &Path) -> Result<Page, MbqlError> {
    let Some(map) = v.as_object() else {
        return Err(path.malformed("expected {\"page\": <integer ≥ 1>, \"items\": <integer ≥ 1>}"));
    };
    let positive = |key: &str| {
        let at = path.key(key);
        get(map, key)
            .and_then(Value::as_u64)
            .filter(|n| *n >= 1)
            .ok_or_else(|| at.malformed("expected an integer ≥ 1"))
    };
    Ok(Page {
        page: positive("page")?,
        items: positive("items")?,
    })
}
