//! Expressions (mbql.md §2.7), filters (§2.3, §2.4) and aggregations (§2.5) of a stage, each
//! compiled to a fragment with its result metadata.
use jiff::civil::{DateTime, Weekday};

use super::column::{shortest, Col, Origin};
use super::scope::{Scope, Typed};
use super::window;
use super::R;
use crate::mbql::model::{
    Aggregation, AggregationKind, ArithOp, CompareOp, DatePart, Expr, Filter, IntervalUnit,
    Literal, MathFn, Ref, TemporalUnit, TextFn, TextMatch, WeekMode,
};
use crate::mbql::sql::{Aggregate, Fragment, Running, TemporalKind};
use crate::mbql::{Extraction, MbqlError, TemporalLiteral};
use crate::warehouse::sqltext::Dialect;

const FLOAT: &str = "type/Float";
const INTEGER: &str = "type/Integer";
const DECIMAL: &str = "type/Decimal";
const TEXT: &str = "type/Text";
const BOOLEAN: &str = "type/Boolean";

fn value(sql: Fragment, base_type: &str) -> Typed {
    Typed {
        sql,
        col: Col::computed(Origin::Expression, "expression", "Expression", base_type),
    }
}

/// The type of arithmetic over `args` (§2.7).
fn arithmetic_type(op: ArithOp, args: &[Typed]) -> &'static str {
    let has = |t: &str| args.iter().any(|a| a.col.base_type == t);
    if op == ArithOp::Divide || has(FLOAT) {
        FLOAT
    } else if has(DECIMAL) {
        DECIMAL
    } else {
        INTEGER
    }
}

/// The first argument's type that is not unknown (`null` literals are `type/*`).
fn first_known(types: impl IntoIterator<Item = String>) -> String {
    types
        .into_iter()
        .find(|t| t != "type/*")
        .unwrap_or_else(|| "type/*".into())
}

/// A temporal left-hand side: the unbucketed column, its kind, and the truncation unit its
/// reference asked for.
struct TemporalSide {
    x: Fragment,
    kind: TemporalKind,
    unit: Option<IntervalUnit>,
}

impl<'a> Scope<'a> {
    fn sow(&self) -> Weekday {
        self.cx.meta.settings.start_of_week
    }

