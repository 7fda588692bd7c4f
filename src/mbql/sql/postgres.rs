//! PostgreSQL's side of mbql.md §3: `date_trunc`/`extract` in the session time zone (§3.4,
//! §3.6), temporal literals cast to the column's type (§3.1), `LIKE`/`ILIKE` with escaped
//! patterns (§3.5), and the statistics SQLite lacks (§2.5).
use jiff::civil::Weekday;

use super::dialect::SqlDialect;
use super::fragment::Fragment;
use super::types::{
    check_extraction, check_interval, sunday_zero, Aggregate, DialectError, Result, TemporalKind,
    TextOp,
};
use crate::mbql::{Extraction, IntervalUnit, TemporalLiteral};
use crate::warehouse::bound::Bound;
use crate::warehouse::sqltext::Dialect;

/// PostgreSQL (12 or later).
#[derive(Debug, Clone, Copy, Default)]
pub struct Postgres;

fn unsupported(unit: &str) -> DialectError {
    DialectError::Unsupported {
        thing: format!("Temporal unit \"{unit}\""),
    }
}

/// The `date_trunc` field of a truncation unit.
fn trunc_field(unit: IntervalUnit) -> Result<&'static str> {
    Ok(match unit {
        IntervalUnit::Minute => "'minute'",
        IntervalUnit::Hour => "'hour'",
        IntervalUnit::Day => "'day'",
        IntervalUnit::Week => "'week'",
        IntervalUnit::Month => "'month'",
        IntervalUnit::Quarter => "'quarter'",
        IntervalUnit::Year => "'year'",
        IntervalUnit::Second | IntervalUnit::Millisecond => return Err(unsupported(unit.as_str())),
    })
}

/// `INTERVAL 'k day'` for the week shift k = (8 − N) % 7 (0 – 6).
fn days_interval(k: i64) -> &'static str {
    match k {
        1 => "INTERVAL '1 day'",
        2 => "INTERVAL '2 day'",
        3 => "INTERVAL '3 day'",
        4 => "INTERVAL '4 day'",
        5 => "INTERVAL '5 day'",
        _ => "INTERVAL '6 day'",
    }
}

fn cast(x: Fragment, ty: &'static str) -> Fragment {
    let mut f = Fragment::sql("CAST(");
    f.push(x).push_sql(" AS ").push_sql(ty).push_sql(")");
    f
}

/// `date_trunc('<unit>', x)`, weeks shifted to start on `start_of_week`.
fn date_trunc(x: Fragment, unit: IntervalUnit, start_of_week: Weekday) -> Result<Fragment> {
    let field = trunc_field(unit)?;
    let k = (8 - sunday_zero(start_of_week)) % 7;
    let mut f = Fragment::sql("date_trunc(");
    f.push_sql(field).push_sql(", ").push(x);
    if unit == IntervalUnit::Week && k != 0 {
        // date_trunc's weeks start on Monday: shift x forward k days, truncate, shift back.
        let shift = days_interval(k);
        f.push_sql(" + ")
            .push_sql(shift)
            .push_sql(") - ")
            .push_sql(shift);
        return Ok(f.parens());
    }
    f.push_sql(")");
    Ok(f)
}

