//! The MBQL SQL dialect layer (mbql.md §3) executed on PostgreSQL: every temporal unit with
//! three `start-of-week` days on `date`, `timestamp`, `timestamptz` (session zone New York) and
//! `time` columns, `datetime-add` and temporal literals, each compared with the `jiff`
//! reference and, for the units and additions, with the same fragment run on SQLite. String filters, numbers, aggregations and
//! quoting are in `mbql_sql_values.rs`. Without a PostgreSQL server these tests skip loudly and
//! are recorded as skipped.
use ferrobase::mbql::sql::{calendar, Fragment, Postgres, SqlDialect, Sqlite, TemporalKind};
use ferrobase::mbql::{CompareOp, Extraction, IntervalUnit, TemporalLiteral};
use ferrobase::warehouse::bound::Bound;
use ferrobase::warehouse::sqltext::Dialect;
use jiff::civil::{date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::Span;
use sqlx::{Connection, PgConnection, Row};

use crate::support::{postgres_admin_url, record_skip};

const ZONE: &str = "America/New_York";

fn zone() -> TimeZone {
    TimeZone::get(ZONE).expect("bundled zone")
}

/// Month, quarter and year boundaries, leap days, Sundays, Mondays, Saturdays, a DST day.
fn dates() -> Vec<DateTime> {
    vec![
        date(2024, 1, 1).at(0, 0, 0, 0),
        date(2023, 12, 31).at(23, 59, 59, 0),
        date(2024, 2, 29).at(12, 30, 45, 0),
        date(2024, 3, 1).at(0, 0, 0, 0),
        date(2023, 2, 28).at(7, 5, 3, 0),
        date(2024, 3, 31).at(23, 59, 0, 0),
        date(2024, 4, 1).at(8, 15, 0, 0),
        date(2024, 6, 15).at(18, 5, 30, 0),
        date(2024, 6, 16).at(0, 0, 1, 0),
        date(2024, 6, 17).at(23, 0, 0, 0),
        date(2024, 9, 30).at(12, 0, 0, 0),
        date(2024, 10, 1).at(1, 2, 3, 0),
        date(2024, 12, 28).at(9, 9, 9, 0),
        date(2025, 1, 4).at(10, 0, 0, 0),
        date(2000, 2, 29).at(0, 0, 0, 0),
        date(2024, 1, 31).at(6, 0, 0, 0),
        date(2024, 3, 10).at(12, 0, 0, 0),
        date(2024, 11, 3).at(12, 0, 0, 0),
    ]
}

const WEEK_STARTS: [Weekday; 3] = [Weekday::Sunday, Weekday::Monday, Weekday::Saturday];

const UNITS: [IntervalUnit; 7] = [
    IntervalUnit::Minute,
    IntervalUnit::Hour,
    IntervalUnit::Day,
    IntervalUnit::Week,
    IntervalUnit::Month,
    IntervalUnit::Quarter,
    IntervalUnit::Year,
];

/// Column, kind and `pg_typeof` of each temporal column of the temp table `t`.
const COLUMNS: [(&str, TemporalKind, &str); 4] = [
    ("d", TemporalKind::Date, "date"),
    ("ts", TemporalKind::DateTime, "timestamp without time zone"),
    ("tz", TemporalKind::DateTimeTz, "timestamp with time zone"),
    ("tm", TemporalKind::Time, "time without time zone"),
];

/// A session on the local PostgreSQL in New York time, or `None` (recorded as skipped).
pub async fn pg() -> Option<PgConnection> {
    let Some(url) = postgres_admin_url().await else {
        record_skip();
        return None;
    };
    let mut c = PgConnection::connect(&url).await.expect("connect");
    sqlx::query(&format!("SET TIME ZONE '{ZONE}'"))
        .execute(&mut c)
        .await
        .expect("time zone");
    Some(c)
}

pub async fn exec(c: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(sql).execute(c).await.expect(sql);
}

/// Runs a statement whose every column is text; rows of optional strings.
pub async fn rows(c: &mut PgConnection, statement: &Fragment) -> Vec<Vec<Option<String>>> {
    let (sql, params) = statement.render(Dialect::Postgres);
    let mut q = sqlx::query(&sql);
    for p in params {
        q = match p {
            Bound::Text(s) => q.bind(s),
            Bound::Int(i) => q.bind(i),
            Bound::Float(f) => q.bind(f),
            Bound::Bool(b) => q.bind(b),
        };
    }
    let out = q
        .fetch_all(c)
        .await
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    out.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| r.get::<Option<String>, _>(i))
                .collect()
        })
        .collect()
}