    pub fn expr(&self, e: &Expr) -> R<Typed> {
        let d = self.d();
        Ok(match e {
            Expr::Literal(l) => value(
                d.literal(l),
                match l {
                    Literal::Null => "type/*",
                    Literal::Bool(_) => BOOLEAN,
                    Literal::Int(_) => INTEGER,
                    Literal::Float(_) => FLOAT,
                    Literal::Text(_) => TEXT,
                },
            ),
            Expr::Ref(r) => self.reference(r)?,
            Expr::RelativeDateTime { amount, unit } => {
                let dt = self.relative(*amount, *unit)?;
                value(datetime_param(dt), "type/DateTime")
            }
            Expr::AbsoluteDateTime { value: v, .. } => {
                value(datetime_param(window::literal_datetime(v)), "type/DateTime")
            }
            Expr::Arithmetic { op, args } => {
                let args = self.exprs(args)?;
                let ty = arithmetic_type(*op, &args);
                value(
                    d.arithmetic(*op, args.into_iter().map(|a| a.sql).collect()),
                    ty,
                )
            }
            Expr::Math { func, arg } => {
                let a = self.expr(arg)?;
                let ty = match func {
                    MathFn::Abs => a.col.base_type.clone(),
                    MathFn::Ceil | MathFn::Floor | MathFn::Round => INTEGER.into(),
                    MathFn::Sqrt | MathFn::Exp | MathFn::Log => FLOAT.into(),
                };
                value(d.math(*func, a.sql), &ty)
            }
            Expr::Power { base, exponent } => {
                let (b, x) = (self.expr(base)?, self.expr(exponent)?);
                value(d.power(b.sql, x.sql), FLOAT)
            }
            Expr::Coalesce(args) => {
                let args = self.exprs(args)?;
                let ty = first_known(args.iter().map(|a| a.col.base_type.clone()));
                value(d.coalesce(args.into_iter().map(|a| a.sql).collect()), &ty)
            }
            Expr::Case { branches, default } => {
                let mut types = Vec::new();
                let mut compiled = Vec::new();
                for b in branches {
                    let then = self.expr(&b.then)?;
                    types.push(then.col.base_type.clone());
                    compiled.push((self.filter(&b.when)?, then.sql));
                }
                let default = match default {
                    Some(x) => {
                        let t = self.expr(x)?;
                        types.push(t.col.base_type.clone());
                        Some(t.sql)
                    }
                    None => None,
                };
                value(d.case(compiled, default), &first_known(types))
            }
            Expr::Concat(args) => {
                let args = self.exprs(args)?;
                value(d.concat(args.into_iter().map(|a| a.sql).collect()), TEXT)
            }
            Expr::Substring {
                text,
                start,
                length,
            } => {
                let t = self.expr(text)?;
                let s = self.expr(start)?;
                let l = length.as_deref().map(|l| self.expr(l)).transpose()?;
                value(d.substring(t.sql, s.sql, l.map(|l| l.sql)), TEXT)
            }
            Expr::Text { func, arg } => {
                let a = self.expr(arg)?;
                let ty = if *func == TextFn::Length {
                    INTEGER
                } else {
                    TEXT
                };
                value(d.text_fn(*func, a.sql), ty)
            }
            Expr::Replace {
                text,
                find,
                replacement,
            } => {
                let (t, f, r) = (self.expr(text)?, self.expr(find)?, self.expr(replacement)?);
                value(d.replace(t.sql, f.sql, r.sql), TEXT)
            }
            Expr::DateTimeAdd { expr, amount, unit } => {
                let x = self.expr(expr)?;
                let kind = self.kind_of(&x, TemporalUnit::Truncate(*unit))?;
                let ty = x.col.base_type.clone();
                value(d.datetime_add(x.sql, kind, *amount, *unit)?, &ty)
            }
            Expr::Extract { part, arg } => {
                let x = self.expr(arg)?;
                let extraction = match part {
                    DatePart::Year => {
                        self.kind_of(&x, TemporalUnit::Truncate(IntervalUnit::Year))?;
                        return Ok(value(d.year(x.sql), INTEGER));
                    }
                    DatePart::Quarter => Extraction::QuarterOfYear,
                    DatePart::Month => Extraction::MonthOfYear,
                    DatePart::Day => Extraction::DayOfMonth,
                    DatePart::Hour => Extraction::HourOfDay,
                    DatePart::Minute => Extraction::MinuteOfHour,
                };
                let kind = self.kind_of(&x, TemporalUnit::Extract(extraction))?;
                value(d.extract(x.sql, kind, extraction, self.sow())?, INTEGER)
            }
            Expr::DayOfWeek { arg, mode } => {
                let x = self.expr(arg)?;
                let unit = TemporalUnit::Extract(Extraction::DayOfWeek);
                let kind = self.kind_of(&x, unit)?;
                let first = match mode {
                    WeekMode::Instance => self.sow(),
                    WeekMode::Iso => Weekday::Monday,
                    WeekMode::Us => Weekday::Sunday,
                };
                value(
                    d.extract(x.sql, kind, Extraction::DayOfWeek, first)?,
                    INTEGER,
                )
            }
            Expr::Now => value(
                d.now(),
                match d.engine() {
                    Dialect::Sqlite => "type/DateTime",
                    Dialect::Postgres => "type/DateTimeWithLocalTZ",
                },
            ),
            Expr::Predicate(f) => value(self.filter(f)?, BOOLEAN),
            Expr::Unsupported(u) => {
                return Err(MbqlError::Unsupported {
                    thing: u.thing.clone(),
                }
                .into())
            }
        })
    }

    fn exprs(&self, args: &[Expr]) -> R<Vec<Typed>> {
        args.iter().map(|a| self.expr(a)).collect()
    }

