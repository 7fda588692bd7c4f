//! MBQL compile cost (mbql.md, issue #14 item 9), in-process: parse a query object and compile it
//! to SQL for SQLite and PostgreSQL, against a snapshot shaped like the Sample Database. The
//! query has two joins (one explicit, one implicit through a foreign key), a filter, a
//! breakout with a temporal unit and two aggregations. Target: under 50 µs.
//!
//! Run: `cargo bench --bench mbql_compile` (add `-- --quick` for a shorter run).
use criterion::{criterion_group, criterion_main, Criterion};
use ferrobase::mbql::compile::{compile, fixture};
use ferrobase::warehouse::sqltext::Dialect;
use serde_json::json;

fn bench(c: &mut Criterion) {
    let query = json!({"database": 1, "type": "query", "query": {
        "source-table": fixture::ORDERS,
        "joins": [{"source-table": fixture::PRODUCTS, "alias": "Products", "strategy": "left-join",
                   "condition": ["=", ["field", 12, null], ["field", 20, {"join-alias": "Products"}]]}],
        "filter": ["and", [">", ["field", 14, null], 50],
                          ["=", ["field", 22, {"join-alias": "Products"}], "Widget", "Gadget"]],
        "aggregation": [["count"], ["sum", ["field", 14, null]]],
        "breakout": [["field", 16, {"temporal-unit": "month"}],
                     ["field", 32, {"source-field": 11}]],
        "order-by": [["desc", ["aggregation", 1]]],
        "limit": 100}});
    let object = query.as_object().unwrap().clone();
    for engine in [Dialect::Sqlite, Dialect::Postgres] {
        let meta = fixture::metadata(engine);
        c.bench_function(&format!("parse + compile + render, {engine:?}"), |b| {
            b.iter(|| {
                let q = ferrobase::mbql::parse(&object).expect("parses");
                let compiled = compile(&q, &meta).expect("compiles");
                std::hint::black_box(compiled.render())
            })
        });
    }
    let meta = fixture::metadata(Dialect::Sqlite);
    let q = ferrobase::mbql::parse(&object).expect("parses");
    c.bench_function("compile only, Sqlite", |b| {
        b.iter(|| std::hint::black_box(compile(&q, &meta).expect("compiles")))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
