//! Expressions and values (mbql.md §1.5, §2.7): literals, `value`, references, relative and
//! absolute datetimes, the functions of §2.7, filters used as booleans, and the functions
//! Metabase has that ferrobase refuses (kept as `Expr::Unsupported` for the checks, §8).
use serde_json::{Number, Value};

use super::aggregation::is_aggregation_op;
use super::clause::{integer, string, Clause, Form};
use super::error::{MbqlError, Path};
use super::filter::{filter, filter_clause, is_filter_op};
use super::model::{CaseBranch, Expr, Literal, Unsupported};
use super::refs::{reference_clause, temporal_unit};
use super::temporal::TemporalLiteral;
use super::tokens::{
    token, ArithOp, DatePart, IntervalUnit, MathFn, TemporalUnit, TextFn, WeekMode,
};

/// Expression functions Metabase has and ferrobase does not run (§2.7, §8); window functions
/// (`offset`, `cum-*`) inside expressions among them.
const UNSUPPORTED_FUNCTIONS: &[&str] = &[
    "regex-match-first",
    "regexextract",
    "datetime-diff",
    "convert-timezone",
    "offset",
    "cum-sum",
    "cum-count",
    "split-part",
    "host",
    "domain",
    "subdomain",
    "path",
    "month-name",
    "quarter-name",
    "day-name",
    "text",
    "integer",
    "float",
    "date",
    "datetime",
    "time",
    "today",
    "interval",
    "get-week",
    "get-second",
    "temporal-extract",
    "collate",
];

/// Functions of §2.7 other than those the token enums list (values and references aside).
const FUNCTIONS: &[&str] = &[
    "power",
    "coalesce",
    "case",
    "if",
    "concat",
    "substring",
    "replace",
    "datetime-add",
    "datetime-subtract",
    "get-day-of-week",
];

/// Whether `op` names an expression function, run by ferrobase or not (custom aggregation
/// expressions such as `["+", ["sum", x], 1]` are refused as such).
pub(crate) fn is_expression_op(op: &str) -> bool {
    FUNCTIONS.contains(&op)
        || UNSUPPORTED_FUNCTIONS.contains(&op)
        || ArithOp::parse(op).is_some()
        || MathFn::parse(op).is_some()
        || TextFn::parse(op).is_some()
        || DatePart::parse(op).is_some()
}

pub(crate) fn expr(v: &Value, path: &Path, form: Form) -> Result<Expr, MbqlError> {
    match v {
        Value::Array(_) => clause(&Clause::read(v, path, form, "an expression")?),
        Value::Object(_) => Err(path.malformed("expected an expression")),
        scalar => literal(scalar, path).map(Expr::Literal),
    }
}

fn literal(v: &Value, path: &Path) -> Result<Literal, MbqlError> {
    Ok(match v {
        Value::Null => Literal::Null,
        Value::Bool(b) => Literal::Bool(*b),
        Value::Number(n) => number(n),
        Value::String(s) => Literal::Text(s.clone()),
        _ => return Err(path.malformed("expected a literal value")),
    })
}

fn number(n: &Number) -> Literal {
    match n.as_i64() {
        Some(i) => Literal::Int(i),
        // Beyond i64 (a large u64) or fractional.
        None => Literal::Float(n.as_f64().unwrap_or(f64::MAX)),
    }
}

fn boxed(c: &Clause, i: usize) -> Result<Box<Expr>, MbqlError> {
    c.parse_arg(i, expr).map(Box::new)
}

