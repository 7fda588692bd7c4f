//! The compiler against the fixture snapshot: known shapes, and property tests feeding random
//! well-formed queries (strategies over the typed clauses) to the compiler and running every
//! statement on SQLite (here) and PostgreSQL (when one answers), which must accept it.
use proptest::prelude::*;

use super::fixture::{self, ORDERS, PEOPLE, PRODUCTS};
use super::{compile, CompileError, Compiled, Metadata, Probe};
use crate::mbql::model::*;
use crate::warehouse::bound::Bound;
use crate::warehouse::sqltext::Dialect;

/// Compiles, answering probes as a warehouse of the fixture would (bounds 0 – 100).
pub(crate) fn compile_answering(q: &Query, meta: &mut Metadata) -> Result<Compiled, CompileError> {
    for _ in 0..16 {
        match compile(q, meta) {
            Err(CompileError::Probe(p)) => {
                let key = p.key(meta.engine);
                match p {
                    Probe::Bounds(_) => {
                        meta.probes.bounds.insert(key, (Some(0.0), Some(100.0)));
                    }
                    Probe::Columns(_) => panic!("the fixture has no native source"),
                }
            }
            other => return other,
        }
    }
    panic!("probes never end")
}

fn field(id: FieldId) -> FieldRef {
    FieldRef::id(id)
}

fn via(id: FieldId, fk: FieldId) -> FieldRef {
    FieldRef {
        source_field: Some(fk),
        ..FieldRef::id(id)
    }
}

fn fref(f: FieldRef) -> Ref {
    Ref::Field(f)
}

fn fexpr(f: FieldRef) -> Expr {
    Expr::Ref(Ref::Field(f))
}

#[test]
fn the_sketch_of_section_3_2() {
    let mut meta = fixture::metadata(Dialect::Sqlite);
    let mut stage = Stage::new(Source::Table(ORDERS));
    stage.aggregations.push(Aggregation {
        kind: AggregationKind::Count(None),
        name: None,
        display_name: None,
    });
    stage.breakouts.push(fref(FieldRef {
        bucket: Some(Bucket::Temporal(TemporalUnit::Truncate(
            IntervalUnit::Month,
        ))),
        ..field(16)
    }));
    stage.filters.push(Filter::Compare {
        op: CompareOp::Gt,
        left: fexpr(field(14)),
        right: Expr::Literal(Literal::Int(50)),
    });
    let q = Query {
        database: 1,
        stages: vec![stage],
    };
    let c = compile_answering(&q, &mut meta).unwrap();
    let (sql, params) = c.render();
    let month = r#"strftime('%Y-%m-%dT%H:%M:%S', "ORDERS"."CREATED_AT", 'start of month')"#;
    assert_eq!(
        sql,
        format!(
            r#"SELECT {month} AS "CREATED_AT", COUNT(*) AS "count" FROM "ORDERS" WHERE "ORDERS"."TOTAL" > ? GROUP BY {month} ORDER BY {month} ASC"#
        )
    );
    assert_eq!(params, [Bound::Int(50)]);
    assert!(c.aggregated);
    assert_eq!(c.cols[0].display_name, "Created At: Month");
    assert_eq!(c.inline(true).lines().count(), 5);
}

#[test]
fn implicit_joins_share_one_join_per_foreign_key() {
    let mut meta = fixture::metadata(Dialect::Postgres);
    let mut stage = Stage::new(Source::Table(ORDERS));
    stage.fields = vec![
        fref(field(10)),
        fref(via(21, 12)),
        fref(via(22, 12)),
        fref(via(32, 11)),
    ];
    let q = Query {
        database: 1,
        stages: vec![stage],
    };
    let c = compile_answering(&q, &mut meta).unwrap();
    let (sql, _) = c.render();
    assert_eq!(sql.matches("LEFT JOIN").count(), 2, "{sql}");
    assert!(sql.contains(r#"LEFT JOIN "public"."PRODUCTS" AS "PRODUCTS__via__PRODUCT_ID" ON "ORDERS"."PRODUCT_ID" = "PRODUCTS__via__PRODUCT_ID"."ID""#), "{sql}");
    let names: Vec<&str> = c.cols.iter().map(|c| c.display_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ID",
            "Product → Title",
            "Product → Category",
            "User → State"
        ]
    );
}

// --- random well-formed queries ---------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Text,
    Date,
    DateTime,
    Bool,
}