/// `YYYY-MM-DDTHH:MM:SS[.fffffffff]`.
fn datetime_text(dt: jiff::civil::DateTime) -> String {
    if dt.subsec_nanosecond() == 0 {
        dt.strftime("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        dt.strftime("%Y-%m-%dT%H:%M:%S%.f").to_string()
    }
}

/// The literal as text: a date, a wall-clock datetime, or an instant with its offset.
fn literal_text(value: &TemporalLiteral) -> String {
    match value {
        TemporalLiteral::Date(d) => d.strftime("%Y-%m-%d").to_string(),
        TemporalLiteral::DateTime(dt) => datetime_text(*dt),
        TemporalLiteral::Offset { datetime, offset } => {
            let s = offset.seconds();
            let (sign, s) = if s < 0 { ('-', -s) } else { ('+', s) };
            let mut out = format!(
                "{}{sign}{:02}:{:02}",
                datetime_text(*datetime),
                s / 3600,
                s / 60 % 60
            );
            if s % 60 != 0 {
                out.push_str(&format!(":{:02}", s % 60));
            }
            out
        }
    }
}

impl SqlDialect for Postgres {
    fn engine(&self) -> Dialect {
        Dialect::Postgres
    }

    fn table(&self, schema: Option<&str>, name: &str) -> Fragment {
        match schema {
            Some(s) => Fragment::column(s, name),
            None => Fragment::ident(name),
        }
    }

    fn float_type(&self) -> &'static str {
        "double precision"
    }

    fn integer_type(&self) -> &'static str {
        "bigint"
    }

    fn text_type(&self) -> &'static str {
        "text"
    }

    fn truncate(
        &self,
        x: Fragment,
        kind: TemporalKind,
        unit: IntervalUnit,
        start_of_week: Weekday,
    ) -> Result<Fragment> {
        check_interval(kind, unit)?;
        Ok(match kind {
            TemporalKind::DateTime | TemporalKind::DateTimeTz => {
                date_trunc(x, unit, start_of_week)?
            }
            // Through `timestamp`, not the `timestamptz` PostgreSQL would pick for a bare
            // date, so the session zone's midnights play no part.
            TemporalKind::Date => cast(
                date_trunc(cast(x, "timestamp"), unit, start_of_week)?,
                "date",
            ),
            // A time truncates as an interval; back to a time of day.
            TemporalKind::Time => cast(date_trunc(x, unit, start_of_week)?, "time"),
        })
    }

    fn extract(
        &self,
        x: Fragment,
        kind: TemporalKind,
        part: Extraction,
        start_of_week: Weekday,
    ) -> Result<Fragment> {
        check_extraction(kind, part)?;
        let field = match part {
            Extraction::MinuteOfHour => "minute",
            Extraction::HourOfDay => "hour",
            Extraction::DayOfMonth => "day",
            Extraction::DayOfYear => "doy",
            Extraction::MonthOfYear => "month",
            Extraction::QuarterOfYear => "quarter",
            Extraction::DayOfWeek => {
                let mut dow = Fragment::sql("(((CAST(extract(dow FROM ");
                dow.push(x)
                    .push_sql(") AS integer) + ")
                    .push_int(7 - sunday_zero(start_of_week))
                    .push_sql(") % 7) + 1)");
                return Ok(cast(dow, "integer"));
            }
            other => return Err(unsupported(other.as_str())),
        };
        let mut f = Fragment::sql("extract(");
        f.push_sql(field).push_sql(" FROM ").push(x).push_sql(")");
        Ok(cast(f, "integer"))
    }

    fn datetime_add(
        &self,
        x: Fragment,
        kind: TemporalKind,
        amount: i64,
        unit: IntervalUnit,
    ) -> Result<Fragment> {
        check_interval(kind, unit)?;
        let interval = match unit {
            IntervalUnit::Minute => "INTERVAL '1 minute'",
            IntervalUnit::Hour => "INTERVAL '1 hour'",
            IntervalUnit::Day => "INTERVAL '1 day'",
            IntervalUnit::Week => "INTERVAL '7 day'",
            IntervalUnit::Month => "INTERVAL '1 month'",
            IntervalUnit::Quarter => "INTERVAL '3 month'",
            IntervalUnit::Year => "INTERVAL '1 year'",
            IntervalUnit::Second | IntervalUnit::Millisecond => {
                return Err(unsupported(unit.as_str()))
            }
        };
        let mut f = x;
        f.push_sql(" + ")
            .push_param(Bound::Int(amount))
            .push_sql(" * ")
            .push_sql(interval);
        Ok(match kind {
            // date + interval is a timestamp; the column's own kind comes back.
            TemporalKind::Date => cast(f, "date"),
            _ => f.parens(),
        })
    }

    fn temporal_operands(
        &self,
        x: Fragment,
        kind: TemporalKind,
        value: &TemporalLiteral,
    ) -> Result<(Fragment, Fragment)> {
        let ty = match (kind, value) {
            (TemporalKind::Time, _) => return Err(DialectError::LiteralForTime),
            (TemporalKind::DateTimeTz, _) | (_, TemporalLiteral::Offset { .. }) => "timestamptz",
            (TemporalKind::Date, TemporalLiteral::Date(_)) => "date",
            // A datetime literal keeps its time against a date column (compared as timestamps).
            _ => "timestamp",
        };
        let mut bound = cast(Fragment::param(Bound::Text(literal_text(value))), ty);
        if ty == "timestamptz" && kind != TemporalKind::DateTimeTz {
            // An instant against wall-clock values: its wall clock in the session zone (§3.6).
            bound = cast(bound, "timestamp");
        }
        Ok((x, bound))
    }

    fn year(&self, x: Fragment) -> Fragment {
        let mut f = Fragment::sql("extract(year FROM ");
        f.push(x).push_sql(")");
        cast(f, "integer")
    }

    fn now(&self) -> Fragment {
        Fragment::sql("now()")
    }

    fn text_match(&self, x: Fragment, op: TextOp, pattern: &str, case_sensitive: bool) -> Fragment {
        let escaped = like_escape(pattern);
        let pattern = match op {
            TextOp::Contains => format!("%{escaped}%"),
            TextOp::StartsWith => format!("{escaped}%"),
            TextOp::EndsWith => format!("%{escaped}"),
        };
        let mut f = x;
        f.push_sql(if case_sensitive { " LIKE " } else { " ILIKE " })
            .push_param(Bound::Text(pattern))
            .push_sql(" ESCAPE '\\'");
        f
    }

    /// Through `numeric`: `round(double precision)` rounds half to even, `numeric` half away
    /// from zero, as SQLite does.
    fn round(&self, x: Fragment) -> Fragment {
        Fragment::call("ROUND", [cast(x, "numeric")])
    }

    /// PostgreSQL's one-argument `log` is base 10.
    fn log10(&self, x: Fragment) -> Fragment {
        Fragment::call("log", [x])
    }

    /// `substr` takes `integer` positions; bound integers are `bigint`.
    fn substring(&self, x: Fragment, start: Fragment, length: Option<Fragment>) -> Fragment {
        let mut args = vec![cast(x, "text"), cast(start, "integer")];
        args.extend(length.map(|l| cast(l, "integer")));
        Fragment::call("substr", args)
    }

    fn statistic(&self, aggregate: Aggregate) -> Result<Fragment> {
        Ok(match aggregate {
            Aggregate::StdDev(x) => Fragment::call("STDDEV_POP", [x]),
            Aggregate::Var(x) => Fragment::call("VAR_POP", [x]),
            Aggregate::Median(x) => percentile(x, 0.5),
            Aggregate::Percentile { expr, p } => percentile(expr, p),
            other => return self.aggregate(other),
        })
    }
}

fn percentile(x: Fragment, p: f64) -> Fragment {
    let mut f = Fragment::sql("PERCENTILE_CONT(");
    f.push_number(p)
        .push_sql(") WITHIN GROUP (ORDER BY ")
        .push(x)
        .push_sql(")");
    f
}

/// `%`, `_` and `\` of a `LIKE` pattern escaped with `\` (the `ESCAPE '\'` of §3.5).
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
