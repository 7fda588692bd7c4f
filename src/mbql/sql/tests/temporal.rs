//! Every temporal unit of §3.3, `datetime-add` and temporal comparisons, executed on SQLite
//! over [`dates`] stored the ways SQLite files hold them (`DATE` text, `DATETIME` text with a
//! space, `TIMESTAMP` text with a `T`, `TIME` text) and compared with the `jiff` reference.
use jiff::civil::{DateTime, Time};
use jiff::tz::Offset;
use jiff::Span;

use super::*;
use crate::mbql::{CompareOp, Extraction, IntervalUnit, TemporalLiteral};

/// Column name and kind of each stored form.
const COLUMNS: [(&str, TemporalKind); 4] = [
    ("d", TemporalKind::Date),
    ("dt", TemporalKind::DateTime),
    ("ts", TemporalKind::DateTime),
    ("tm", TemporalKind::Time),
];

fn table() -> Connection {
    let mut setup =
        String::from("CREATE TABLE t (id INTEGER, d DATE, dt DATETIME, ts TIMESTAMP, tm TIME);");
    for (i, dt) in dates().iter().enumerate() {
        setup.push_str(&format!(
            "INSERT INTO t VALUES ({i}, '{}', '{}', '{}', '{}');",
            dt.strftime("%Y-%m-%d"),
            dt.strftime("%Y-%m-%d %H:%M:%S"),
            dt.strftime("%Y-%m-%dT%H:%M:%S"),
            dt.strftime("%H:%M:%S"),
        ));
    }
    sqlite(&setup)
}

/// The stored value of a column as its kind sees it.
fn stored(dt: DateTime, kind: TemporalKind) -> DateTime {
    match kind {
        TemporalKind::Date => dt.date().to_datetime(Time::midnight()),
        // A time alone: SQLite reads it on 2000-01-01.
        TemporalKind::Time => jiff::civil::date(2000, 1, 1).to_datetime(dt.time()),
        _ => dt,
    }
}

/// The text form `F` of §3.3 for a kind.
fn render(dt: DateTime, kind: TemporalKind) -> String {
    match kind {
        TemporalKind::Date => dt.strftime("%Y-%m-%d").to_string(),
        TemporalKind::Time => dt.strftime("%H:%M:%S").to_string(),
        _ => dt.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
    }
}

/// `SELECT <f(column)> FROM t ORDER BY id`, as text.
fn column_of(conn: &Connection, expr: Fragment) -> Vec<Option<String>> {
    let mut f = Fragment::sql("SELECT ");
    f.push(expr).push_sql(" FROM \"t\" ORDER BY \"id\"");
    rows(conn, &f).iter().map(|r| text(&r[0])).collect()
}

const TRUNCATIONS: [IntervalUnit; 7] = [
    IntervalUnit::Minute,
    IntervalUnit::Hour,
    IntervalUnit::Day,
    IntervalUnit::Week,
    IntervalUnit::Month,
    IntervalUnit::Quarter,
    IntervalUnit::Year,
];

const EXTRACTIONS: [Extraction; 7] = [
    Extraction::MinuteOfHour,
    Extraction::HourOfDay,
    Extraction::DayOfWeek,
    Extraction::DayOfMonth,
    Extraction::DayOfYear,
    Extraction::MonthOfYear,
    Extraction::QuarterOfYear,
];

#[test]
fn every_truncation_unit_matches_the_calendar() {
    let conn = table();
    let mut checked = 0;
    for (col, kind) in COLUMNS {
        for unit in TRUNCATIONS {
            for sow in WEEK_STARTS {
                let x = Fragment::column("t", col);
                let Ok(f) = Sqlite.truncate(x, kind, unit, sow) else {
                    assert!(!kind.fits_interval(unit), "{unit:?} on {kind:?}");
                    continue;
                };
                let got = column_of(&conn, f);
                let want: Vec<Option<String>> = dates()
                    .into_iter()
                    .map(|d| {
                        let t = calendar::truncate(stored(d, kind), unit, sow).unwrap();
                        Some(render(t, kind))
                    })
                    .collect();
                assert_eq!(got, want, "{unit:?} on {col} ({kind:?}), week from {sow:?}");
                checked += 1;
            }
        }
    }
    // 7 units × 3 week starts on two datetime columns, 5 on the date column, 2 on the time one.
    assert_eq!(checked, 3 * (7 + 7 + 5 + 2));
}

#[test]
fn every_extraction_unit_matches_the_calendar() {
    let conn = table();
    for (col, kind) in COLUMNS {
        for part in EXTRACTIONS {
            for sow in WEEK_STARTS {
                let x = Fragment::column("t", col);
                let Ok(f) = Sqlite.extract(x, kind, part, sow) else {
                    assert!(!kind.fits(crate::mbql::TemporalUnit::Extract(part)));
                    continue;
                };
                let got = column_of(&conn, f);
                let want: Vec<Option<String>> = dates()
                    .into_iter()
                    .map(|d| {
                        Some(
                            calendar::extract(stored(d, kind), part, sow)
                                .unwrap()
                                .to_string(),
                        )
                    })
                    .collect();
                assert_eq!(got, want, "{part:?} on {col}, week from {sow:?}");
            }
        }
    }
}

