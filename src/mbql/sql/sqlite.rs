//! SQLite's side of mbql.md §3: temporal units as `strftime` text (§3.3), substring filters
//! with `instr`/`substr` so that case sensitivity holds (§3.5), and the math functions the
//! bundled library is built with (`.cargo/config.toml`). SQLite has no time zones here: stored
//! text is UTC (§3.6).
use jiff::civil::Weekday;
use jiff::tz::Offset;

use super::dialect::SqlDialect;
use super::fragment::Fragment;
use super::types::{
    check_extraction, check_interval, sunday_zero, Aggregate, DialectError, Result, TemporalKind,
    TextOp,
};
use crate::mbql::{Extraction, IntervalUnit, TemporalLiteral};
use crate::warehouse::bound::Bound;
use crate::warehouse::sqltext::Dialect;

/// SQLite (3.39 or later for `RIGHT`/`FULL JOIN`; the bundled library is 3.46).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sqlite;

/// `F` of §3.3: the text form of a truncated value of this kind.
fn format(kind: TemporalKind) -> &'static str {
    match kind {
        TemporalKind::Date => "'%Y-%m-%d'",
        TemporalKind::DateTime | TemporalKind::DateTimeTz => "'%Y-%m-%dT%H:%M:%S'",
        TemporalKind::Time => "'%H:%M:%S'",
    }
}

/// `strftime(fmt, x, modifiers…)`; every piece but `x` is fixed text.
fn strftime(fmt: &'static str, x: Fragment, modifiers: &[&'static str]) -> Fragment {
    let mut f = Fragment::sql("strftime(");
    f.push_sql(fmt).push_sql(", ").push(x);
    for m in modifiers {
        f.push_sql(", ").push_sql(m);
    }
    f.push_sql(")");
    f
}

/// `CAST(strftime('%x', x) AS INTEGER)`.
fn part(spec: &'static str, x: Fragment) -> Fragment {
    let mut f = Fragment::sql("CAST(");
    f.push(strftime(spec, x, &[])).push_sql(" AS INTEGER)");
    f
}

/// The `'weekday N'` modifier: moves forward to the next day numbered N (unchanged on one).
fn weekday_modifier(day: Weekday) -> &'static str {
    match day {
        Weekday::Sunday => "'weekday 0'",
        Weekday::Monday => "'weekday 1'",
        Weekday::Tuesday => "'weekday 2'",
        Weekday::Wednesday => "'weekday 3'",
        Weekday::Thursday => "'weekday 4'",
        Weekday::Friday => "'weekday 5'",
        Weekday::Saturday => "'weekday 6'",
    }
}