/// The references a stage on `table` may use: its own fields and those reached through its
/// foreign keys.
fn pool(table: TableId) -> Vec<(FieldRef, Kind)> {
    let own =
        |ids: &[(FieldId, Kind)]| ids.iter().map(|(i, k)| (field(*i), *k)).collect::<Vec<_>>();
    let products = [
        (21, Kind::Text),
        (22, Kind::Text),
        (23, Kind::Number),
        (24, Kind::DateTime),
    ];
    let people = [
        (31, Kind::Text),
        (32, Kind::Text),
        (33, Kind::Date),
        (34, Kind::Number),
        (35, Kind::Bool),
    ];
    match table {
        ORDERS => {
            let mut p = own(&[
                (10, Kind::Number),
                (13, Kind::Number),
                (14, Kind::Number),
                (15, Kind::Number),
                (16, Kind::DateTime),
            ]);
            p.extend(products.iter().map(|(i, k)| (via(*i, 12), *k)));
            p.extend(people.iter().map(|(i, k)| (via(*i, 11), *k)));
            p
        }
        PRODUCTS => own(&products),
        _ => own(&people),
    }
}

fn of_kind(pool: &[(FieldRef, Kind)], kinds: &[Kind]) -> Vec<FieldRef> {
    pool.iter()
        .filter(|(_, k)| kinds.contains(k))
        .map(|(f, _)| f.clone())
        .collect()
}

fn pick(v: Vec<FieldRef>) -> BoxedStrategy<FieldRef> {
    proptest::sample::select(v).boxed()
}

fn number() -> BoxedStrategy<Expr> {
    prop_oneof![
        (-1000i64..1000).prop_map(|i| Expr::Literal(Literal::Int(i))),
        (-1000.0f64..1000.0).prop_map(|f| Expr::Literal(Literal::Float(f))),
    ]
    .boxed()
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        Just("a".to_string()),
        Just("%_\\".to_string()),
        Just("x' OR '1'='1".to_string()),
        "[a-zA-Z ]{0,6}",
    ]
    .boxed()
}

fn interval_unit() -> BoxedStrategy<IntervalUnit> {
    proptest::sample::select(vec![
        IntervalUnit::Day,
        IntervalUnit::Week,
        IntervalUnit::Month,
        IntervalUnit::Quarter,
        IntervalUnit::Year,
    ])
    .boxed()
}

fn filter(pool: &[(FieldRef, Kind)]) -> BoxedStrategy<Filter> {
    let nums = pick(of_kind(pool, &[Kind::Number]));
    let texts = pick(of_kind(pool, &[Kind::Text]));
    let temporals = pick(of_kind(pool, &[Kind::Date, Kind::DateTime]));
    let all = pick(pool.iter().map(|(f, _)| f.clone()).collect());
    let ops = proptest::sample::select(vec![
        CompareOp::Lt,
        CompareOp::Le,
        CompareOp::Gt,
        CompareOp::Ge,
    ]);
    let leaf = prop_oneof![
        (nums.clone(), ops.clone(), number()).prop_map(|(f, op, v)| Filter::Compare {
            op,
            left: fexpr(f),
            right: v
        }),
        (nums.clone(), number(), number()).prop_map(|(f, a, b)| Filter::Between {
            expr: fexpr(f),
            low: a,
            high: b
        }),
        (texts.clone(), proptest::collection::vec(text(), 1..3)).prop_map(|(f, vs)| {
            Filter::Equal {
                expr: fexpr(f),
                values: vs
                    .into_iter()
                    .map(|s| Expr::Literal(Literal::Text(s)))
                    .collect(),
            }
        }),
        (nums.clone(), number()).prop_map(|(f, v)| Filter::NotEqual {
            expr: fexpr(f),
            values: vec![v]
        }),
        (
            texts.clone(),
            proptest::sample::select(vec![
                TextMatch::Contains,
                TextMatch::DoesNotContain,
                TextMatch::StartsWith,
                TextMatch::EndsWith
            ]),
            text(),
            any::<bool>()
        )
            .prop_map(|(f, op, s, cs)| Filter::Text {
                op,
                expr: fexpr(f),
                patterns: vec![s],
                case_sensitive: cs
            }),
        all.prop_map(|f| Filter::IsNull(fexpr(f))),
        texts.prop_map(|f| Filter::NotEmpty(fexpr(f))),
        (temporals.clone(), -5i64..5, interval_unit(), any::<bool>()).prop_map(
            |(f, n, unit, inc)| Filter::TimeInterval {
                expr: fexpr(f),
                amount: n,
                unit,
                include_current: inc,
            }
        ),
        (
            temporals.clone(),
            ops,
            prop_oneof![Just("2024-03-05"), Just("2023-01-31T10:30:00")]
        )
            .prop_map(|(f, op, s)| Filter::Compare {
                op,
                left: fexpr(f),
                right: Expr::Literal(Literal::Text(s.into()))
            }),
        (temporals, interval_unit()).prop_map(|(f, unit)| Filter::During {
            expr: fexpr(f),
            value: crate::mbql::TemporalLiteral::parse("2024-02-10").unwrap(),
            unit,
        }),
    ];
    leaf.prop_recursive(2, 6, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..3).prop_map(Filter::And),
            proptest::collection::vec(inner.clone(), 1..3).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
    .boxed()
}

