//! Aggregation clauses (mbql.md §2.5) with their names: legacy `aggregation-options` or MBQL 5
//! `name`/`display-name` options. Aggregations Metabase has and ferrobase refuses (`metric`,
//! custom aggregation expressions, …) are kept as `AggregationKind::Unsupported` (§8); the
//! engine-dependent ones (`median` on SQLite) as themselves.
use serde_json::Value;

use super::clause::{Clause, Form};
use super::error::{MbqlError, Path};
use super::expr::{expr, is_expression_op};
use super::filter::filter;
use super::model::{Aggregation, AggregationKind, Expr, Literal, Unsupported};

/// Aggregations Metabase has and ferrobase does not run.
const UNSUPPORTED: &[&str] = &["metric", "measure", "distinct-where", "offset"];

/// Whether `op` names an aggregation (not allowed inside an expression).
pub(crate) fn is_aggregation_op(op: &str) -> bool {
    UNSUPPORTED.contains(&op)
        || matches!(
            op,
            "aggregation-options"
                | "count"
                | "cum-count"
                | "distinct"
                | "sum"
                | "avg"
                | "min"
                | "max"
                | "cum-sum"
                | "count-where"
                | "sum-where"
                | "share"
                | "stddev"
                | "var"
                | "median"
                | "percentile"
        )
}

/// An aggregation and the `lib/uuid` of its clause (MBQL 5 order-by refers to it).
pub(crate) fn aggregation(
    v: &Value,
    path: &Path,
    form: Form,
) -> Result<(Aggregation, Option<String>), MbqlError> {
    let c = Clause::read(v, path, form, "an aggregation clause")?;
    let uuid = c
        .option("lib/uuid")
        .and_then(Value::as_str)
        .map(str::to_string);
    let name = c.string_option("name")?.map(str::to_string);
    let display_name = c.string_option("display-name")?.map(str::to_string);
    if c.op == "aggregation-options" {
        c.exactly(1)?;
        let (inner, inner_uuid) = c.parse_arg(0, aggregation)?;
        let named = Aggregation {
            kind: inner.kind,
            name: name.or(inner.name),
            display_name: display_name.or(inner.display_name),
        };
        return Ok((named, uuid.or(inner_uuid)));
    }
    let aggregation = Aggregation {
        kind: kind(&c)?,
        name,
        display_name,
    };
    Ok((aggregation, uuid))
}

fn one(c: &Clause) -> Result<Expr, MbqlError> {
    c.exactly(1)?;
    c.parse_arg(0, expr)
}

fn optional(c: &Clause) -> Result<Option<Expr>, MbqlError> {
    c.arity(0, Some(1))?;
    c.args.first().map(|_| c.parse_arg(0, expr)).transpose()
}

fn kind(c: &Clause) -> Result<AggregationKind, MbqlError> {
    Ok(match c.op {
        "count" => AggregationKind::Count(optional(c)?),
        "cum-count" => AggregationKind::CumCount(optional(c)?),
        "distinct" => AggregationKind::Distinct(one(c)?),
        "sum" => AggregationKind::Sum(one(c)?),
        "avg" => AggregationKind::Avg(one(c)?),
        "min" => AggregationKind::Min(one(c)?),
        "max" => AggregationKind::Max(one(c)?),
        "cum-sum" => AggregationKind::CumSum(one(c)?),
        "stddev" => AggregationKind::StdDev(one(c)?),
        "var" => AggregationKind::Var(one(c)?),
        "median" => AggregationKind::Median(one(c)?),
        "percentile" => percentile(c)?,
        "count-where" | "share" => {
            c.exactly(1)?;
            let predicate = c.parse_arg(0, filter)?;
            if c.op == "share" {
                AggregationKind::Share(predicate)
            } else {
                AggregationKind::CountWhere(predicate)
            }
        }
        "sum-where" => {
            c.exactly(2)?;
            AggregationKind::SumWhere {
                expr: c.parse_arg(0, expr)?,
                predicate: c.parse_arg(1, filter)?,
            }
        }
        op if UNSUPPORTED.contains(&op) || is_expression_op(op) => {
            AggregationKind::Unsupported(Unsupported {
                thing: format!("Aggregation \"{op}\""),
            })
        }
        op => return Err(c.malformed(format!("unknown aggregation \"{op}\""))),
    })
}

/// `["percentile", x, p]` with a literal `p` from 0 to 1.
fn percentile(c: &Clause) -> Result<AggregationKind, MbqlError> {
    c.exactly(2)?;
    let p = match c.parse_arg(1, expr)? {
        Expr::Literal(Literal::Int(i)) => i as f64,
        Expr::Literal(Literal::Float(f)) => f,
        _ => f64::NAN,
    };
    if !(0.0..=1.0).contains(&p) {
        return Err(c
            .arg_path(1)
            .malformed("a percentile is a number from 0 to 1"));
    }
    Ok(AggregationKind::Percentile {
        expr: c.parse_arg(0, expr)?,
        p,
    })
}