    /// The temporal kind of a value, which `unit` must fit.
    fn kind_of(&self, x: &Typed, unit: TemporalUnit) -> R<TemporalKind> {
        x.col
            .temporal_kind()
            .filter(|k| k.fits(unit))
            .ok_or_else(|| {
                MbqlError::UnitNotValid {
                    unit: unit.as_str().to_string(),
                    field: x.col.display_name.clone(),
                }
                .into()
            })
    }

    /// `["relative-datetime", n, unit]`: now truncated to the unit, plus n units; now itself
    /// without a unit.
    fn relative(&self, amount: i64, unit: Option<IntervalUnit>) -> R<DateTime> {
        let s = &self.cx.meta.settings;
        let now = window::now_in(s.now, &s.timezone);
        Ok(match unit {
            None => now,
            Some(u) => window::add(window::truncate(now, u, self.sow())?, amount, u)?,
        })
    }

    // --- filters ---------------------------------------------------------------------------

    pub fn filter(&self, f: &Filter) -> R<Fragment> {
        let d = self.d();
        Ok(match f {
            Filter::And(parts) => d.and(self.filters_of(parts)?),
            Filter::Or(parts) => d.or(self.filters_of(parts)?),
            Filter::Not(inner) => match &**inner {
                Filter::Text {
                    op: TextMatch::Contains | TextMatch::StartsWith | TextMatch::EndsWith,
                    expr,
                    ..
                } => d.not_or_null(self.filter(inner)?, self.expr(expr)?.sql),
                other => d.not(self.filter(other)?),
            },
            Filter::Equal { expr, values } => self.equal(expr, values, false)?,
            Filter::NotEqual { expr, values } => self.equal(expr, values, true)?,
            Filter::Compare { op, left, right } => self.compare(*op, left, right)?,
            Filter::Between { expr, low, high } => self.between(expr, low, high)?,
            Filter::IsNull(x) => d.is_null(self.expr(x)?.sql),
            Filter::NotNull(x) => d.not_null(self.expr(x)?.sql),
            Filter::IsEmpty(x) => {
                let t = self.expr(x)?;
                let text = t.col.is_text();
                d.is_empty(t.sql, text)
            }
            Filter::NotEmpty(x) => {
                let t = self.expr(x)?;
                let text = t.col.is_text();
                d.not_empty(t.sql, text)
            }
            Filter::Text {
                op,
                expr,
                patterns,
                case_sensitive,
            } => d.text_filter(*op, self.expr(expr)?.sql, patterns, *case_sensitive),
            Filter::Inside(b) => d.inside(
                self.expr(&b.lat)?.sql,
                self.expr(&b.lon)?.sql,
                self.expr(&b.north)?.sql,
                self.expr(&b.west)?.sql,
                self.expr(&b.south)?.sql,
                self.expr(&b.east)?.sql,
            ),
            Filter::TimeInterval {
                expr,
                amount,
                unit,
                include_current,
            } => {
                let s = &self.cx.meta.settings;
                let now = window::now_in(s.now, &s.timezone);
                let w = window::time_interval(now, *amount, *unit, *include_current, self.sow())?;
                self.window(expr, *unit, w)?
            }
            Filter::RelativeTimeInterval {
                expr,
                amount,
                unit,
                offset,
                offset_unit,
            } => {
                let s = &self.cx.meta.settings;
                let now = window::now_in(s.now, &s.timezone);
                let (a, b) = window::time_interval(now, *amount, *unit, false, self.sow())?;
                let shift = |dt| window::add(dt, *offset, *offset_unit);
                self.window(expr, *unit, (shift(a)?, shift(b)?))?
            }
            Filter::During { expr, value, unit } => {
                let start = window::truncate(window::literal_datetime(value), *unit, self.sow())?;
                let end = window::add(start, 1, *unit)?;
                self.window(expr, *unit, (start, end))?
            }
            Filter::Truthy(r) => self.reference(r)?.sql,
            Filter::Unsupported(u) => {
                return Err(MbqlError::Unsupported {
                    thing: u.thing.clone(),
                }
                .into())
            }
        })
    }