fn clause(c: &Clause) -> Result<Expr, MbqlError> {
    let op = c.op;
    if is_filter_op(op) {
        return filter_clause(c).map(|f| Expr::Predicate(Box::new(f)));
    }
    match op {
        "value" => {
            c.exactly(1)?;
            c.parse_arg(0, |v, p, _| literal(v, p)).map(Expr::Literal)
        }
        "field" | "expression" | "aggregation" => reference_clause(c).map(Expr::Ref),
        "relative-datetime" => relative_datetime(c),
        "absolute-datetime" => absolute_datetime(c),
        "now" => c.exactly(0).map(|_| Expr::Now),
        "case" | "if" => case(c),
        "coalesce" => variadic(c).map(Expr::Coalesce),
        "concat" => variadic(c).map(Expr::Concat),
        "substring" => substring(c),
        "replace" => {
            c.exactly(3)?;
            Ok(Expr::Replace {
                text: boxed(c, 0)?,
                find: boxed(c, 1)?,
                replacement: boxed(c, 2)?,
            })
        }
        "power" => {
            c.exactly(2)?;
            Ok(Expr::Power {
                base: boxed(c, 0)?,
                exponent: boxed(c, 1)?,
            })
        }
        "datetime-add" | "datetime-subtract" => datetime_add(c),
        "get-day-of-week" => day_of_week(c),
        _ => function(c),
    }
}

/// The families named by the token enums, refused functions and unknown names.
fn function(c: &Clause) -> Result<Expr, MbqlError> {
    let op = c.op;
    if let Some(op) = ArithOp::parse(op) {
        c.arity(2, None)?;
        return Ok(Expr::Arithmetic {
            op,
            args: c.parse_args(0, expr)?,
        });
    }
    if let Some(func) = MathFn::parse(op) {
        c.exactly(1)?;
        return Ok(Expr::Math {
            func,
            arg: boxed(c, 0)?,
        });
    }
    if let Some(func) = TextFn::parse(op) {
        c.exactly(1)?;
        return Ok(Expr::Text {
            func,
            arg: boxed(c, 0)?,
        });
    }
    if let Some(part) = DatePart::parse(op) {
        c.exactly(1)?;
        return Ok(Expr::Extract {
            part,
            arg: boxed(c, 0)?,
        });
    }
    if UNSUPPORTED_FUNCTIONS.contains(&op) {
        return Ok(Expr::Unsupported(Unsupported {
            thing: format!("Expression \"{op}\""),
        }));
    }
    if is_aggregation_op(op) {
        return Err(c.malformed(format!(
            "aggregation \"{op}\" is not allowed in an expression"
        )));
    }
    Err(c.malformed(format!("unknown expression \"{op}\"")))
}

fn variadic(c: &Clause) -> Result<Vec<Expr>, MbqlError> {
    c.arity(2, None)?;
    c.parse_args(0, expr)
}

/// `["relative-datetime", n, unit]`, `["relative-datetime", "current"]`.
fn relative_datetime(c: &Clause) -> Result<Expr, MbqlError> {
    c.arity(1, Some(2))?;
    let amount = c.parse_arg(0, |v, p, _| amount(v, p))?;
    let unit = match c.args.get(1) {
        None => None,
        Some(Value::String(s)) if token(s) == "default" => None,
        Some(_) => Some(c.parse_arg(1, |v, p, _| interval_unit(v, p))?),
    };
    if unit.is_none() && amount != 0 {
        return Err(c.malformed("\"relative-datetime\" needs a unit"));
    }
    Ok(Expr::RelativeDateTime { amount, unit })
}

/// `["absolute-datetime", "<iso>", unit]`; the unit defaults to `default`.
fn absolute_datetime(c: &Clause) -> Result<Expr, MbqlError> {
    c.arity(1, Some(2))?;
    let value = c.parse_arg(0, |v, p, _| temporal_literal(v, p))?;
    let unit = match c.args.get(1) {
        None => TemporalUnit::Default,
        Some(_) => c.parse_arg(1, |v, p, _| temporal_unit(v, p))?,
    };
    Ok(Expr::AbsoluteDateTime { value, unit })
}

/// A temporal literal in a position that requires one (`during`, `absolute-datetime`).
pub(crate) fn temporal_literal(v: &Value, path: &Path) -> Result<TemporalLiteral, MbqlError> {
    let text = string(v, path)?;
    TemporalLiteral::parse(text)
        .map_err(|_| path.malformed(format!("invalid date or datetime value \"{text}\"")))
}

/// An integer, or `"current"` (0), `"last"` (−1), `"next"` (1).
pub(crate) fn amount(v: &Value, path: &Path) -> Result<i64, MbqlError> {
    match v {
        Value::String(s) => match &*token(s) {
            "current" => Ok(0),
            "last" => Ok(-1),
            "next" => Ok(1),
            _ => Err(path.malformed(format!(
                "expected an integer, \"current\", \"last\" or \"next\", not \"{s}\""
            ))),
        },
        other => integer(other, path),
    }
}

