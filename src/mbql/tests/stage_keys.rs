//! Aggregations, references with their options, and the keys every stage has (§2.5, §1.4,
//! §2.6, §2.8).
use serde_json::json;

use super::*;

#[test]
fn every_aggregation() {
    let x = || json!(["field", 5, null]);
    let pred = || json!([">", ["field", 5, null], 100]);
    let gt = || Filter::Compare {
        op: CompareOp::Gt,
        left: fx(5),
        right: lit_i(100),
    };
    let cases = [
        (json!(["count"]), AggregationKind::Count(None)),
        (json!(["count", x()]), AggregationKind::Count(Some(fx(5)))),
        (json!(["cum-count"]), AggregationKind::CumCount(None)),
        (
            json!(["cum-count", x()]),
            AggregationKind::CumCount(Some(fx(5))),
        ),
        (json!(["distinct", x()]), AggregationKind::Distinct(fx(5))),
        (json!(["sum", x()]), AggregationKind::Sum(fx(5))),
        (json!(["avg", x()]), AggregationKind::Avg(fx(5))),
        (json!(["min", x()]), AggregationKind::Min(fx(5))),
        (json!(["max", x()]), AggregationKind::Max(fx(5))),
        (json!(["cum-sum", x()]), AggregationKind::CumSum(fx(5))),
        (json!(["stddev", x()]), AggregationKind::StdDev(fx(5))),
        (json!(["var", x()]), AggregationKind::Var(fx(5))),
        (json!(["median", x()]), AggregationKind::Median(fx(5))),
        (
            json!(["percentile", x(), 0.9]),
            AggregationKind::Percentile {
                expr: fx(5),
                p: 0.9,
            },
        ),
        (
            json!(["count-where", pred()]),
            AggregationKind::CountWhere(gt()),
        ),
        (json!(["share", pred()]), AggregationKind::Share(gt())),
        (
            json!(["sum-where", x(), pred()]),
            AggregationKind::SumWhere {
                expr: fx(5),
                predicate: gt(),
            },
        ),
        (
            json!(["sum", ["*", x(), 2]]),
            AggregationKind::Sum(Expr::Arithmetic {
                op: ArithOp::Multiply,
                args: vec![fx(5), lit_i(2)],
            }),
        ),
        (
            json!(["metric", 1]),
            AggregationKind::Unsupported(unsupported("Aggregation \"metric\"")),
        ),
        (
            json!(["+", ["sum", x()], 1]),
            AggregationKind::Unsupported(unsupported("Aggregation \"+\"")),
        ),
    ];
    for (json, kind) in cases {
        let a = one_aggregation(json.clone());
        assert_eq!(a.kind, kind, "{json}");
        assert_eq!((a.name, a.display_name), (None, None));
    }
}

#[test]
fn named_aggregations() {
    let a = one_aggregation(json!(["aggregation-options", ["sum", ["field", 5, null]],
                                   {"name": "revenue", "display-name": "Revenue"}]));
    assert_eq!(a.kind, AggregationKind::Sum(fx(5)));
    assert_eq!(a.name.as_deref(), Some("revenue"));
    assert_eq!(a.display_name.as_deref(), Some("Revenue"));
    let a = one_aggregation(json!(["aggregation-options", ["count"], {"display_name": "N"}]));
    assert_eq!((a.name, a.display_name.as_deref()), (None, Some("N")));
}

#[test]
fn field_references_and_their_options() {
    let s = stage(json!({"source-table": 1, "fields": [
        ["field", 1, {"base-type": "type/Integer", "join-alias": "Products",
                      "source-field": 2, "source-field-join-alias": "J", "unknown-option": 1}],
        ["field", "TOTAL", {"base-type": "type/Float", "effective-type": "type/Decimal"}],
        ["expression", "Net", {"temporal-unit": "month"}],
        ["expression", "Plain"]
    ]}));
    assert_eq!(
        s.fields,
        vec![
            Ref::Field(FieldRef {
                target: FieldTarget::Id(1),
                bucket: None,
                join_alias: Some("Products".into()),
                source_field: Some(2),
                source_field_join_alias: Some("J".into()),
            }),
            Ref::Field(FieldRef {
                target: FieldTarget::Name {
                    name: "TOTAL".into(),
                    base_type: "type/Float".into(),
                    effective_type: Some("type/Decimal".into()),
                },
                ..field(1)
            }),
            Ref::Expression(ExpressionRef {
                name: "Net".into(),
                bucket: Some(Bucket::Temporal(TemporalUnit::Truncate(
                    IntervalUnit::Month
                ))),
            }),
            Ref::Expression(ExpressionRef {
                name: "Plain".into(),
                bucket: None,
            }),
        ]
    );
}

