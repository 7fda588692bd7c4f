//! Tests of the dialect layer that execute its SQL on SQLite (an in-memory database under the
//! warehouse sandbox's authorizer, so every function used is one warehouse statements may
//! call) against the `jiff` reference of [`super::calendar`]: every temporal unit with three
//! `start-of-week` days (`temporal`), string filters, NULL rules and numbers (`values`), and
//! property tests of quoting and binding (`props`). The PostgreSQL side runs the same cases in
//! `tests/it/mbql_sql_pg.rs`.
use jiff::civil::{date, DateTime, Weekday};
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

use super::*;
use crate::warehouse::bound::Bound;

mod props;
mod temporal;
mod values;

/// The dates every temporal test runs over: month, quarter and year boundaries, 29 February,
/// a Sunday, a Monday and a Saturday, times of day from midnight to the last second.
fn dates() -> Vec<DateTime> {
    vec![
        date(2024, 1, 1).at(0, 0, 0, 0),      // Monday, first of a year
        date(2023, 12, 31).at(23, 59, 59, 0), // Sunday, last second of a year
        date(2024, 2, 29).at(12, 30, 45, 0),  // Thursday, leap day
        date(2024, 3, 1).at(0, 0, 0, 0),      // Friday after a leap day
        date(2023, 2, 28).at(7, 5, 3, 0),     // Tuesday, end of a short February
        date(2024, 3, 31).at(23, 59, 0, 0),   // Sunday, last day of a quarter
        date(2024, 4, 1).at(8, 15, 0, 0),     // Monday, first day of a quarter
        date(2024, 6, 15).at(18, 5, 30, 0),   // Saturday
        date(2024, 6, 16).at(0, 0, 1, 0),     // Sunday
        date(2024, 6, 17).at(23, 0, 0, 0),    // Monday
        date(2024, 9, 30).at(12, 0, 0, 0),    // Monday, end of Q3
        date(2024, 10, 1).at(1, 2, 3, 0),     // Tuesday, start of Q4
        date(2024, 12, 28).at(9, 9, 9, 0),    // Saturday near a year's end
        date(2025, 1, 4).at(10, 0, 0, 0),     // Saturday in a week spanning two years
        date(2000, 2, 29).at(0, 0, 0, 0),     // leap day of a century year
        date(2024, 1, 31).at(6, 0, 0, 0),     // 31st before a short month
        date(2024, 3, 10).at(12, 0, 0, 0),    // Sunday (a DST change in New York)
    ]
}

const WEEK_STARTS: [Weekday; 3] = [Weekday::Sunday, Weekday::Monday, Weekday::Saturday];

/// An in-memory SQLite database holding `setup`, then the sandbox's authorizer (no writes
/// after this point; only allow-listed functions).
fn sqlite(setup: &str) -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory SQLite");
    conn.execute_batch(setup).expect("setup");
    crate::warehouse::sqlite_guard::install(&conn);
    conn
}

fn to_sql(v: &Bound) -> SqlValue {
    match v {
        Bound::Text(s) => SqlValue::Text(s.clone()),
        Bound::Int(i) => SqlValue::Integer(*i),
        Bound::Float(f) => SqlValue::Real(*f),
        Bound::Bool(b) => SqlValue::Integer(i64::from(*b)),
    }
}

/// Runs a statement fragment and returns its rows.
fn rows(conn: &Connection, statement: &Fragment) -> Vec<Vec<SqlValue>> {
    let (sql, params) = statement.render(crate::warehouse::sqltext::Dialect::Sqlite);
    let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    let width = stmt.column_count();
    let params: Vec<SqlValue> = params.iter().map(to_sql).collect();
    let mut out = Vec::new();
    let mut q = stmt
        .query(rusqlite::params_from_iter(params))
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    while let Some(r) = q.next().unwrap_or_else(|e| panic!("{e}: {sql}")) {
        out.push(
            (0..width)
                .map(|i| r.get::<_, SqlValue>(i).unwrap())
                .collect(),
        );
    }
    out
}

/// `SELECT <expr>` (no table).
fn scalar(conn: &Connection, expr: Fragment) -> SqlValue {
    let mut f = Fragment::sql("SELECT ");
    f.push(expr);
    rows(conn, &f).remove(0).remove(0)
}