/// A unit of §2.4 (`millisecond` and `second` are kept for the checks to refuse).
pub(crate) fn interval_unit(v: &Value, path: &Path) -> Result<IntervalUnit, MbqlError> {
    let text = v
        .as_str()
        .ok_or_else(|| path.malformed("a temporal unit must be a string"))?;
    IntervalUnit::parse(text).ok_or_else(|| match TemporalUnit::parse(text) {
        Some(_) => path.malformed(format!("\"{text}\" is not a unit of time")),
        None => path.malformed(format!("unknown temporal unit \"{text}\"")),
    })
}

/// Legacy `["case", [[pred, v], …], {"default": d}]`; MBQL 5 `["case", {…}, [[pred, v], …], d]`.
fn case(c: &Clause) -> Result<Expr, MbqlError> {
    c.arity(1, Some(2))?;
    let branches = c.parse_arg(0, |v, p, form| {
        let Some(pairs) = v.as_array().filter(|a| !a.is_empty()) else {
            return Err(p.malformed("expected a non-empty array of [condition, value] pairs"));
        };
        pairs
            .iter()
            .enumerate()
            .map(|(i, pair)| branch(pair, &p.index(i), form))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let default = match (c.args.get(1), c.option("default")) {
        (Some(_), _) => Some(boxed(c, 1)?),
        (None, Some(v)) => {
            let path = c.path.key("default");
            Some(Box::new(expr(v, &path, c.form)?))
        }
        (None, None) => None,
    };
    Ok(Expr::Case { branches, default })
}

fn branch(pair: &Value, path: &Path, form: Form) -> Result<CaseBranch, MbqlError> {
    let Some([when, then]) = pair.as_array().map(Vec::as_slice) else {
        return Err(path.malformed("expected a [condition, value] pair"));
    };
    Ok(CaseBranch {
        when: filter(when, &path.index(0), form)?,
        then: expr(then, &path.index(1), form)?,
    })
}

/// `["substring", x, start, length?]`; a literal start of 0 means 1 [compat: Metabase].
fn substring(c: &Clause) -> Result<Expr, MbqlError> {
    c.arity(2, Some(3))?;
    let start = match c.parse_arg(1, expr)? {
        Expr::Literal(Literal::Int(0)) => Expr::Literal(Literal::Int(1)),
        Expr::Literal(Literal::Int(n)) if n < 0 => {
            return Err(c
                .arg_path(1)
                .malformed("the start of a substring is 1 or more"))
        }
        start => start,
    };
    Ok(Expr::Substring {
        text: boxed(c, 0)?,
        start: Box::new(start),
        length: c.args.get(2).map(|_| boxed(c, 2)).transpose()?,
    })
}

/// `["datetime-add", x, amount, unit]`; `datetime-subtract` negates the amount.
fn datetime_add(c: &Clause) -> Result<Expr, MbqlError> {
    c.exactly(3)?;
    let amount = c.parse_arg(1, |v, p, _| integer(v, p))?;
    let amount = if c.op == "datetime-subtract" {
        amount
            .checked_neg()
            .ok_or_else(|| c.arg_path(1).malformed("amount out of range"))?
    } else {
        amount
    };
    Ok(Expr::DateTimeAdd {
        expr: boxed(c, 0)?,
        amount,
        unit: c.parse_arg(2, |v, p, _| interval_unit(v, p))?,
    })
}

fn day_of_week(c: &Clause) -> Result<Expr, MbqlError> {
    c.arity(1, Some(2))?;
    let mode = match c.args.get(1) {
        None => WeekMode::Instance,
        Some(_) => c.parse_arg(1, |v, p, _| {
            let text = string(v, p)?;
            WeekMode::parse(text)
                .ok_or_else(|| p.malformed(format!("unknown week mode \"{text}\"")))
        })?,
    };
    Ok(Expr::DayOfWeek {
        arg: boxed(c, 0)?,
        mode,
    })
}