fn breakout(pool: &[(FieldRef, Kind)]) -> BoxedStrategy<Ref> {
    let units = proptest::sample::select(vec![
        TemporalUnit::Truncate(IntervalUnit::Day),
        TemporalUnit::Truncate(IntervalUnit::Week),
        TemporalUnit::Truncate(IntervalUnit::Month),
        TemporalUnit::Truncate(IntervalUnit::Quarter),
        TemporalUnit::Truncate(IntervalUnit::Year),
        TemporalUnit::Extract(crate::mbql::Extraction::DayOfWeek),
        TemporalUnit::Extract(crate::mbql::Extraction::MonthOfYear),
        TemporalUnit::Default,
    ]);
    let bins = prop_oneof![
        (1u32..20).prop_map(Binning::NumBins),
        (1.0f64..50.0).prop_map(Binning::BinWidth),
        Just(Binning::Default),
    ];
    prop_oneof![
        pick(of_kind(pool, &[Kind::Text, Kind::Bool])).prop_map(fref),
        (pick(of_kind(pool, &[Kind::Date, Kind::DateTime])), units).prop_map(|(f, u)| fref(
            FieldRef {
                bucket: Some(Bucket::Temporal(u)),
                ..f
            }
        )),
        (pick(of_kind(pool, &[Kind::Number])), bins).prop_map(|(f, b)| fref(FieldRef {
            bucket: Some(Bucket::Binning(b)),
            ..f
        })),
    ]
    .boxed()
}

fn aggregation(
    pool: &[(FieldRef, Kind)],
    filters: BoxedStrategy<Filter>,
) -> BoxedStrategy<Aggregation> {
    let nums = pick(of_kind(pool, &[Kind::Number]));
    let all = pick(pool.iter().map(|(f, _)| f.clone()).collect());
    prop_oneof![
        Just(AggregationKind::Count(None)),
        Just(AggregationKind::CumCount(None)),
        all.clone()
            .prop_map(|f| AggregationKind::Distinct(fexpr(f))),
        all.prop_map(|f| AggregationKind::Count(Some(fexpr(f)))),
        nums.clone().prop_map(|f| AggregationKind::Sum(fexpr(f))),
        nums.clone().prop_map(|f| AggregationKind::Avg(fexpr(f))),
        nums.clone().prop_map(|f| AggregationKind::Max(fexpr(f))),
        nums.clone().prop_map(|f| AggregationKind::CumSum(fexpr(f))),
        filters.clone().prop_map(AggregationKind::CountWhere),
        (nums, filters.clone()).prop_map(|(f, p)| AggregationKind::SumWhere {
            expr: fexpr(f),
            predicate: p
        }),
        filters.prop_map(AggregationKind::Share),
    ]
    .prop_map(|kind| Aggregation {
        kind,
        name: None,
        display_name: None,
    })
    .boxed()
}