    fn filters_of(&self, parts: &[Filter]) -> R<Vec<Fragment>> {
        parts.iter().map(|p| self.filter(p)).collect()
    }

    /// The left side of a comparison with a temporal literal, when it is a date or datetime.
    fn temporal_side(&self, x: &Expr) -> R<Option<TemporalSide>> {
        let (t, unit) = match x {
            Expr::Ref(Ref::Field(f)) => match f.bucket {
                None => (self.field_unbucketed(f)?, None),
                Some(crate::mbql::model::Bucket::Temporal(TemporalUnit::Truncate(u))) => {
                    (self.field_unbucketed(f)?, Some(u))
                }
                Some(crate::mbql::model::Bucket::Temporal(TemporalUnit::Default)) => {
                    (self.field_unbucketed(f)?, None)
                }
                Some(_) => return Ok(None),
            },
            Expr::Ref(Ref::Expression(e)) => match e.bucket {
                None => (self.expression(&e.name)?, None),
                Some(crate::mbql::model::Bucket::Temporal(TemporalUnit::Truncate(u))) => {
                    (self.expression(&e.name)?, Some(u))
                }
                _ => return Ok(None),
            },
            other => (self.expr(other)?, None),
        };
        let kind = t.col.temporal_kind();
        Ok(match kind {
            Some(k) if k != TemporalKind::Time => Some(TemporalSide {
                x: t.sql,
                kind: k,
                unit,
            }),
            _ => None,
        })
    }

    /// A value compared with a temporal column: a literal string, or a relative or absolute
    /// datetime; `None` for anything else (compared as SQL values).
    fn temporal_value(&self, v: &Expr) -> R<Option<TemporalLiteral>> {
        Ok(match v {
            Expr::Literal(Literal::Text(s)) => Some(TemporalLiteral::parse(s)?),
            Expr::RelativeDateTime { amount, unit } => {
                Some(TemporalLiteral::DateTime(self.relative(*amount, *unit)?))
            }
            Expr::AbsoluteDateTime { value, .. } => Some(*value),
            _ => None,
        })
    }

    /// The bucket `[start, end)` a literal stands for: the side's unit, a whole day for a date
    /// literal, `None` for an exact instant (§2.3).
    fn whole(
        &self,
        side: &TemporalSide,
        lit: &TemporalLiteral,
    ) -> R<Option<(TemporalLiteral, TemporalLiteral)>> {
        let unit = match (side.unit, lit) {
            (Some(u), _) => u,
            (None, TemporalLiteral::Date(_)) => IntervalUnit::Day,
            (None, _) => return Ok(None),
        };
        let start = window::truncate(window::literal_datetime(lit), unit, self.sow())?;
        let end = window::add(start, 1, unit)?;
        let as_lit = |dt: DateTime| match lit {
            _ if side.kind == TemporalKind::Date
                && !matches!(unit, IntervalUnit::Minute | IntervalUnit::Hour) =>
            {
                TemporalLiteral::Date(dt.date())
            }
            TemporalLiteral::Offset { offset, .. } => TemporalLiteral::Offset {
                datetime: dt,
                offset: *offset,
            },
            _ => TemporalLiteral::DateTime(dt),
        };
        Ok(Some((as_lit(start), as_lit(end))))
    }

    /// `x op lit` with the dialect's temporal operands.
    fn temporal_compare(
        &self,
        side: &TemporalSide,
        op: CompareOp,
        lit: &TemporalLiteral,
    ) -> R<Fragment> {
        let (x, v) = self.d().temporal_operands(side.x.clone(), side.kind, lit)?;
        Ok(self.d().compare(op, x, v))
    }

    fn half_open(
        &self,
        side: &TemporalSide,
        start: &TemporalLiteral,
        end: &TemporalLiteral,
    ) -> R<Fragment> {
        let d = self.d();
        let (x, s) = d.temporal_operands(side.x.clone(), side.kind, start)?;
        let (_, e) = d.temporal_operands(side.x.clone(), side.kind, end)?;
        Ok(d.half_open(x, s, e))
    }

