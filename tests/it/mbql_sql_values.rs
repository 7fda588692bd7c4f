//! The MBQL SQL dialect layer (mbql.md §3.5, §2.5, §2.6.3) executed on PostgreSQL and SQLite
//! side by side: string filters (case, `%`, `_`, `\`, quotes, NULL), the NULL rules of `!=` and
//! `does-not-contain`, division by zero, `round`, `concat` with NULL, `substring` with bound
//! positions, aggregations (statistics on PostgreSQL), cumulative windows, binning, and quoting
//! of arbitrary identifiers. Also: SQLite warehouses have SQLite's math functions (§3.1).
use ferrobase::mbql::sql::{Aggregate, Fragment, Postgres, Running, SqlDialect, Sqlite};
use ferrobase::mbql::{CompareOp, Literal, MathFn, TextFn, TextMatch};
use ferrobase::warehouse::bound::Bound;
use ferrobase::warehouse::sqltext::Dialect;
use proptest::prelude::*;
use sqlx::{Column, PgConnection, Row};

use crate::mbql_sql_pg::{as_text, exec, pg, rows};
use crate::queries_run::native_on;
use crate::support::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_warehouses_have_the_math_functions() {
    crate::support::run(
        Backend::Sqlite,
        |_| {},
        |t| async move {
            let admin = t.setup().await;
            let sql =
                "SELECT floor(2.5), ln(1), ceil(2.1), power(2, 10), sqrt(16), exp(0), log10(1000)";
            let r = t.post("/api/dataset", &admin, native_on(1, sql)).await;
            r.assert(202);
            let v = r.json();
            assert_eq!(v["status"], "completed", "{v}");
            let row: Vec<f64> = v["data"]["rows"][0]
                .as_array()
                .expect("a row")
                .iter()
                .map(|c| c.as_f64().expect("a number"))
                .collect();
            assert_eq!(row, [2.0, 0.0, 3.0, 1024.0, 4.0, 1.0, 3.0]);
        },
    )
    .await
}

/// `s` values; id 0 is NULL.
const STRINGS: [Option<&str>; 12] = [
    None,
    Some("Widget"),
    Some("widget"),
    Some("WIDGET gadget"),
    Some("a%b"),
    Some("a_b"),
    Some("a\\b"),
    Some("ab"),
    Some(""),
    Some("axb"),
    Some("100%"),
    Some("it's"),
];

const PATTERNS: [&str; 12] = [
    "Widget",
    "widget",
    "%",
    "_",
    "\\",
    "a%",
    "%b",
    "a_",
    "",
    "idg",
    "x' OR '1'='1",
    "'",
];

/// What a string filter means (§2.3); ASCII case folding.
fn reference(op: TextMatch, s: Option<&str>, p: &str, case_sensitive: bool) -> bool {
    let Some(s) = s else {
        return op == TextMatch::DoesNotContain;
    };
    let (s, p) = if case_sensitive {
        (s.to_string(), p.to_string())
    } else {
        (s.to_ascii_lowercase(), p.to_ascii_lowercase())
    };
    match op {
        TextMatch::Contains => s.contains(&p),
        TextMatch::DoesNotContain => !s.contains(&p),
        TextMatch::StartsWith => s.starts_with(&p),
        TextMatch::EndsWith => s.ends_with(&p),
    }
}

fn insert_strings() -> String {
    let mut sql = String::new();
    for (i, s) in STRINGS.iter().enumerate() {
        let v = s.map_or("NULL".to_string(), |s| {
            format!("'{}'", s.replace('\'', "''"))
        });
        sql.push_str(&format!("INSERT INTO s VALUES ({i}, {v});"));
    }
    sql
}

/// Ids of `s` rows where `cond` holds, on PostgreSQL.
async fn pg_ids(c: &mut PgConnection, cond: Fragment) -> Vec<i64> {
    let mut q = Fragment::sql("SELECT CAST(\"id\" AS text) FROM \"s\" WHERE ");
    q.push(cond).push_sql(" ORDER BY \"s\".\"id\"");
    let r = rows(c, &q).await;
    r.iter()
        .map(|r| r[0].as_deref().unwrap().parse().unwrap())
        .collect()
}

