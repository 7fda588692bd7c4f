//! Property tests: any identifier round-trips through SQLite's quoting, and the SQL text of
//! every builder that takes a value is the same whatever the value (values are parameters,
//! never text).
use jiff::civil::Date;
use proptest::prelude::*;

use super::*;
use crate::mbql::{IntervalUnit, Literal, TemporalLiteral, TextMatch};

/// The builders that take a query value, on one dialect: the SQL they produce for `v`.
fn with_text(d: &dyn SqlDialect, v: &str) -> Vec<Fragment> {
    let x = || Fragment::column("t", "s");
    let lit = || d.literal(&Literal::Text(v.to_string()));
    let mut out = vec![
        lit(),
        d.equal(x(), vec![lit()]),
        d.equal(x(), vec![lit(), lit()]),
        d.not_equal(x(), vec![lit()]),
        d.not_equal(x(), vec![lit(), lit()]),
        d.concat(vec![x(), lit()]),
        d.replace(x(), lit(), lit()),
        d.case(vec![(d.equal(x(), vec![lit()]), lit())], Some(lit())),
    ];
    for op in [
        TextMatch::Contains,
        TextMatch::DoesNotContain,
        TextMatch::StartsWith,
        TextMatch::EndsWith,
    ] {
        for cs in [true, false] {
            out.push(d.text_filter(op, x(), &[v.to_string(), format!("{v}x")], cs));
        }
    }
    out
}

fn with_numbers(d: &dyn SqlDialect, i: i64, f: f64) -> Vec<Fragment> {
    let x = || Fragment::column("t", "n");
    let mut out = vec![
        d.literal(&Literal::Int(i)),
        d.literal(&Literal::Float(f)),
        d.between(
            x(),
            d.literal(&Literal::Int(i)),
            d.literal(&Literal::Float(f)),
        ),
        d.divide(x(), d.literal(&Literal::Int(i))),
        d.bin(x(), f, f),
        d.substring(
            x(),
            d.literal(&Literal::Int(i)),
            Some(d.literal(&Literal::Int(i))),
        ),
    ];
    for unit in [
        IntervalUnit::Minute,
        IntervalUnit::Week,
        IntervalUnit::Quarter,
    ] {
        out.push(
            d.datetime_add(Fragment::column("t", "dt"), TemporalKind::DateTime, i, unit)
                .unwrap(),
        );
    }
    out
}

fn with_temporal(d: &dyn SqlDialect, v: &TemporalLiteral) -> Vec<Fragment> {
    let mut out = Vec::new();
    for kind in [
        TemporalKind::Date,
        TemporalKind::DateTime,
        TemporalKind::DateTimeTz,
    ] {
        let (x, v) = d
            .temporal_operands(Fragment::column("t", "dt"), kind, v)
            .unwrap();
        out.push(d.half_open(x, v.clone(), v));
    }
    out
}

fn texts(fs: &[Fragment], d: &dyn SqlDialect) -> Vec<String> {
    fs.iter().map(|f| f.render(d.engine()).0).collect()
}

fn literal_of(date: Date, secs: i32, offset: Option<i32>) -> TemporalLiteral {
    let dt = date.to_datetime(jiff::civil::Time::midnight())
        + jiff::Span::new().seconds(i64::from(secs));
    match offset {
        None if secs == 0 => TemporalLiteral::Date(date),
        None => TemporalLiteral::DateTime(dt),
        Some(o) => TemporalLiteral::Offset {
            datetime: dt,
            offset: jiff::tz::Offset::from_seconds(o * 60).unwrap(),
        },
    }
}

fn date_strategy() -> impl Strategy<Value = Date> {
    (1900i16..2100, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).unwrap())
}

fn dialects() -> [&'static dyn SqlDialect; 2] {
    [&Sqlite, &Postgres]
}

proptest! {
    #[test]
    fn any_identifier_round_trips_through_quoting(name in "[^\u{0}]{1,40}") {
        let conn = sqlite("");
        let mut f = Fragment::sql("SELECT 1 AS ");
        f.push_ident(&name);
        let (sql, _) = f.render(Dialect::Sqlite);
        let stmt = conn.prepare(&sql).unwrap();
        prop_assert_eq!(stmt.column_name(0).unwrap(), name.as_str());
    }

    #[test]
    fn text_values_never_reach_the_sql_text(a in ".{0,12}", b in ".{0,12}") {
        for d in dialects() {
            let (fa, fb) = (with_text(d, &a), with_text(d, &b));
            prop_assert_eq!(texts(&fa, d), texts(&fb, d));
            for f in &fa {
                let in_params = f.params().any(|p| match p {
                    Bound::Text(s) => s.contains(&a) || s.contains(&like_escape(&a)),
                    _ => false,
                });
                prop_assert!(in_params, "{:?}", f);
            }
        }
    }

    #[test]
    fn numbers_never_reach_the_sql_text(
        i in any::<i64>(), j in any::<i64>(), f in -1e12f64..1e12, g in -1e12f64..1e12,
    ) {
        for d in dialects() {
            prop_assert_eq!(texts(&with_numbers(d, i, f), d), texts(&with_numbers(d, j, g), d));
        }
    }

    #[test]
    fn temporal_literals_never_reach_the_sql_text(
        d1 in date_strategy(), s1 in 0i32..86_400, o1 in proptest::option::of(-720i32..720),
        d2 in date_strategy(), s2 in 0i32..86_400, o2 in proptest::option::of(-720i32..720),
    ) {
        let (a, b) = (literal_of(d1, s1, o1), literal_of(d2, s2, o2));
        for d in dialects() {
            let (fa, fb) = (with_temporal(d, &a), with_temporal(d, &b));
            // The casts depend on the literal's kind (date, datetime, instant), not its value.
            if std::mem::discriminant(&a) == std::mem::discriminant(&b) {
                prop_assert_eq!(texts(&fa, d), texts(&fb, d));
            }
            for f in &fa {
                prop_assert!(f.params().count() == 2);
                let sql = f.render(d.engine()).0;
                prop_assert!(!sql.contains(&d1.year().to_string()), "{}", sql);
            }
        }
    }

    #[test]
    fn like_patterns_escape_exactly_the_wildcards(s in ".{0,20}") {
        let e = like_escape(&s);
        let mut unescaped = String::new();
        let mut chars = e.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                let next = chars.next();
                prop_assert!(matches!(next, Some('%' | '_' | '\\')));
                unescaped.extend(next);
            } else {
                prop_assert!(c != '%' && c != '_');
                unescaped.push(c);
            }
        }
        prop_assert_eq!(unescaped, s);
    }
}
