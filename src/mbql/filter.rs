//! Filter clauses (mbql.md §2.3, §2.4): comparisons, null and emptiness tests, string matches,
//! `inside`, relative and calendar windows, boolean references, and `segment` (kept as
//! `Filter::Unsupported` for the checks, §8).
use serde_json::Value;

use super::clause::{integer, string, Clause, Form};
use super::error::{MbqlError, Path};
use super::expr::{amount, expr, interval_unit, temporal_literal};
use super::model::{Expr, Filter, InsideBox, Ref, Unsupported};
use super::refs::reference_clause;
use super::tokens::{CompareOp, TextMatch};

/// Whether `op` names a filter clause.
pub(crate) fn is_filter_op(op: &str) -> bool {
    matches!(
        op,
        "and"
            | "or"
            | "not"
            | "="
            | "!="
            | "in"
            | "not-in"
            | "between"
            | "is-null"
            | "not-null"
            | "is-empty"
            | "not-empty"
            | "inside"
            | "time-interval"
            | "relative-time-interval"
            | "during"
            | "segment"
    ) || CompareOp::parse(op).is_some()
        || TextMatch::parse(op).is_some()
}

/// A filter: a filter clause, or a boolean field or expression alone.
pub(crate) fn filter(v: &Value, path: &Path, form: Form) -> Result<Filter, MbqlError> {
    let c = Clause::read(v, path, form, "a filter clause")?;
    match c.op {
        "field" | "expression" => reference_clause(&c).map(Filter::Truthy),
        op if is_filter_op(op) => filter_clause(&c),
        op => Err(c.malformed(format!("unknown filter \"{op}\""))),
    }
}

fn arg(c: &Clause, i: usize) -> Result<Expr, MbqlError> {
    c.parse_arg(i, expr)
}

/// A clause whose name [`is_filter_op`].
pub(crate) fn filter_clause(c: &Clause) -> Result<Filter, MbqlError> {
    Ok(match c.op {
        "and" | "or" => {
            c.arity(1, None)?;
            let parts = c.parse_args(0, filter)?;
            if c.op == "and" {
                Filter::And(parts)
            } else {
                Filter::Or(parts)
            }
        }
        "not" => {
            c.exactly(1)?;
            Filter::Not(Box::new(c.parse_arg(0, filter)?))
        }
        "=" | "in" | "!=" | "not-in" => {
            c.arity(2, None)?;
            let (expr, values) = (arg(c, 0)?, c.parse_args(1, expr)?);
            if matches!(c.op, "=" | "in") {
                Filter::Equal { expr, values }
            } else {
                Filter::NotEqual { expr, values }
            }
        }
        "between" => {
            c.exactly(3)?;
            Filter::Between {
                expr: arg(c, 0)?,
                low: arg(c, 1)?,
                high: arg(c, 2)?,
            }
        }
        "is-null" | "not-null" | "is-empty" | "not-empty" => unary(c)?,
        "inside" => inside(c)?,
        "time-interval" => time_interval(c)?,
        "relative-time-interval" => relative_time_interval(c)?,
        "during" => {
            c.exactly(3)?;
            Filter::During {
                expr: arg(c, 0)?,
                value: c.parse_arg(1, |v, p, _| temporal_literal(v, p))?,
                unit: c.parse_arg(2, |v, p, _| interval_unit(v, p))?,
            }
        }
        "segment" => Filter::Unsupported(Unsupported {
            thing: "Filter \"segment\"".into(),
        }),
        op => {
            if let Some(op) = CompareOp::parse(op) {
                c.exactly(2)?;
                Filter::Compare {
                    op,
                    left: arg(c, 0)?,
                    right: arg(c, 1)?,
                }
            } else if let Some(op) = TextMatch::parse(op) {
                text(c, op)?
            } else {
                return Err(c.malformed(format!("unknown filter \"{op}\"")));
            }
        }
    })
}

fn unary(c: &Clause) -> Result<Filter, MbqlError> {
    c.exactly(1)?;
    let x = arg(c, 0)?;
    Ok(match c.op {
        "is-null" => Filter::IsNull(x),
        "not-null" => Filter::NotNull(x),
        "is-empty" => Filter::IsEmpty(x),
        _ => Filter::NotEmpty(x),
    })
}

fn inside(c: &Clause) -> Result<Filter, MbqlError> {
    c.exactly(6)?;
    Ok(Filter::Inside(Box::new(InsideBox {
        lat: arg(c, 0)?,
        lon: arg(c, 1)?,
        north: arg(c, 2)?,
        west: arg(c, 3)?,
        south: arg(c, 4)?,
        east: arg(c, 5)?,
    })))
}

/// `[op, x, "s1", "s2", …]` with `{"case-sensitive": bool}` (default true).
fn text(c: &Clause, op: TextMatch) -> Result<Filter, MbqlError> {
    c.arity(2, None)?;
    Ok(Filter::Text {
        op,
        expr: arg(c, 0)?,
        patterns: c.parse_args(1, |v, p, _| string(v, p).map(str::to_string))?,
        case_sensitive: c.bool_option("case-sensitive", true)?,
    })
}

/// `["time-interval", x, n, unit, {"include-current": bool}]`. A temporal unit on the field
/// itself is dropped: the window's unit decides [compat: Metabase does the same].
fn time_interval(c: &Clause) -> Result<Filter, MbqlError> {
    c.exactly(3)?;
    let expr = match arg(c, 0)? {
        Expr::Ref(Ref::Field(mut field)) if field.temporal_unit().is_some() => {
            field.bucket = None;
            Expr::Ref(Ref::Field(field))
        }
        other => other,
    };
    Ok(Filter::TimeInterval {
        expr,
        amount: c.parse_arg(1, |v, p, _| amount(v, p))?,
        unit: c.parse_arg(2, |v, p, _| interval_unit(v, p))?,
        include_current: c.bool_option("include-current", false)?,
    })
}

/// `["relative-time-interval", x, n, unit, offset-n, offset-unit]`.
fn relative_time_interval(c: &Clause) -> Result<Filter, MbqlError> {
    c.exactly(5)?;
    Ok(Filter::RelativeTimeInterval {
        expr: arg(c, 0)?,
        amount: c.parse_arg(1, |v, p, _| integer(v, p))?,
        unit: c.parse_arg(2, |v, p, _| interval_unit(v, p))?,
        offset: c.parse_arg(3, |v, p, _| integer(v, p))?,
        offset_unit: c.parse_arg(4, |v, p, _| interval_unit(v, p))?,
    })
}
