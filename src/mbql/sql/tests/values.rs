//! String filters (case, `%`, `_`, `\`, NULL), the NULL rules of `!=` and negated string
//! filters, division by zero, `concat` with NULL, `round`, `substring`, `length`, aggregations,
//! cumulative windows and the binning bucket, executed on SQLite.
use super::*;
use crate::mbql::{ArithOp, Literal, TextMatch};

/// `s` values; id 0 is NULL.
pub(super) const STRINGS: [Option<&str>; 12] = [
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

pub(super) const PATTERNS: [&str; 12] = [
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

/// What a string filter means (§2.3), in Rust; ASCII case folding as both engines do here.
pub(super) fn reference(op: TextMatch, s: Option<&str>, p: &str, case_sensitive: bool) -> bool {
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

fn strings() -> Connection {
    let mut setup = String::from("CREATE TABLE t (id INTEGER, s TEXT);");
    for (i, s) in STRINGS.iter().enumerate() {
        match s {
            None => setup.push_str(&format!("INSERT INTO t VALUES ({i}, NULL);")),
            Some(s) => setup.push_str(&format!(
                "INSERT INTO t VALUES ({i}, '{}');",
                s.replace('\'', "''")
            )),
        }
    }
    sqlite(&setup)
}

fn ids(conn: &Connection, cond: Fragment) -> Vec<i64> {
    let mut q = Fragment::sql("SELECT \"id\" FROM \"t\" WHERE ");
    q.push(cond).push_sql(" ORDER BY \"id\"");
    rows(conn, &q)
        .iter()
        .map(|r| match r[0] {
            SqlValue::Integer(i) => i,
            _ => unreachable!(),
        })
        .collect()
}

fn expected(keep: impl Fn(Option<&str>) -> bool) -> Vec<i64> {
    (0i64..)
        .zip(STRINGS)
        .filter(|(_, s)| keep(*s))
        .map(|(i, _)| i)
        .collect()
}

const TEXT_OPS: [TextMatch; 4] = [
    TextMatch::Contains,
    TextMatch::DoesNotContain,
    TextMatch::StartsWith,
    TextMatch::EndsWith,
];

#[test]
fn string_filters_honour_case_escaping_and_nulls() {
    let conn = strings();
    let s = || Fragment::column("t", "s");
    for op in TEXT_OPS {
        for p in PATTERNS {
            for cs in [true, false] {
                let got = ids(&conn, Sqlite.text_filter(op, s(), &[p.to_string()], cs));
                let want = expected(|v| reference(op, v, p, cs));
                assert_eq!(got, want, "{op:?} {p:?} case-sensitive {cs}");
            }
        }
    }
    // Several patterns: any of them; for does-not-contain, none of them (NULL included).
    let two = ["%".to_string(), "gad".to_string()];
    let got = ids(
        &conn,
        Sqlite.text_filter(TextMatch::Contains, s(), &two, true),
    );
    assert_eq!(
        got,
        expected(|v| v.is_some_and(|v| v.contains('%') || v.contains("gad")))
    );
    let got = ids(
        &conn,
        Sqlite.text_filter(TextMatch::DoesNotContain, s(), &two, true),
    );
    assert_eq!(
        got,
        expected(|v| v.is_none_or(|v| !v.contains('%') && !v.contains("gad")))
    );
}

#[test]
fn null_rules_of_not_equal_and_negated_string_filters() {
    let conn = strings();
    let s = || Fragment::column("t", "s");
    let lit = |v: &str| Sqlite.literal(&Literal::Text(v.to_string()));
    let got = ids(&conn, Sqlite.not_equal(s(), vec![lit("ab")]));
    assert_eq!(got, expected(|v| v != Some("ab")));
    let got = ids(&conn, Sqlite.not_equal(s(), vec![lit("ab"), lit("")]));
    assert_eq!(got, expected(|v| v != Some("ab") && v != Some("")));
    let got = ids(&conn, Sqlite.equal(s(), vec![lit("ab"), lit("")]));
    assert_eq!(got, [7, 8]);
    // `not` of starts-with includes NULL; `not` of a comparison does not.
    let starts = Sqlite.text_filter(TextMatch::StartsWith, s(), &["a".into()], true);
    let got = ids(&conn, Sqlite.not_or_null(starts, s()));
    assert_eq!(got, expected(|v| v.is_none_or(|v| !v.starts_with('a'))));
    let got = ids(&conn, Sqlite.not(Sqlite.equal(s(), vec![lit("ab")])));
    assert_eq!(got, expected(|v| v.is_some_and(|v| v != "ab")));
    assert_eq!(ids(&conn, Sqlite.is_empty(s(), true)), [0, 8]);
    assert_eq!(
        ids(&conn, Sqlite.not_empty(s(), true)).len(),
        STRINGS.len() - 2
    );
    assert_eq!(ids(&conn, Sqlite.is_null(s())), [0]);
}

fn num(v: f64) -> Fragment {
    Fragment::param(Bound::Float(v))
}

fn int(v: i64) -> Fragment {
    Fragment::param(Bound::Int(v))
}

#[test]
fn numbers_division_round_and_math() {
    let conn = sqlite("");
    let q = |f: Fragment| scalar(&conn, f);
    assert_eq!(q(Sqlite.divide(int(1), int(0))), SqlValue::Null);
    assert_eq!(q(Sqlite.divide(int(7), int(2))), SqlValue::Real(3.5));
    assert_eq!(
        q(Sqlite.divide(Fragment::sql("NULL"), int(2))),
        SqlValue::Null
    );
    assert_eq!(
        q(Sqlite.arithmetic(ArithOp::Divide, vec![int(12), int(2), int(4)])),
        SqlValue::Real(1.5)
    );
    assert_eq!(
        q(Sqlite.arithmetic(ArithOp::Subtract, vec![int(12), int(2), int(4)])),
        SqlValue::Integer(6)
    );
    for (x, r) in [(2.5, 3), (-2.5, -3), (0.5, 1), (1.49, 1), (-0.4, 0)] {
        assert_eq!(q(Sqlite.round(num(x))), SqlValue::Integer(r), "round {x}");
    }
    use crate::mbql::MathFn;
    assert_eq!(q(Sqlite.math(MathFn::Log, int(1000))), SqlValue::Real(3.0));
    assert_eq!(
        q(Sqlite.math(MathFn::Floor, num(-1.5))),
        SqlValue::Real(-2.0)
    );
    assert_eq!(q(Sqlite.math(MathFn::Ceil, num(1.2))), SqlValue::Real(2.0));
    assert_eq!(q(Sqlite.math(MathFn::Abs, int(-3))), SqlValue::Integer(3));
    assert_eq!(q(Sqlite.power(int(2), int(10))), SqlValue::Real(1024.0));
}

#[test]
fn text_functions() {
    let conn = sqlite("");
    let q = |f: Fragment| text(&scalar(&conn, f));
    let t = |s: &str| Fragment::param(Bound::Text(s.into()));
    assert_eq!(
        q(Sqlite.concat(vec![t("a"), Fragment::sql("NULL"), int(1), num(2.5)])).as_deref(),
        Some("a12.5")
    );
    assert_eq!(
        q(Sqlite.concat(vec![Fragment::sql("NULL"), Fragment::sql("NULL")])).as_deref(),
        Some("")
    );
    assert_eq!(
        q(Sqlite.substring(t("hello"), int(2), Some(int(3)))).as_deref(),
        Some("ell")
    );
    assert_eq!(
        q(Sqlite.substring(t("hello"), int(2), None)).as_deref(),
        Some("ello")
    );
    use crate::mbql::TextFn;
    assert_eq!(
        q(Sqlite.text_fn(TextFn::Length, t("héllo"))).as_deref(),
        Some("5")
    );
    assert_eq!(
        q(Sqlite.text_fn(TextFn::Upper, t("abc"))).as_deref(),
        Some("ABC")
    );
    assert_eq!(
        q(Sqlite.text_fn(TextFn::Trim, t("  a  "))).as_deref(),
        Some("a")
    );
    assert_eq!(
        q(Sqlite.replace(t("a-b-c"), t("-"), t("+"))).as_deref(),
        Some("a+b+c")
    );
    assert_eq!(
        q(Sqlite.case(
            vec![(
                Sqlite.compare(crate::mbql::CompareOp::Gt, int(2), int(1)),
                t("yes")
            )],
            Some(t("no"))
        ))
        .as_deref(),
        Some("yes")
    );
    assert_eq!(
        q(Sqlite.coalesce(vec![Fragment::sql("NULL"), int(4)])).as_deref(),
        Some("4")
    );
    // Booleans are 1/0 on SQLite.
    assert_eq!(
        scalar(&conn, Sqlite.literal(&Literal::Bool(true))),
        SqlValue::Integer(1)
    );
}

/// Groups `g` with values `x` (one NULL).
fn grouped() -> Connection {
    sqlite(
        "CREATE TABLE t (g TEXT, b INTEGER, x REAL);
         INSERT INTO t VALUES ('a', 1, 10.03), ('a', 1, 15), ('a', 2, 99.87), ('b', 1, 20),
                              ('b', 2, NULL), ('b', 3, 35.5);",
    )
}

#[test]
fn aggregations() {
    let conn = grouped();
    let x = || Fragment::column("t", "x");
    let pred = || Sqlite.compare(crate::mbql::CompareOp::Gt, x(), num(18.0));
    let aggs = vec![
        Aggregate::CountAll,
        Aggregate::Count(x()),
        Aggregate::Distinct(Fragment::column("t", "g")),
        Aggregate::Sum(x()),
        Aggregate::Min(x()),
        Aggregate::Max(x()),
        Aggregate::CountWhere(pred()),
        Aggregate::SumWhere {
            expr: x(),
            predicate: pred(),
        },
        Aggregate::Share(pred()),
    ];
    let list: Vec<Fragment> = aggs
        .into_iter()
        .map(|a| Sqlite.aggregate(a).unwrap())
        .collect();
    let mut q = Fragment::sql("SELECT ");
    q.push(Fragment::join(list, ", ")).push_sql(" FROM \"t\"");
    let got = rows(&conn, &q).remove(0);
    let want = [6.0, 5.0, 2.0, 180.4, 10.03, 99.87, 3.0, 155.37, 0.5];
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let g = match g {
            SqlValue::Integer(n) if [0, 1, 2, 6].contains(&i) => *n as f64,
            SqlValue::Real(r) if ![0, 1, 2, 6].contains(&i) => *r,
            other => panic!("aggregation {i}: {other:?}"),
        };
        assert!((g - w).abs() < 1e-9, "aggregation {i}: {g} ≠ {w}");
    }
    for stat in [
        Aggregate::Median(x()),
        Aggregate::Percentile { expr: x(), p: 0.9 },
    ] {
        let e = Sqlite.aggregate(stat).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("on SQLite is not supported by ferrobase."),
            "{e}"
        );
    }
}

#[test]
fn cumulative_windows_run_over_the_first_breakout() {
    let conn = grouped();
    let (g, b) = (Fragment::column("t", "g"), Fragment::column("t", "b"));
    let sum = Sqlite.cumulative(
        Sqlite.aggregate(Aggregate::CountAll).unwrap(),
        Some(Running {
            order_by: b.clone(),
            partition_by: vec![g.clone()],
        }),
        true,
    );
    let mut q = Fragment::sql("SELECT ");
    q.push(g.clone())
        .push_sql(", ")
        .push(b.clone())
        .push_sql(", ")
        .push(sum)
        .push_sql(" FROM \"t\" GROUP BY ")
        .push(Fragment::join([g.clone(), b.clone()], ", "))
        .push_sql(" ORDER BY ")
        .push(Fragment::join([g, b], ", "));
    let counts: Vec<SqlValue> = rows(&conn, &q)
        .into_iter()
        .map(|mut r| r.remove(2))
        .collect();
    let want = [2, 3, 1, 2, 3].map(SqlValue::Integer);
    assert_eq!(counts, want);
    // Without a breakout the aggregation is returned as it is.
    let plain = Sqlite.cumulative(Fragment::sql("COUNT(*)"), None, true);
    assert_eq!(plain.render(Dialect::Sqlite).0, "COUNT(*)");
}

#[test]
fn binning_bucket_is_the_lower_bound_of_its_bin() {
    let conn = grouped();
    let f = Sqlite.bin(Fragment::column("t", "x"), 10.0, 10.0);
    let mut q = Fragment::sql("SELECT ");
    q.push(f).push_sql(" FROM \"t\" ORDER BY rowid");
    let got: Vec<SqlValue> = rows(&conn, &q)
        .into_iter()
        .map(|mut r| r.remove(0))
        .collect();
    let want = [
        SqlValue::Real(10.0),
        SqlValue::Real(10.0),
        SqlValue::Real(90.0),
        SqlValue::Real(20.0),
        SqlValue::Null,
        SqlValue::Real(30.0),
    ];
    assert_eq!(got, want);
    // Integer columns do not meet integer division: bins of width 2.5 from 0.
    let f = Sqlite.bin(Fragment::column("t", "b"), 0.0, 2.5);
    let mut q = Fragment::sql("SELECT DISTINCT ");
    q.push(f).push_sql(" FROM \"t\" ORDER BY 1");
    let got: Vec<SqlValue> = rows(&conn, &q)
        .into_iter()
        .map(|mut r| r.remove(0))
        .collect();
    assert_eq!(got, [SqlValue::Real(0.0), SqlValue::Real(2.5)]);
}