    /// `=` / `!=` with one or several values (§2.3); `null` means `IS NULL`.
    fn equal(&self, expr: &Expr, values: &[Expr], negate: bool) -> R<Fragment> {
        let d = self.d();
        if let [Expr::Literal(Literal::Null)] = values {
            let x = self.expr(expr)?.sql;
            return Ok(if negate { d.not_null(x) } else { d.is_null(x) });
        }
        if let Some(side) = self.temporal_side(expr)? {
            let lits: Vec<Option<TemporalLiteral>> = values
                .iter()
                .map(|v| self.temporal_value(v))
                .collect::<R<_>>()?;
            if lits.iter().all(Option::is_some) {
                let mut parts = Vec::new();
                for lit in lits.iter().flatten() {
                    parts.push(match self.whole(&side, lit)? {
                        Some((s, e)) => self.half_open(&side, &s, &e)?,
                        None => {
                            let (x, v) = d.temporal_operands(side.x.clone(), side.kind, lit)?;
                            d.equal(x, vec![v])
                        }
                    });
                }
                let any = if parts.len() == 1 {
                    parts.remove(0)
                } else {
                    d.or(parts)
                };
                return Ok(if negate {
                    d.not_or_null(any, side.x)
                } else {
                    any
                });
            }
        }
        let x = self.expr(expr)?.sql;
        let has_null = values
            .iter()
            .any(|v| matches!(v, Expr::Literal(Literal::Null)));
        let vals: Vec<Fragment> = values
            .iter()
            .filter(|v| !matches!(v, Expr::Literal(Literal::Null)))
            .map(|v| self.expr(v).map(|t| t.sql))
            .collect::<R<_>>()?;
        Ok(match (negate, has_null) {
            (false, false) => d.equal(x, vals),
            (true, false) => d.not_equal(x, vals),
            (false, true) => d.or(vec![d.equal(x.clone(), vals), d.is_null(x)]),
            (true, true) => {
                let mut f = Fragment::sql("NOT ");
                f.push(d.equal(x.clone(), vals).parens());
                d.and(vec![f, d.not_null(x)])
            }
        })
    }

    fn compare(&self, op: CompareOp, left: &Expr, right: &Expr) -> R<Fragment> {
        if let Some(side) = self.temporal_side(left)? {
            if let Some(lit) = self.temporal_value(right)? {
                return Ok(match self.whole(&side, &lit)? {
                    Some((start, end)) => {
                        let (op, at) = match op {
                            CompareOp::Lt => (CompareOp::Lt, start),
                            CompareOp::Le => (CompareOp::Lt, end),
                            CompareOp::Gt => (CompareOp::Ge, end),
                            CompareOp::Ge => (CompareOp::Ge, start),
                        };
                        self.temporal_compare(&side, op, &at)?
                    }
                    None => self.temporal_compare(&side, op, &lit)?,
                });
            }
        }
        let (l, r) = (self.expr(left)?, self.expr(right)?);
        Ok(self.d().compare(op, l.sql, r.sql))
    }

    fn between(&self, expr: &Expr, low: &Expr, high: &Expr) -> R<Fragment> {
        if let Some(side) = self.temporal_side(expr)? {
            if let (Some(lo), Some(hi)) = (self.temporal_value(low)?, self.temporal_value(high)?) {
                let lower = match self.whole(&side, &lo)? {
                    Some((start, _)) => self.temporal_compare(&side, CompareOp::Ge, &start)?,
                    None => self.temporal_compare(&side, CompareOp::Ge, &lo)?,
                };
                let upper = match self.whole(&side, &hi)? {
                    Some((_, end)) => self.temporal_compare(&side, CompareOp::Lt, &end)?,
                    None => self.temporal_compare(&side, CompareOp::Le, &hi)?,
                };
                return Ok(self.d().and(vec![lower, upper]));
            }
        }
        let (x, lo, hi) = (self.expr(expr)?, self.expr(low)?, self.expr(high)?);
        Ok(self.d().between(x.sql, lo.sql, hi.sql))
    }