#[test]
fn temporal_units_and_binning() {
    let bucket = |options: Value| {
        let s = stage(json!({"source-table": 1, "breakout": [["field", 1, options]]}));
        match &s.breakouts[0] {
            Ref::Field(f) => f.bucket.clone(),
            other => panic!("{other:?}"),
        }
    };
    let units = IntervalUnit::ALL
        .iter()
        .map(|u| TemporalUnit::Truncate(*u))
        .chain(Extraction::ALL.iter().map(|u| TemporalUnit::Extract(*u)))
        .chain([TemporalUnit::Default]);
    for unit in units {
        assert_eq!(
            bucket(json!({"temporal-unit": unit.as_str().to_uppercase().replace('-', "_")})),
            Some(Bucket::Temporal(unit))
        );
    }
    let cases = [
        (
            json!({"strategy": "num-bins", "num-bins": 10}),
            Binning::NumBins(10),
        ),
        (
            json!({"strategy": "NUM_BINS", "num_bins": 1000}),
            Binning::NumBins(1000),
        ),
        (
            json!({"strategy": "bin-width", "bin-width": 25}),
            Binning::BinWidth(25.0),
        ),
        (json!({"strategy": "default", "extra": 1}), Binning::Default),
    ];
    for (binning, expected) in cases {
        assert_eq!(
            bucket(json!({ "binning": binning })),
            Some(Bucket::Binning(expected))
        );
    }
    assert_eq!(bucket(json!(null)), None);
}

#[test]
fn order_by_limit_and_page() {
    let s = stage(json!({"source-table": 1,
        "aggregation": [["count"]],
        "breakout": [["field", 2, null]],
        "order-by": [["desc", ["aggregation", 0]], ["asc", ["field", 2, null]],
                     ["asc", ["expression", "E"]]],
        "limit": 0,
        "page": {"page": 3, "items": 10}}));
    assert_eq!(
        s.order_by,
        vec![
            OrderBy {
                direction: Direction::Desc,
                target: OrderTarget::Aggregation(0)
            },
            OrderBy {
                direction: Direction::Asc,
                target: OrderTarget::Ref(Ref::Field(field(2)))
            },
            OrderBy {
                direction: Direction::Asc,
                target: OrderTarget::Ref(Ref::Expression(ExpressionRef {
                    name: "E".into(),
                    bucket: None
                }))
            },
        ]
    );
    assert_eq!(s.limit, Some(0));
    assert_eq!(s.page, Some(Page { page: 3, items: 10 }));
    assert_eq!(s.page.unwrap().offset(), 20);
    assert!(s.is_aggregated());
}

#[test]
fn single_clauses_null_keys_and_unknown_keys() {
    let s = stage(
        json!({"source-table": 1, "aggregation": ["count"], "breakout": ["field", 2, null],
                         "filter": null, "limit": null, "fields": [], "source-metadata": [{}],
                         "something-new": {"x": 1}}),
    );
    assert_eq!(s.aggregations.len(), 1);
    assert_eq!(s.breakouts, vec![Ref::Field(field(2))]);
    assert!(s.filters.is_empty() && s.fields.is_empty());
    assert_eq!(s.limit, None);
}

#[test]
fn scenario_5_keys_and_clause_names_in_any_case() {
    assert_eq!(
        ok(legacy(
            json!({"Source_Table": 1, "AGGREGATION": [["COUNT"]],
                         "ORDER_BY": [["DESC", ["Aggregation", 0]]]})
        )),
        ok(legacy(
            json!({"source-table": 1, "aggregation": [["count"]],
                         "order-by": [["desc", ["aggregation", 0]]]})
        )),
    );
    // User-chosen names keep their spelling.
    let s = stage(
        json!({"source-table": 1, "expressions": {"Net_Total": ["+", 1, 2]},
                         "fields": [["expression", "Net_Total"]],
                         "joins": [{"source-table": 2, "alias": "My_Join",
                                    "condition": ["=", ["field", 1, null], ["field", 2, {"join-alias": "My_Join"}]]}]}),
    );
    assert_eq!(s.expressions[0].name, "Net_Total");
    assert_eq!(s.joins[0].alias.as_deref(), Some("My_Join"));
}