/// The same on SQLite.
fn sqlite_ids(conn: &rusqlite::Connection, cond: Fragment) -> Vec<i64> {
    let mut q = Fragment::sql("SELECT \"id\" FROM \"s\" WHERE ");
    q.push(cond).push_sql(" ORDER BY \"s\".\"id\"");
    let (sql, params) = q.render(Dialect::Sqlite);
    let params: Vec<String> = params
        .into_iter()
        .map(|p| match p {
            Bound::Text(s) => s,
            other => panic!("{other:?}"),
        })
        .collect();
    let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    stmt.query_map(rusqlite::params_from_iter(params), |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn want(keep: impl Fn(Option<&str>) -> bool) -> Vec<i64> {
    (0i64..)
        .zip(STRINGS)
        .filter(|(_, s)| keep(*s))
        .map(|(i, _)| i)
        .collect()
}

#[tokio::test]
async fn string_filters_and_null_rules_agree_on_both_engines() {
    let Some(mut c) = pg().await else { return };
    exec(
        &mut c,
        &format!("CREATE TEMP TABLE s (id int, s text);{}", insert_strings()),
    )
    .await;
    let lite = rusqlite::Connection::open_in_memory().unwrap();
    lite.execute_batch(&format!(
        "CREATE TABLE s (id INTEGER, s TEXT);{}",
        insert_strings()
    ))
    .unwrap();
    let s = || Fragment::column("s", "s");
    for op in [
        TextMatch::Contains,
        TextMatch::DoesNotContain,
        TextMatch::StartsWith,
        TextMatch::EndsWith,
    ] {
        for p in PATTERNS {
            for cs in [true, false] {
                let expected = want(|v| reference(op, v, p, cs));
                let pats = [p.to_string()];
                let on_pg = pg_ids(&mut c, Postgres.text_filter(op, s(), &pats, cs)).await;
                assert_eq!(
                    on_pg, expected,
                    "PostgreSQL {op:?} {p:?} case-sensitive {cs}"
                );
                let on_sqlite = sqlite_ids(&lite, Sqlite.text_filter(op, s(), &pats, cs));
                assert_eq!(
                    on_sqlite, expected,
                    "SQLite {op:?} {p:?} case-sensitive {cs}"
                );
            }
        }
    }
    for d in [&Postgres as &dyn SqlDialect, &Sqlite] {
        let lit = |v: &str| d.literal(&Literal::Text(v.to_string()));
        let two = ["%".to_string(), "gad".to_string()];
        let cases = [
            (d.not_equal(s(), vec![lit("ab")]), want(|v| v != Some("ab"))),
            (
                d.not_equal(s(), vec![lit("ab"), lit("")]),
                want(|v| v != Some("ab") && v != Some("")),
            ),
            (d.equal(s(), vec![lit("ab"), lit("")]), vec![7, 8]),
            (
                d.text_filter(TextMatch::DoesNotContain, s(), &two, true),
                want(|v| v.is_none_or(|v| !v.contains('%') && !v.contains("gad"))),
            ),
            (
                d.not_or_null(
                    d.text_filter(TextMatch::StartsWith, s(), &["a".into()], true),
                    s(),
                ),
                want(|v| v.is_none_or(|v| !v.starts_with('a'))),
            ),
            (
                d.not(d.equal(s(), vec![lit("ab")])),
                want(|v| v.is_some_and(|v| v != "ab")),
            ),
            (d.is_empty(s(), true), vec![0, 8]),
            (
                d.not_empty(s(), true),
                want(|v| v.is_some_and(|v| !v.is_empty())),
            ),
        ];
        for (i, (cond, expected)) in cases.into_iter().enumerate() {
            let got = match d.engine() {
                Dialect::Postgres => pg_ids(&mut c, cond).await,
                Dialect::Sqlite => sqlite_ids(&lite, cond),
            };
            assert_eq!(got, expected, "case {i} on {:?}", d.engine());
        }
    }
}

fn int(v: i64) -> Fragment {
    Fragment::param(Bound::Int(v))
}

fn num(v: f64) -> Fragment {
    Fragment::param(Bound::Float(v))
}

fn txt(v: &str) -> Fragment {
    Fragment::param(Bound::Text(v.to_string()))
}

/// `SELECT CAST(<e> AS text), …` on PostgreSQL, one row.
async fn pg_values(c: &mut PgConnection, exprs: Vec<Fragment>) -> Vec<Option<String>> {
    let mut q = Fragment::sql("SELECT ");
    q.push(Fragment::join(exprs.into_iter().map(as_text), ", "));
    rows(c, &q).await.remove(0)
}

#[tokio::test]
async fn numbers_and_text_functions_on_postgres() {
    let Some(mut c) = pg().await else { return };
    let p = Postgres;
    let got = pg_values(
        &mut c,
        vec![
            p.divide(int(1), int(0)),
            p.divide(int(7), int(2)),
            p.divide(Fragment::sql("NULL"), int(2)),
            p.round(num(2.5)),
            p.round(num(-2.5)),
            p.round(num(0.5)),
            p.round(int(7)),
            p.math(MathFn::Log, int(1000)),
            p.math(MathFn::Floor, num(-1.5)),
            p.math(MathFn::Ceil, num(1.2)),
            p.power(int(2), int(10)),
            p.concat(vec![txt("a"), Fragment::sql("NULL"), int(1), num(2.5)]),
            p.concat(vec![Fragment::sql("NULL"), Fragment::sql("NULL")]),
            p.substring(txt("hello"), int(2), Some(int(3))),
            p.substring(txt("hello"), int(2), None),
            p.text_fn(TextFn::Length, txt("héllo")),
            p.replace(txt("a-b-c"), txt("-"), txt("+")),
            p.literal(&Literal::Bool(true)),
        ],
    )
    .await;
    let want = [
        None,
        Some("3.5"),
        None,
        Some("3"),
        Some("-3"),
        Some("1"),
        Some("7"),
        Some("3"),
        Some("-2"),
        Some("2"),
        Some("1024"),
        Some("a12.5"),
        Some(""),
        Some("ell"),
        Some("ello"),
        Some("5"),
        Some("a+b+c"),
        Some("true"),
    ];
    let got: Vec<Option<&str>> = got.iter().map(|v| v.as_deref()).collect();
    assert_eq!(got, want);
}

/// Groups `g`, breakout `b`, values `x` (one NULL).
const GROUPED: &str = "INSERT INTO g VALUES ('a', 1, 10.03), ('a', 1, 15), ('a', 2, 99.87),
    ('b', 1, 20), ('b', 2, NULL), ('b', 3, 35.5);";

fn close(got: &str, want: f64) -> bool {
    let g: f64 = got.parse().unwrap();
    (g - want).abs() <= 1e-9 * want.abs().max(1.0)
}

#[tokio::test]
async fn aggregations_windows_and_bins_on_postgres() {
    let Some(mut c) = pg().await else { return };
    exec(
        &mut c,
        &format!("CREATE TEMP TABLE g (g text, b int, x double precision);{GROUPED}"),
    )
    .await;
    let p = Postgres;
    let x = || Fragment::column("g", "x");
    let pred = || p.compare(CompareOp::Gt, x(), num(18.0));
    let values = [10.03, 15.0, 99.87, 20.0, 35.5];
    let mean = values.iter().sum::<f64>() / 5.0;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 5.0;
    let aggs = vec![
        (Aggregate::CountAll, 6.0),
        (Aggregate::Count(x()), 5.0),
        (Aggregate::Distinct(Fragment::column("g", "g")), 2.0),
        (Aggregate::Sum(x()), 180.4),
        (Aggregate::Avg(x()), mean),
        (Aggregate::Min(x()), 10.03),
        (Aggregate::Max(x()), 99.87),
        (Aggregate::CountWhere(pred()), 3.0),
        (
            Aggregate::SumWhere {
                expr: x(),
                predicate: pred(),
            },
            155.37,
        ),
        (Aggregate::Share(pred()), 0.5),
        (Aggregate::StdDev(x()), var.sqrt()),
        (Aggregate::Var(x()), var),
        (Aggregate::Median(x()), 20.0),
        (
            Aggregate::Percentile { expr: x(), p: 0.9 },
            35.5 + 0.6 * (99.87 - 35.5),
        ),
    ];
    let (list, want): (Vec<Aggregate>, Vec<f64>) = aggs.into_iter().unzip();
    let exprs: Vec<Fragment> = list
        .into_iter()
        .map(|a| as_text(p.aggregate(a).unwrap()))
        .collect();
    let mut q = Fragment::sql("SELECT ");
    q.push(Fragment::join(exprs, ", ")).push_sql(" FROM \"g\"");
    let got = rows(&mut c, &q).await.remove(0);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let g = g.as_deref().expect("a value");
        assert!(close(g, w), "aggregation {i}: {g} ≠ {w}");
    }

    // cum-count by b within g, kept an integer.
    let (gg, b) = (Fragment::column("g", "g"), Fragment::column("g", "b"));
    let running = Running {
        order_by: b.clone(),
        partition_by: vec![gg.clone()],
    };
    let cum = p.cumulative(
        p.aggregate(Aggregate::CountAll).unwrap(),
        Some(running),
        true,
    );
    let mut ty = Fragment::sql("CAST(pg_typeof(");
    ty.push(cum.clone()).push_sql(") AS text)");
    let mut q = Fragment::sql("SELECT ");
    q.push(as_text(cum))
        .push_sql(", ")
        .push(ty)
        .push_sql(" FROM \"g\" GROUP BY ")
        .push(Fragment::join([gg.clone(), b.clone()], ", "))
        .push_sql(" ORDER BY ")
        .push(Fragment::join([gg, b], ", "));
    let got = rows(&mut c, &q).await;
    let counts: Vec<&str> = got.iter().map(|r| r[0].as_deref().unwrap()).collect();
    assert_eq!(counts, ["2", "3", "1", "2", "3"]);
    assert!(got.iter().all(|r| r[1].as_deref() == Some("bigint")));

    // Bins of width 10 from 10; integer column b in bins of 2.5 (no integer division).
    let mut q = Fragment::sql("SELECT ");
    q.push(as_text(p.bin(x(), 10.0, 10.0)))
        .push_sql(", ")
        .push(as_text(p.bin(Fragment::column("g", "b"), 0.0, 2.5)))
        .push_sql(" FROM \"g\" ORDER BY \"g\", \"b\", \"x\"");
    let got = rows(&mut c, &q).await;
    let bins: Vec<(Option<&str>, Option<&str>)> = got
        .iter()
        .map(|r| (r[0].as_deref(), r[1].as_deref()))
        .collect();
    assert_eq!(
        bins,
        [
            (Some("10"), Some("0")),
            (Some("10"), Some("0")),
            (Some("90"), Some("0")),
            (Some("20"), Some("0")),
            (None, Some("0")),
            (Some("30"), Some("2.5")),
        ]
    );
}

#[test]
fn any_identifier_round_trips_through_postgres_quoting() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(conn) = rt.block_on(pg()) else {
        return;
    };
    let conn = tokio::sync::Mutex::new(conn);
    // At most 15 characters: PostgreSQL truncates identifiers past 63 bytes.
    proptest!(ProptestConfig::with_cases(64), |(name in "[^\u{0}]{1,15}")| {
        let mut f = Fragment::sql("SELECT 1 AS ");
        f.push_ident(&name);
        let (sql, _) = f.render(Dialect::Postgres);
        let got = rt.block_on(async {
            let mut c = conn.lock().await;
            let row = sqlx::query(&sql).fetch_one(&mut *c).await.expect(&sql);
            row.columns()[0].name().to_string()
        });
        prop_assert_eq!(got, name);
    });
}