fn expression(pool: &[(FieldRef, Kind)]) -> BoxedStrategy<Expr> {
    let nums = pick(of_kind(pool, &[Kind::Number]));
    let texts = pick(of_kind(pool, &[Kind::Text]));
    let temporals = pick(of_kind(pool, &[Kind::Date, Kind::DateTime]));
    let ops = proptest::sample::select(vec![
        ArithOp::Add,
        ArithOp::Subtract,
        ArithOp::Multiply,
        ArithOp::Divide,
    ]);
    prop_oneof![
        (ops, nums.clone(), number()).prop_map(|(op, f, n)| Expr::Arithmetic {
            op,
            args: vec![fexpr(f), n]
        }),
        nums.clone().prop_map(|f| Expr::Math {
            func: MathFn::Round,
            arg: Box::new(fexpr(f))
        }),
        nums.prop_map(|f| Expr::Coalesce(vec![fexpr(f), Expr::Literal(Literal::Int(0))])),
        (texts.clone(), text())
            .prop_map(|(f, s)| Expr::Concat(vec![fexpr(f), Expr::Literal(Literal::Text(s))])),
        texts.prop_map(|f| Expr::Text {
            func: TextFn::Upper,
            arg: Box::new(fexpr(f))
        }),
        (temporals, -3i64..3, interval_unit()).prop_map(|(f, n, unit)| Expr::DateTimeAdd {
            expr: Box::new(fexpr(f)),
            amount: n,
            unit,
        }),
    ]
    .boxed()
}

/// One stage on a random table: filters, then either fields or aggregations and breakouts.
fn stage() -> impl Strategy<Value = Stage> {
    proptest::sample::select(vec![ORDERS, PRODUCTS, PEOPLE]).prop_flat_map(|table| {
        let p = pool(table);
        let filters = filter(&p);
        (
            proptest::collection::vec(filters.clone(), 0..3),
            proptest::collection::vec(aggregation(&p, filters), 0..3),
            proptest::collection::vec(breakout(&p), 0..3),
            proptest::option::of(expression(&p)),
            proptest::option::of(0u64..50),
            any::<bool>(),
        )
            .prop_map(
                move |(filters, aggregations, breakouts, expr, limit, desc)| {
                    let mut s = Stage::new(Source::Table(table));
                    s.filters = filters;
                    s.aggregations = aggregations;
                    s.breakouts = breakouts;
                    if let Some(e) = expr {
                        s.expressions.push(NamedExpression {
                            name: "E x\"".into(),
                            expr: e,
                        });
                    }
                    if !s.aggregations.is_empty() {
                        s.order_by.push(OrderBy {
                            direction: if desc {
                                Direction::Desc
                            } else {
                                Direction::Asc
                            },
                            target: OrderTarget::Aggregation(0),
                        });
                    }
                    s.limit = limit;
                    s
                },
            )
    })
}

fn query() -> impl Strategy<Value = Query> {
    (stage(), any::<bool>()).prop_map(|(s, nest)| {
        let mut stages = vec![s];
        if nest {
            let mut outer = Stage::new(Source::PreviousStage);
            outer.limit = Some(5);
            stages.push(outer);
        }
        Query {
            database: 1,
            stages,
        }
    })
}

fn sqlite_fixture() -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(&fixture::ddl(Dialect::Sqlite)).unwrap();
    conn.execute_batch(
        "INSERT INTO \"PEOPLE\" VALUES (1, 'Ann', 'CA', '1990-04-01', 37.5, 1);
         INSERT INTO \"PRODUCTS\" VALUES (1, 'Widget', 'Gizmo', 12.5, '2024-01-02T03:04:05');
         INSERT INTO \"ORDERS\" VALUES (1, 1, 1, 2, 25.0, NULL, '2024-03-05 10:00:00');",
    )
    .unwrap();
    conn
}