/// `YYYY-MM-DDTHH:MM:SS` (UTC for instants), the form SQLite comparisons use (§3.1).
fn datetime_text(value: &TemporalLiteral) -> String {
    let dt = match value {
        TemporalLiteral::Date(d) => d.to_datetime(jiff::civil::Time::midnight()),
        TemporalLiteral::DateTime(dt) => *dt,
        TemporalLiteral::Offset { datetime, offset } => offset
            .to_timestamp(*datetime)
            .map(|ts| Offset::UTC.to_datetime(ts))
            .unwrap_or(*datetime),
    };
    dt.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

impl SqlDialect for Sqlite {
    fn engine(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn table(&self, _schema: Option<&str>, name: &str) -> Fragment {
        Fragment::ident(name)
    }

    fn float_type(&self) -> &'static str {
        "REAL"
    }

    fn integer_type(&self) -> &'static str {
        "INTEGER"
    }

    fn text_type(&self) -> &'static str {
        "TEXT"
    }

    fn truncate(
        &self,
        x: Fragment,
        kind: TemporalKind,
        unit: IntervalUnit,
        start_of_week: Weekday,
    ) -> Result<Fragment> {
        check_interval(kind, unit)?;
        let time = kind == TemporalKind::Time;
        let f = format(kind);
        Ok(match unit {
            IntervalUnit::Minute if time => strftime("'%H:%M:00'", x, &[]),
            IntervalUnit::Minute => strftime("'%Y-%m-%dT%H:%M:00'", x, &[]),
            IntervalUnit::Hour if time => strftime("'%H:00:00'", x, &[]),
            IntervalUnit::Hour => strftime("'%Y-%m-%dT%H:00:00'", x, &[]),
            IntervalUnit::Day => strftime(f, x, &["'start of day'"]),
            IntervalUnit::Week => strftime(
                f,
                x,
                &[
                    "'start of day'",
                    "'-6 days'",
                    weekday_modifier(start_of_week),
                ],
            ),
            IntervalUnit::Month => strftime(f, x, &["'start of month'"]),
            IntervalUnit::Quarter => {
                // Back to the first month of the quarter: '-0 months' … '-2 months'.
                let mut f = Fragment::sql("strftime(");
                f.push_sql(format(kind))
                    .push_sql(", ")
                    .push(x.clone())
                    .push_sql(", 'start of month', '-' || ((")
                    .push(part("'%m'", x))
                    .push_sql(" - 1) % 3) || ' months')");
                f
            }
            IntervalUnit::Year => strftime(f, x, &["'start of year'"]),
            IntervalUnit::Second | IntervalUnit::Millisecond => {
                return Err(DialectError::Unsupported {
                    thing: format!("Temporal unit \"{}\"", unit.as_str()),
                })
            }
        })
    }

    fn extract(
        &self,
        x: Fragment,
        kind: TemporalKind,
        part_of: Extraction,
        start_of_week: Weekday,
    ) -> Result<Fragment> {
        check_extraction(kind, part_of)?;
        Ok(match part_of {
            Extraction::MinuteOfHour => part("'%M'", x),
            Extraction::HourOfDay => part("'%H'", x),
            Extraction::DayOfMonth => part("'%d'", x),
            Extraction::DayOfYear => part("'%j'", x),
            Extraction::MonthOfYear => part("'%m'", x),
            Extraction::QuarterOfYear => {
                let mut f = Fragment::sql("((");
                f.push(part("'%m'", x)).push_sql(" + 2) / 3)");
                f
            }
            Extraction::DayOfWeek => {
                // ((w + 7 - N) % 7) + 1, with 7 - N written as one number.
                let mut f = Fragment::sql("(((");
                f.push(part("'%w'", x))
                    .push_sql(" + ")
                    .push_int(7 - sunday_zero(start_of_week))
                    .push_sql(") % 7) + 1)");
                f
            }
            other => {
                return Err(DialectError::Unsupported {
                    thing: format!("Temporal unit \"{}\"", other.as_str()),
                })
            }
        })
    }

    fn datetime_add(
        &self,
        x: Fragment,
        kind: TemporalKind,
        amount: i64,
        unit: IntervalUnit,
    ) -> Result<Fragment> {
        check_interval(kind, unit)?;
        // `? || ' days'` (the amount bound); weeks are 7 days and quarters 3 months. 'floor'
        // (SQLite 3.46) keeps month arithmetic on the last day of a shorter month, as
        // PostgreSQL does (31 January + 1 month = 29 February, not 2 March).
        let (factor, suffix, clamp) = match unit {
            IntervalUnit::Minute => (1, " || ' minutes'", false),
            IntervalUnit::Hour => (1, " || ' hours'", false),
            IntervalUnit::Day => (1, " || ' days'", false),
            IntervalUnit::Week => (7, " || ' days'", false),
            IntervalUnit::Month => (1, " || ' months'", true),
            IntervalUnit::Quarter => (3, " || ' months'", true),
            IntervalUnit::Year => (1, " || ' years'", true),
            IntervalUnit::Second | IntervalUnit::Millisecond => {
                return Err(DialectError::Unsupported {
                    thing: format!("Temporal unit \"{}\"", unit.as_str()),
                })
            }
        };
        let mut f = Fragment::sql("strftime(");
        f.push_sql(format(kind))
            .push_sql(", ")
            .push(x)
            .push_sql(", ");
        if factor == 1 {
            f.push_param(Bound::Int(amount));
        } else {
            f.push_sql("(")
                .push_param(Bound::Int(amount))
                .push_sql(" * ")
                .push_int(factor)
                .push_sql(")");
        }
        f.push_sql(suffix);
        if clamp {
            f.push_sql(", 'floor'");
        }
        f.push_sql(")");
        Ok(f)
    }

    fn temporal_operands(
        &self,
        x: Fragment,
        kind: TemporalKind,
        value: &TemporalLiteral,
    ) -> Result<(Fragment, Fragment)> {
        match (kind, value) {
            (TemporalKind::Time, _) => Err(DialectError::LiteralForTime),
            // Whole days on a DATE column: `date(x)` against `YYYY-MM-DD`.
            (TemporalKind::Date, TemporalLiteral::Date(d)) => Ok((
                Fragment::call("date", [x]),
                Fragment::param(Bound::Text(d.strftime("%Y-%m-%d").to_string())),
            )),
            // Stored text with a space or a `T`, with or without seconds, compares as one form.
            _ => Ok((
                strftime("'%Y-%m-%dT%H:%M:%S'", x, &[]),
                Fragment::param(Bound::Text(datetime_text(value))),
            )),
        }
    }

    fn year(&self, x: Fragment) -> Fragment {
        part("'%Y'", x)
    }

    fn now(&self) -> Fragment {
        Fragment::sql("strftime('%Y-%m-%dT%H:%M:%S', 'now')")
    }

    fn text_match(&self, x: Fragment, op: TextOp, pattern: &str, case_sensitive: bool) -> Fragment {
        let fold = |f: Fragment| {
            if case_sensitive {
                f
            } else {
                Fragment::call("lower", [f])
            }
        };
        let s = || fold(Fragment::param(Bound::Text(pattern.to_string())));
        match op {
            TextOp::Contains => {
                let mut f = Fragment::call("instr", [fold(x), s()]);
                f.push_sql(" > 0");
                f
            }
            TextOp::StartsWith => {
                let mut f = Fragment::call(
                    "substr",
                    [fold(x), Fragment::sql("1"), Fragment::call("length", [s()])],
                );
                f.push_sql(" = ").push(s());
                f
            }
            TextOp::EndsWith => {
                // §3.5 writes `substr(x, -length(?))`; counting from the start instead gives
                // the same for every non-empty suffix and also matches the empty one, as
                // PostgreSQL's `LIKE '%'` does (`substr(x, -0)` would be all of x).
                let mut start = Fragment::call("length", [fold(x.clone())]);
                start
                    .push_sql(" - ")
                    .push(Fragment::call("length", [s()]))
                    .push_sql(" + 1");
                let mut f = Fragment::call("substr", [fold(x), start]);
                f.push_sql(" = ").push(s());
                f
            }
        }
    }

    /// SQLite's `ROUND` is half away from zero but gives a REAL; the result is an integer.
    fn round(&self, x: Fragment) -> Fragment {
        self.cast(Fragment::call("ROUND", [x]), "INTEGER")
    }

    fn log10(&self, x: Fragment) -> Fragment {
        Fragment::call("log10", [x])
    }

    fn substring(&self, x: Fragment, start: Fragment, length: Option<Fragment>) -> Fragment {
        let mut args = vec![x, start];
        args.extend(length);
        Fragment::call("substr", args)
    }

    fn statistic(&self, aggregate: Aggregate) -> Result<Fragment> {
        let name = match aggregate {
            Aggregate::StdDev(_) => "stddev",
            Aggregate::Var(_) => "var",
            Aggregate::Median(_) => "median",
            Aggregate::Percentile { .. } => "percentile",
            other => return self.aggregate(other),
        };
        Err(DialectError::Unsupported {
            thing: format!("Aggregation \"{name}\" on SQLite"),
        })
    }
}