    /// `x >= start AND x < end` for a computed window (§2.4).
    fn window(
        &self,
        expr: &Expr,
        unit: IntervalUnit,
        (start, end): (DateTime, DateTime),
    ) -> R<Fragment> {
        let x = self.expr(&strip_bucket(expr))?;
        let side = match self.temporal_side(&strip_bucket(expr))? {
            Some(s) => s,
            None => {
                return Err(MbqlError::UnitNotValid {
                    unit: unit.as_str().to_string(),
                    field: x.col.display_name,
                }
                .into())
            }
        };
        let s = &self.cx.meta.settings;
        let zoned = side.kind == TemporalKind::DateTimeTz && self.d().engine() == Dialect::Postgres;
        let lit = |dt| window::bound_literal(dt, zoned, &s.timezone);
        self.half_open(&side, &lit(start), &lit(end))
    }

    // --- aggregations ----------------------------------------------------------------------

    /// An aggregation column; `running` is the window of cumulative ones (§2.5).
    pub fn aggregation(&self, a: &Aggregation, running: Option<&Running>) -> R<Typed> {
        let d = self.d();
        let arg = |x: &Expr| -> R<(Typed, String, String)> {
            let t = self.expr(x)?;
            let (display, name) = match x {
                Expr::Ref(_) => (t.col.display_name.clone(), t.col.name.clone()),
                _ => ("Expression".to_string(), "expression".to_string()),
            };
            Ok((t, display, name))
        };
        let keep_semantic = |t: &Typed| {
            t.col
                .semantic_type
                .clone()
                .filter(|s| s != "type/PK" && s != "type/FK")
        };
        let quantity = Some("type/Quantity".to_string());
        let big = "type/BigInteger".to_string();
        let (sql, name, display, ty, semantic) = match &a.kind {
            AggregationKind::Count(None) => (
                d.aggregate(Aggregate::CountAll)?,
                "count".to_string(),
                "Count".to_string(),
                big,
                quantity,
            ),
            AggregationKind::Count(Some(x)) => {
                let (t, display, _) = arg(x)?;
                (
                    d.aggregate(Aggregate::Count(t.sql))?,
                    "count".into(),
                    format!("Count of {display}"),
                    big,
                    quantity,
                )
            }
            AggregationKind::CumCount(x) => {
                let (inner, display) = match x {
                    None => (Aggregate::CountAll, "Cumulative count".to_string()),
                    Some(x) => {
                        let (t, display, _) = arg(x)?;
                        (
                            Aggregate::Count(t.sql),
                            format!("Cumulative count of {display}"),
                        )
                    }
                };
                let grouped = d.aggregate(inner)?;
                (
                    d.cumulative(grouped, running.cloned(), true),
                    "cum_count".into(),
                    display,
                    big,
                    quantity,
                )
            }
            AggregationKind::Distinct(x) => {
                let (t, display, _) = arg(x)?;
                (
                    d.aggregate(Aggregate::Distinct(t.sql))?,
                    "count".into(),
                    format!("Distinct values of {display}"),
                    big,
                    quantity,
                )
            }
            AggregationKind::Sum(x) | AggregationKind::CumSum(x) => {
                let (t, display, _) = arg(x)?;
                let semantic = keep_semantic(&t);
                let ty = t.col.base_type.clone();
                let sum = d.aggregate(Aggregate::Sum(t.sql))?;
                if matches!(a.kind, AggregationKind::CumSum(_)) {
                    (
                        d.cumulative(sum, running.cloned(), false),
                        "sum".into(),
                        format!("Cumulative sum of {display}"),
                        ty,
                        semantic,
                    )
                } else {
                    (sum, "sum".into(), format!("Sum of {display}"), ty, semantic)
                }
            }
            AggregationKind::Avg(x) => {
                let (t, display, _) = arg(x)?;
                let ty = if t.col.base_type == DECIMAL {
                    DECIMAL
                } else {
                    FLOAT
                };
                (
                    d.aggregate(Aggregate::Avg(t.sql))?,
                    "avg".into(),
                    format!("Average of {display}"),
                    ty.into(),
                    None,
                )
            }
            AggregationKind::Min(x) | AggregationKind::Max(x) => {
                let (t, display, _) = arg(x)?;
                let semantic = keep_semantic(&t);
                let ty = t.col.base_type.clone();
                let min = matches!(a.kind, AggregationKind::Min(_));
                let sql = if min {
                    d.aggregate(Aggregate::Min(t.sql))?
                } else {
                    d.aggregate(Aggregate::Max(t.sql))?
                };
                let (name, word) = if min { ("min", "Min") } else { ("max", "Max") };
                (
                    sql,
                    name.into(),
                    format!("{word} of {display}"),
                    ty,
                    semantic,
                )
            }
            AggregationKind::CountWhere(p) => (
                d.aggregate(Aggregate::CountWhere(self.filter(p)?))?,
                "count-where".into(),
                "Count of rows matching condition".into(),
                big,
                quantity,
            ),
            AggregationKind::SumWhere { expr, predicate } => {
                let (t, display, name) = arg(expr)?;
                let semantic = keep_semantic(&t);
                let ty = t.col.base_type.clone();
                (
                    d.aggregate(Aggregate::SumWhere {
                        expr: t.sql,
                        predicate: self.filter(predicate)?,
                    })?,
                    format!("sum_where_{name}"),
                    format!("Sum of {display} matching condition"),
                    ty,
                    semantic,
                )
            }
            AggregationKind::Share(p) => (
                d.aggregate(Aggregate::Share(self.filter(p)?))?,
                "share".into(),
                "Share of rows matching condition".into(),
                FLOAT.into(),
                None,
            ),
            AggregationKind::StdDev(x) | AggregationKind::Var(x) | AggregationKind::Median(x) => {
                let (t, display, _) = arg(x)?;
                let (aggregate, name, word) = match a.kind {
                    AggregationKind::StdDev(_) => {
                        (Aggregate::StdDev(t.sql), "stddev", "Standard deviation")
                    }
                    AggregationKind::Var(_) => (Aggregate::Var(t.sql), "var", "Variance"),
                    _ => (Aggregate::Median(t.sql), "median", "Median"),
                };
                (
                    d.aggregate(aggregate)?,
                    name.into(),
                    format!("{word} of {display}"),
                    FLOAT.into(),
                    None,
                )
            }
            AggregationKind::Percentile { expr, p } => {
                let (t, display, _) = arg(expr)?;
                (
                    d.aggregate(Aggregate::Percentile { expr: t.sql, p: *p })?,
                    "percentile".into(),
                    format!("{}th percentile of {display}", shortest(*p)),
                    FLOAT.into(),
                    None,
                )
            }
            AggregationKind::Unsupported(u) => {
                return Err(MbqlError::Unsupported {
                    thing: u.thing.clone(),
                }
                .into())
            }
        };
        let name = a.name.clone().unwrap_or(name);
        let display = a.display_name.clone().unwrap_or(display);
        let mut col = Col::computed(Origin::Aggregation, &name, &display, &ty);
        col.semantic_type = semantic;
        Ok(Typed { sql, col })
    }
}

/// The reference without its temporal unit (windows compare the column itself).
fn strip_bucket(e: &Expr) -> Expr {
    match e {
        Expr::Ref(Ref::Field(f)) => {
            let mut f = f.clone();
            f.bucket = None;
            Expr::Ref(Ref::Field(f))
        }
        Expr::Ref(Ref::Expression(x)) => {
            let mut x = x.clone();
            x.bucket = None;
            Expr::Ref(Ref::Expression(x))
        }
        other => other.clone(),
    }
}

/// A computed wall clock as a bound value (`YYYY-MM-DDTHH:MM:SS`).
fn datetime_param(dt: DateTime) -> Fragment {
    Fragment::param(crate::warehouse::bound::Bound::Text(
        dt.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
    ))
}