fn text(v: &SqlValue) -> Option<String> {
    match v {
        SqlValue::Null => None,
        SqlValue::Text(s) => Some(s.clone()),
        SqlValue::Integer(i) => Some(i.to_string()),
        SqlValue::Real(f) => Some(f.to_string()),
        SqlValue::Blob(_) => panic!("a blob"),
    }
}

#[test]
fn math_functions_are_built_in() {
    let conn = sqlite("");
    let v = rows(
        &conn,
        &Fragment::sql(
            "SELECT floor(2.5), ceil(2.1), power(2, 10), sqrt(16), exp(0), log10(1000), ln(1)",
        ),
    );
    assert_eq!(
        v[0],
        [
            SqlValue::Real(2.0),
            SqlValue::Real(3.0),
            SqlValue::Real(1024.0),
            SqlValue::Real(4.0),
            SqlValue::Real(1.0),
            SqlValue::Real(3.0),
            SqlValue::Real(0.0)
        ]
    );
}

#[test]
fn tables_are_schema_qualified_on_postgres_only() {
    assert_eq!(
        Postgres
            .table(Some("public"), "Mixed Case")
            .render(Postgres.engine())
            .0,
        r#""public"."Mixed Case""#
    );
    assert_eq!(
        Postgres.table(None, "t").render(Postgres.engine()).0,
        r#""t""#
    );
    assert_eq!(
        Sqlite
            .table(Some("main"), "ORDERS")
            .render(Sqlite.engine())
            .0,
        r#""ORDERS""#
    );
    assert_eq!(for_engine(Dialect::Postgres).engine(), Dialect::Postgres);
    assert_eq!(for_engine(Dialect::Sqlite).engine(), Dialect::Sqlite);
}

#[test]
fn kinds_and_the_units_that_fit_them() {
    use crate::mbql::{Extraction, IntervalUnit, TemporalUnit};
    assert_eq!(TemporalKind::of_type("type/Date"), Some(TemporalKind::Date));
    assert_eq!(
        TemporalKind::of_type("type/DateTimeWithLocalTZ"),
        Some(TemporalKind::DateTimeTz)
    );
    assert_eq!(TemporalKind::of_type("type/Time"), Some(TemporalKind::Time));
    assert_eq!(TemporalKind::of_type("type/Text"), None);
    let hour = TemporalUnit::Truncate(IntervalUnit::Hour);
    let month = TemporalUnit::Truncate(IntervalUnit::Month);
    assert!(!TemporalKind::Date.fits(hour) && TemporalKind::Date.fits(month));
    assert!(TemporalKind::Time.fits(hour) && !TemporalKind::Time.fits(month));
    assert!(TemporalKind::Time.fits(TemporalUnit::Extract(Extraction::HourOfDay)));
    assert!(!TemporalKind::Time.fits(TemporalUnit::Extract(Extraction::DayOfWeek)));
    assert!(!TemporalKind::DateTime.fits(TemporalUnit::Extract(Extraction::WeekOfYear)));
    assert!(!TemporalKind::DateTime.fits(TemporalUnit::Truncate(IntervalUnit::Second)));
    assert!(TemporalKind::DateTime.fits(TemporalUnit::Default));
    let e = Sqlite
        .truncate(
            Fragment::sql("x"),
            TemporalKind::Date,
            IntervalUnit::Hour,
            Weekday::Sunday,
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Temporal unit hour does not apply to a Date column."
    );
}

#[test]
fn now_and_paging() {
    let conn = sqlite("");
    let SqlValue::Text(now) = scalar(&conn, Sqlite.now()) else {
        panic!("text")
    };
    let parsed: DateTime = now.parse().expect("YYYY-MM-DDTHH:MM:SS");
    let parsed = parsed
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp();
    let drift = jiff::Timestamp::now()
        .duration_since(parsed)
        .as_secs()
        .abs();
    assert!(drift < 120, "{now} is not the current UTC time");
    assert_eq!(Postgres.now().render(Dialect::Postgres).0, "now()");
    assert_eq!(
        Sqlite.limit_offset(10, 20).render(Dialect::Sqlite).0,
        "LIMIT 10 OFFSET 20"
    );
    assert_eq!(
        Postgres.limit_offset(0, 0).render(Dialect::Postgres).0,
        "LIMIT 0"
    );
}
