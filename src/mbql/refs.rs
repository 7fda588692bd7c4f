//! References (mbql.md §1.4): fields by id or by name with their options (temporal unit,
//! binning, join alias, implicit-join field), expressions, and aggregations of the stage
//! (legacy by index, MBQL 5 by the `lib/uuid` of the aggregation clause, resolved to its index).
use serde_json::Value;

use super::clause::{positive_id, string, Clause, Form};
use super::error::{MbqlError, Path};
use super::model::{Binning, Bucket, ExpressionRef, FieldRef, FieldTarget, OrderTarget, Ref};
use super::tokens::{token, TemporalUnit};

const REFERENCE: &str = "a field or expression reference";

/// A field or expression reference.
pub(crate) fn reference(v: &Value, path: &Path, form: Form) -> Result<Ref, MbqlError> {
    let c = Clause::read(v, path, form, REFERENCE)?;
    reference_clause(&c)
}

pub(crate) fn reference_clause(c: &Clause) -> Result<Ref, MbqlError> {
    match c.op {
        "field" => field_ref(c).map(Ref::Field),
        "expression" => expression_ref(c).map(Ref::Expression),
        "aggregation" => {
            Err(c.malformed("an aggregation reference is only allowed in \"order-by\""))
        }
        op => Err(c.malformed(format!("expected {REFERENCE}, not \"{op}\""))),
    }
}

fn field_ref(c: &Clause) -> Result<FieldRef, MbqlError> {
    c.exactly(1)?;
    let target = match &c.args[0] {
        Value::String(name) => {
            let Some(base_type) = c.string_option("base-type")? else {
                return Err(c.malformed(format!(
                    "field \"{name}\" is referred to by name and needs a \"base-type\" option"
                )));
            };
            FieldTarget::Name {
                name: name.clone(),
                base_type: base_type.to_string(),
                effective_type: c.string_option("effective-type")?.map(str::to_string),
            }
        }
        other => FieldTarget::Id(positive_id(other, &c.arg_path(0))?),
    };
    let source_field = match c.option("source-field") {
        None => None,
        Some(v) => Some(v.as_i64().filter(|id| *id > 0).ok_or_else(|| {
            c.malformed("option \"source-field\" must be a positive integer field id")
        })?),
    };
    Ok(FieldRef {
        target,
        bucket: bucket(c)?,
        join_alias: c.string_option("join-alias")?.map(str::to_string),
        source_field,
        source_field_join_alias: c
            .string_option("source-field-join-alias")?
            .map(str::to_string),
    })
}

fn expression_ref(c: &Clause) -> Result<ExpressionRef, MbqlError> {
    c.exactly(1)?;
    let name = c.parse_arg(0, |v, p, _| string(v, p).map(str::to_string))?;
    Ok(ExpressionRef {
        name,
        bucket: bucket(c)?,
    })
}

/// `temporal-unit` or `binning`, never both.
fn bucket(c: &Clause) -> Result<Option<Bucket>, MbqlError> {
    match (c.option("temporal-unit"), c.option("binning")) {
        (None, None) => Ok(None),
        (Some(unit), None) => temporal_unit(unit, c.path).map(|u| Some(Bucket::Temporal(u))),
        (None, Some(binning)) => self::binning(binning, c.path).map(|b| Some(Bucket::Binning(b))),
        (Some(_), Some(_)) => {
            Err(c.malformed("options \"temporal-unit\" and \"binning\" cannot be combined"))
        }
    }
}

pub(crate) fn temporal_unit(v: &Value, path: &Path) -> Result<TemporalUnit, MbqlError> {
    let text = v
        .as_str()
        .ok_or_else(|| path.malformed("a temporal unit must be a string"))?;
    TemporalUnit::parse(text)
        .ok_or_else(|| path.malformed(format!("unknown temporal unit \"{text}\"")))
}

/// `{"strategy": "num-bins", "num-bins": n}`, `{"strategy": "bin-width", "bin-width": w}` or
/// `{"strategy": "default"}` (§1.4, §2.6.3); other keys are ignored.
fn binning(v: &Value, path: &Path) -> Result<Binning, MbqlError> {
    let Some(map) = v.as_object() else {
        return Err(path.malformed("option \"binning\" must be a map"));
    };
    let strategy = match map.get("strategy") {
        Some(Value::String(s)) => token(s).into_owned(),
        _ => return Err(path.malformed("binning needs a \"strategy\"")),
    };
    match strategy.as_str() {
        "num-bins" => map
            .get("num-bins")
            .and_then(Value::as_u64)
            .filter(|n| (1..=1000).contains(n))
            .and_then(|n| u32::try_from(n).ok())
            .map(Binning::NumBins)
            .ok_or_else(|| path.malformed("\"num-bins\" must be an integer from 1 to 1000")),
        "bin-width" => map
            .get("bin-width")
            .and_then(Value::as_f64)
            .filter(|w| w.is_finite() && *w > 0.0)
            .map(Binning::BinWidth)
            .ok_or_else(|| path.malformed("\"bin-width\" must be a number greater than 0")),
        "default" => Ok(Binning::Default),
        _ => Err(path.malformed(format!("unknown binning strategy \"{strategy}\""))),
    }
}

/// The target of an `order-by` clause: a reference or an aggregation of the stage. `uuids`
/// holds the `lib/uuid` of each aggregation of the stage (MBQL 5).
pub(crate) fn order_target(
    v: &Value,
    path: &Path,
    form: Form,
    uuids: &[Option<String>],
) -> Result<OrderTarget, MbqlError> {
    let c = Clause::read(v, path, form, "a reference")?;
    if c.op != "aggregation" {
        return reference_clause(&c).map(OrderTarget::Ref);
    }
    c.exactly(1)?;
    c.parse_arg(0, |arg, p, _| match arg {
        Value::String(uuid) => Ok(uuids
            .iter()
            .position(|u| u.as_deref() == Some(uuid.as_str()))
            .map_or_else(
                || OrderTarget::AggregationUuid(uuid.clone()),
                OrderTarget::Aggregation,
            )),
        other => other
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .map(OrderTarget::Aggregation)
            .ok_or_else(|| p.malformed("expected an aggregation index or uuid")),
    })
}