fn run_sqlite(conn: &rusqlite::Connection, c: &Compiled) -> Result<usize, String> {
    let (sql, params) = c.render();
    let mut stmt = conn.prepare(&sql).map_err(|e| format!("{e}: {sql}"))?;
    for (i, p) in params.iter().enumerate() {
        let r = match p {
            Bound::Text(s) => stmt.raw_bind_parameter(i + 1, s.as_str()),
            Bound::Int(v) => stmt.raw_bind_parameter(i + 1, *v),
            Bound::Float(v) => stmt.raw_bind_parameter(i + 1, *v),
            Bound::Bool(v) => stmt.raw_bind_parameter(i + 1, *v),
        };
        r.map_err(|e| format!("{e}: {sql}"))?;
    }
    let mut rows = stmt.raw_query();
    let mut n = 0;
    while rows.next().map_err(|e| format!("{e}: {sql}"))?.is_some() {
        n += 1;
    }
    Ok(n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Every generated query compiles on both engines, and SQLite runs it.
    #[test]
    fn random_queries_compile_and_run_on_sqlite(q in query()) {
        let conn = sqlite_fixture();
        let mut lite = fixture::metadata(Dialect::Sqlite);
        let c = compile_answering(&q, &mut lite).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        run_sqlite(&conn, &c).map_err(TestCaseError::fail)?;
        let mut pg = fixture::metadata(Dialect::Postgres);
        let c = compile_answering(&q, &mut pg).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let (sql, params) = c.render();
        // Placeholders are numbered densely and every value is used.
        for i in 1..=params.len() {
            prop_assert!(sql.contains(&format!("${i}")), "{sql}");
        }
    }
}

/// The same queries on PostgreSQL, which must accept every statement (no syntax or type
/// error). Skipped loudly without a PostgreSQL server, unless `TEST_POSTGRES_URL` is set.
#[test]
fn random_queries_run_on_postgres() {
    let url = std::env::var("TEST_POSTGRES_URL").ok();
    let required = url.is_some();
    let url = url.unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        use sqlx::Connection;
        let admin = match sqlx::PgConnection::connect(&url).await {
            Ok(c) => c,
            Err(e) if !required => {
                eprintln!("*** SKIPPED: random_queries_run_on_postgres: no PostgreSQL ({e}) ***");
                return;
            }
            Err(e) => panic!("TEST_POSTGRES_URL is set but unreachable: {e}"),
        };
        let name = format!("ferrobase_mbqlprop_{}", std::process::id());
        let mut admin = admin;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let db_url = match url.rfind('/') {
            Some(i) => format!("{}/{name}", &url[..i]),
            None => unreachable!(),
        };
        let result = run_generated_on_postgres(&db_url).await;
        let _ = sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
        if let Err(e) = result {
            panic!("{e}");
        }
    });
}

async fn run_generated_on_postgres(url: &str) -> Result<(), String> {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::raw_sql(&fixture::ddl(Dialect::Postgres))
        .execute(&mut c)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::raw_sql(
        "INSERT INTO \"PEOPLE\" VALUES (1, 'Ann', 'CA', '1990-04-01', 37.5, true);
        INSERT INTO \"PRODUCTS\" VALUES (1, 'Widget', 'Gizmo', 12.5, '2024-01-02T03:04:05');
        INSERT INTO \"ORDERS\" VALUES (1, 1, 1, 2, 25.0, NULL, '2024-03-05 10:00:00');",
    )
    .execute(&mut c)
    .await
    .map_err(|e| e.to_string())?;
    let mut runner = TestRunner::deterministic();
    for _ in 0..300 {
        let q = query()
            .new_tree(&mut runner)
            .map_err(|e| e.to_string())?
            .current();
        let mut meta = fixture::metadata(Dialect::Postgres);
        let compiled = compile_answering(&q, &mut meta).map_err(|e| format!("{e:?}: {q:?}"))?;
        let (sql, params) = compiled.render();
        let mut query = sqlx::query(&sql);
        for p in params {
            query = match p {
                Bound::Text(s) => query.bind(s),
                Bound::Int(i) => query.bind(i),
                Bound::Float(f) => query.bind(f),
                Bound::Bool(b) => query.bind(b),
            };
        }
        query
            .fetch_all(&mut c)
            .await
            .map_err(|e| format!("{e}\n{sql}"))?;
    }
    Ok(())
}