pub fn as_text(x: Fragment) -> Fragment {
    let mut f = Fragment::sql("CAST(");
    f.push(x).push_sql(" AS text)");
    f
}

/// `SELECT <exprs as text> FROM t ORDER BY id`.
async fn over_t(c: &mut PgConnection, exprs: Vec<Fragment>) -> Vec<Vec<Option<String>>> {
    let mut q = Fragment::sql("SELECT ");
    q.push(Fragment::join(exprs, ", "))
        .push_sql(" FROM \"t\" ORDER BY \"t\".\"id\"");
    rows(c, &q).await
}

async fn temporal_table(c: &mut PgConnection) {
    let mut sql = String::from(
        "CREATE TEMP TABLE t (id int, d date, ts timestamp, tz timestamptz, tm time);",
    );
    for (i, dt) in dates().iter().enumerate() {
        let wall = dt.strftime("%Y-%m-%d %H:%M:%S");
        sql.push_str(&format!(
            "INSERT INTO t VALUES ({i}, '{}', '{wall}', '{wall}', '{}');",
            dt.strftime("%Y-%m-%d"),
            dt.strftime("%H:%M:%S")
        ));
    }
    exec(c, &sql).await;
}

fn sqlite_table() -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().expect("SQLite");
    conn.execute_batch("CREATE TABLE t (id INTEGER, d DATE, ts TIMESTAMP, tz TIMESTAMP, tm TIME)")
        .unwrap();
    for (i, dt) in (0i64..).zip(dates()) {
        let wall = dt.strftime("%Y-%m-%dT%H:%M:%S").to_string();
        conn.execute(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
            rusqlite::params![
                i,
                dt.strftime("%Y-%m-%d").to_string(),
                wall,
                wall,
                dt.strftime("%H:%M:%S").to_string()
            ],
        )
        .unwrap();
    }
    conn
}