#[test]
fn week_buckets_start_on_the_setting_day() {
    let conn = table();
    for sow in WEEK_STARTS {
        let f = Sqlite
            .truncate(
                Fragment::column("t", "dt"),
                TemporalKind::DateTime,
                IntervalUnit::Week,
                sow,
            )
            .unwrap();
        let mut check = Fragment::sql("SELECT DISTINCT CAST(strftime('%w', ");
        check.push(f).push_sql(") AS INTEGER) FROM \"t\"");
        let days = rows(&conn, &check);
        assert_eq!(
            days,
            [[SqlValue::Integer(i64::from(sow.to_sunday_zero_offset()))]],
            "{sow:?}"
        );
    }
}

/// `t` + `n` units for a time of day, wrapping at midnight as both engines do.
fn add_time(t: Time, n: i64, unit: IntervalUnit) -> Time {
    let span = match unit {
        IntervalUnit::Minute => Span::new().minutes(n),
        _ => Span::new().hours(n),
    };
    t.wrapping_add(span)
}

#[test]
fn datetime_add_matches_the_calendar() {
    let conn = table();
    for (col, kind) in COLUMNS {
        for unit in TRUNCATIONS {
            for amount in [-1, 1, 13] {
                let x = Fragment::column("t", col);
                let Ok(f) = Sqlite.datetime_add(x, kind, amount, unit) else {
                    assert!(!kind.fits_interval(unit));
                    continue;
                };
                assert_eq!(f.params().collect::<Vec<_>>(), [&Bound::Int(amount)]);
                let got = column_of(&conn, f);
                let want: Vec<Option<String>> = dates()
                    .into_iter()
                    .map(|d| {
                        let d = stored(d, kind);
                        Some(match kind {
                            TemporalKind::Time => add_time(d.time(), amount, unit)
                                .strftime("%H:%M:%S")
                                .to_string(),
                            _ => render(calendar::add(d, amount, unit).unwrap(), kind),
                        })
                    })
                    .collect();
                assert_eq!(got, want, "{amount} {unit:?} on {col}");
            }
        }
    }
}

/// The literals compared: a date, wall-clock datetimes, an instant with an offset.
pub(super) fn literals() -> Vec<TemporalLiteral> {
    let p = |s: &str| TemporalLiteral::parse(s).unwrap();
    vec![
        p("2024-03-01"),
        p("2024-06-16"),
        p("2024-03-01T00:00:00"),
        p("2024-06-16T00:00:01"),
        p("2024-06-15T20:05:30+02:00"),
        p("2023-12-31T23:59:59Z"),
    ]
}

/// The literal as a UTC wall clock, as SQLite compares it.
fn utc(value: &TemporalLiteral) -> DateTime {
    match value {
        TemporalLiteral::Date(d) => d.to_datetime(Time::midnight()),
        TemporalLiteral::DateTime(dt) => *dt,
        TemporalLiteral::Offset { datetime, offset } => {
            Offset::UTC.to_datetime(offset.to_timestamp(*datetime).unwrap())
        }
    }
}

const OPS: [Option<CompareOp>; 5] = [
    None,
    Some(CompareOp::Lt),
    Some(CompareOp::Le),
    Some(CompareOp::Gt),
    Some(CompareOp::Ge),
];

fn holds(op: Option<CompareOp>, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        None => ord == Equal,
        Some(CompareOp::Lt) => ord == Less,
        Some(CompareOp::Le) => ord != Greater,
        Some(CompareOp::Gt) => ord == Greater,
        Some(CompareOp::Ge) => ord != Less,
    }
}

#[test]
fn temporal_literals_compare_with_every_stored_form() {
    let conn = table();
    for (col, kind) in COLUMNS {
        for lit in literals() {
            let operands = Sqlite.temporal_operands(Fragment::column("t", col), kind, &lit);
            let Ok((x, v)) = operands else {
                assert_eq!(kind, TemporalKind::Time);
                continue;
            };
            for op in OPS {
                let cond = match op {
                    None => Sqlite.equal(x.clone(), vec![v.clone()]),
                    Some(op) => Sqlite.compare(op, x.clone(), v.clone()),
                };
                let mut q = Fragment::sql("SELECT \"id\" FROM \"t\" WHERE ");
                q.push(cond).push_sql(" ORDER BY \"id\"");
                let got: Vec<i64> = rows(&conn, &q)
                    .iter()
                    .map(|r| match r[0] {
                        SqlValue::Integer(i) => i,
                        _ => unreachable!(),
                    })
                    .collect();
                let want: Vec<i64> = (0i64..)
                    .zip(dates())
                    .filter(|(_, d)| {
                        let ord = match (kind, &lit) {
                            (TemporalKind::Date, TemporalLiteral::Date(l)) => d.date().cmp(l),
                            _ => stored(*d, kind).cmp(&utc(&lit)),
                        };
                        holds(op, ord)
                    })
                    .map(|(i, _)| i)
                    .collect();
                assert_eq!(got, want, "{col} {op:?} {lit:?}");
            }
        }
    }
}