/// The same fragment on SQLite, as text per row.
fn on_sqlite(conn: &rusqlite::Connection, expr: Fragment) -> Vec<Option<String>> {
    let mut q = Fragment::sql("SELECT CAST(");
    q.push(expr)
        .push_sql(" AS TEXT) FROM \"t\" ORDER BY \"t\".\"id\"");
    let (sql, params) = q.render(Dialect::Sqlite);
    let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    let values: Vec<rusqlite::types::Value> = params
        .into_iter()
        .map(|p| match p {
            Bound::Text(s) => rusqlite::types::Value::Text(s),
            Bound::Int(i) => rusqlite::types::Value::Integer(i),
            Bound::Float(f) => rusqlite::types::Value::Real(f),
            Bound::Bool(b) => rusqlite::types::Value::Integer(i64::from(b)),
        })
        .collect();
    stmt.query_map(rusqlite::params_from_iter(values), |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// The stored value as its kind sees it (a time on 2000-01-01, a date at midnight).
fn stored(dt: DateTime, kind: TemporalKind) -> DateTime {
    match kind {
        TemporalKind::Date => dt.date().to_datetime(Time::midnight()),
        TemporalKind::Time => date(2000, 1, 1).to_datetime(dt.time()),
        _ => dt,
    }
}

/// How `to_char`/SQLite render a value of a kind, with the New York offset for `timestamptz`.
fn wall(dt: DateTime, kind: TemporalKind) -> String {
    match kind {
        TemporalKind::Date => dt.strftime("%Y-%m-%d").to_string(),
        TemporalKind::Time => dt.strftime("%H:%M:%S").to_string(),
        _ => dt.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
    }
}

fn offset_hours(dt: DateTime) -> String {
    let z = dt.to_zoned(zone()).expect("zoned");
    let s = z.offset().seconds();
    format!("{}{:02}", if s < 0 { '-' } else { '+' }, s.abs() / 3600)
}

/// `to_char` in the form `wall` gives, plus `|<offset>` for `timestamptz`, plus the type.
fn pg_render(x: Fragment, kind: TemporalKind) -> Vec<Fragment> {
    let pattern = match kind {
        TemporalKind::Date => "'YYYY-MM-DD'",
        TemporalKind::Time => "'HH24:MI:SS'",
        TemporalKind::DateTime => "'YYYY-MM-DD\"T\"HH24:MI:SS'",
        TemporalKind::DateTimeTz => "'YYYY-MM-DD\"T\"HH24:MI:SS|OF'",
    };
    let mut shown = Fragment::sql("to_char(");
    if kind == TemporalKind::Time {
        // to_char has no `time` form; a time is shown through an interval.
        shown.push(x.clone()).push_sql("::interval");
    } else {
        shown.push(x.clone());
    }
    shown.push_sql(", ").push_sql(pattern).push_sql(")");
    let mut ty = Fragment::sql("CAST(pg_typeof(");
    ty.push(x).push_sql(") AS text)");
    vec![shown, ty]
}

fn expected(dt: DateTime, kind: TemporalKind) -> String {
    match kind {
        TemporalKind::DateTimeTz => format!("{}|{}", wall(dt, kind), offset_hours(dt)),
        _ => wall(dt, kind),
    }
}

#[tokio::test]
async fn postgres_truncation_and_extraction_match_the_calendar_and_sqlite() {
    let Some(mut c) = pg().await else { return };
    temporal_table(&mut c).await;
    let lite = sqlite_table();
    let mut checked = 0;
    for (col, kind, ty) in COLUMNS {
        for sow in WEEK_STARTS {
            for unit in UNITS {
                let x = Fragment::column("t", col);
                let Ok(f) = Postgres.truncate(x.clone(), kind, unit, sow) else {
                    assert!(!kind.fits_interval(unit), "{unit:?} on {kind:?}");
                    continue;
                };
                let got = over_t(&mut c, pg_render(f, kind)).await;
                for (row, dt) in got.iter().zip(dates()) {
                    let t = calendar::truncate(stored(dt, kind), unit, sow).unwrap();
                    let want = expected(t, kind);
                    assert_eq!(
                        row[0].as_deref(),
                        Some(want.as_str()),
                        "{unit:?} {col} {sow:?} of {dt}"
                    );
                    assert_eq!(row[1].as_deref(), Some(ty), "type of {unit:?} on {col}");
                }
                let sqlite = Sqlite.truncate(x, kind, unit, sow).unwrap();
                let from_sqlite = on_sqlite(&lite, sqlite);
                let from_pg: Vec<Option<String>> = got
                    .iter()
                    .map(|r| {
                        r[0].as_ref()
                            .map(|s| s.split('|').next().unwrap().to_string())
                    })
                    .collect();
                assert_eq!(
                    from_sqlite, from_pg,
                    "{unit:?} on {col}, SQLite vs PostgreSQL"
                );
                checked += 1;
            }
            for part in [
                Extraction::MinuteOfHour,
                Extraction::HourOfDay,
                Extraction::DayOfWeek,
                Extraction::DayOfMonth,
                Extraction::DayOfYear,
                Extraction::MonthOfYear,
                Extraction::QuarterOfYear,
            ] {
                let x = Fragment::column("t", col);
                let Ok(f) = Postgres.extract(x.clone(), kind, part, sow) else {
                    continue;
                };
                let mut ty = Fragment::sql("CAST(pg_typeof(");
                ty.push(f.clone()).push_sql(") AS text)");
                let got = over_t(&mut c, vec![as_text(f), ty]).await;
                let sqlite = on_sqlite(&lite, Sqlite.extract(x, kind, part, sow).unwrap());
                for ((row, dt), s) in got.iter().zip(dates()).zip(sqlite) {
                    let want = calendar::extract(stored(dt, kind), part, sow)
                        .unwrap()
                        .to_string();
                    assert_eq!(
                        row[0].as_deref(),
                        Some(want.as_str()),
                        "{part:?} {col} {sow:?} of {dt}"
                    );
                    assert_eq!(row[1].as_deref(), Some("integer"));
                    assert_eq!(s, row[0], "{part:?} on {col}, SQLite vs PostgreSQL");
                }
            }
        }
    }
    assert_eq!(checked, 3 * (7 + 7 + 5 + 2));
}

/// `dt` (a New York wall clock for `timestamptz`) plus `n` units, as PostgreSQL means it.
fn added(dt: DateTime, n: i64, unit: IntervalUnit, kind: TemporalKind) -> DateTime {
    match kind {
        TemporalKind::Time => {
            let span = match unit {
                IntervalUnit::Minute => Span::new().minutes(n),
                _ => Span::new().hours(n),
            };
            date(2000, 1, 1).to_datetime(dt.time().wrapping_add(span))
        }
        // Hours and minutes are absolute on an instant; days and longer follow the wall clock.
        TemporalKind::DateTimeTz if matches!(unit, IntervalUnit::Minute | IntervalUnit::Hour) => {
            let z = dt.to_zoned(zone()).unwrap();
            let span = if unit == IntervalUnit::Minute {
                Span::new().minutes(n)
            } else {
                Span::new().hours(n)
            };
            z.checked_add(span).unwrap().datetime()
        }
        _ => calendar::add(dt, n, unit).unwrap(),
    }
}

#[tokio::test]
async fn postgres_datetime_add_matches_the_calendar_and_sqlite() {
    let Some(mut c) = pg().await else { return };
    temporal_table(&mut c).await;
    let lite = sqlite_table();
    for (col, kind, ty) in COLUMNS {
        for unit in UNITS {
            for n in [-1, 1, 13] {
                let x = Fragment::column("t", col);
                let Ok(f) = Postgres.datetime_add(x.clone(), kind, n, unit) else {
                    assert!(!kind.fits_interval(unit));
                    continue;
                };
                let got = over_t(&mut c, pg_render(f, kind)).await;
                for (row, dt) in got.iter().zip(dates()) {
                    let want = expected(added(stored(dt, kind), n, unit, kind), kind);
                    assert_eq!(
                        row[0].as_deref(),
                        Some(want.as_str()),
                        "{n} {unit:?} {col} of {dt}"
                    );
                    assert_eq!(row[1].as_deref(), Some(ty));
                }
                if kind != TemporalKind::DateTimeTz {
                    let s = on_sqlite(&lite, Sqlite.datetime_add(x, kind, n, unit).unwrap());
                    let p: Vec<Option<String>> = got.iter().map(|r| r[0].clone()).collect();
                    assert_eq!(s, p, "{n} {unit:?} on {col}, SQLite vs PostgreSQL");
                }
            }
        }
    }
}

/// The instant (as a New York wall clock) or wall clock a literal stands for against `kind`.
fn literal_wall(v: &TemporalLiteral) -> DateTime {
    match v {
        TemporalLiteral::Date(d) => d.to_datetime(Time::midnight()),
        TemporalLiteral::DateTime(dt) => *dt,
        TemporalLiteral::Offset { datetime, offset } => {
            let ts = offset.to_timestamp(*datetime).unwrap();
            ts.to_zoned(zone()).datetime()
        }
    }
}

#[tokio::test]
async fn postgres_temporal_literals_are_cast_to_the_column_type() {
    let Some(mut c) = pg().await else { return };
    temporal_table(&mut c).await;
    let p = |s: &str| TemporalLiteral::parse(s).unwrap();
    let literals = [
        p("2024-03-01"),
        p("2024-06-16"),
        p("2024-03-01T00:00:00"),
        p("2024-06-16T00:00:01"),
        p("2024-06-15T20:05:30+02:00"),
        p("2024-01-01T05:00:00Z"),
    ];
    for (col, kind, _) in COLUMNS {
        for lit in &literals {
            let Ok((x, v)) = Postgres.temporal_operands(Fragment::column("t", col), kind, lit)
            else {
                assert_eq!(kind, TemporalKind::Time);
                continue;
            };
            for op in [None, Some(CompareOp::Lt), Some(CompareOp::Ge)] {
                let cond = match op {
                    None => Postgres.equal(x.clone(), vec![v.clone()]),
                    Some(op) => Postgres.compare(op, x.clone(), v.clone()),
                };
                let mut q = Fragment::sql("SELECT CAST(\"id\" AS text) FROM \"t\" WHERE ");
                q.push(cond).push_sql(" ORDER BY \"t\".\"id\"");
                let got: Vec<String> = rows(&mut c, &q)
                    .await
                    .into_iter()
                    .map(|r| r[0].clone().unwrap())
                    .collect();
                let want: Vec<String> = (0..)
                    .zip(dates())
                    .filter(|(_, d)| {
                        let ord = match (kind, lit) {
                            (TemporalKind::Date, TemporalLiteral::Date(l)) => d.date().cmp(l),
                            _ => stored(*d, kind).cmp(&literal_wall(lit)),
                        };
                        match op {
                            None => ord.is_eq(),
                            Some(CompareOp::Lt) => ord.is_lt(),
                            _ => ord.is_ge(),
                        }
                    })
                    .map(|(i, _): (i32, _)| i.to_string())
                    .collect();
                assert_eq!(got, want, "{col} {op:?} {lit:?}");
            }
        }
    }
    // An instant without offset is a New York wall clock against timestamptz; with one, exact.
    let (_, v) = Postgres
        .temporal_operands(
            Fragment::column("t", "tz"),
            TemporalKind::DateTimeTz,
            &p("2024-01-01T05:00:00Z"),
        )
        .unwrap();
    let mut q = Fragment::sql("SELECT to_char(");
    q.push(v).push_sql(", 'YYYY-MM-DD HH24:MI:SSOF')");
    assert_eq!(
        rows(&mut c, &q).await[0][0].as_deref(),
        Some("2024-01-01 00:00:00-05")
    );
}
