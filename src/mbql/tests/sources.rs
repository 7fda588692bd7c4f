//! Sources, stages and joins (§1.2, §1.3, §1.6, §2.9, §2.11), and the metadata-free checks.
use serde_json::json;

use super::*;

#[test]
fn the_legacy_example_of_the_spec() {
    let q = ok(json!({"database": 1, "type": "query",
     "query": {"source-table": 12,
               "joins": [{"source-table": 10, "alias": "Products", "strategy": "left-join", "fields": "all",
                          "condition": ["=", ["field", 40, null], ["field", 7, {"join-alias": "Products"}]]}],
               "expressions": {"Net": ["-", ["field", 45, null], ["field", 44, null]]},
               "filter": ["and", ["=", ["field", 9, {"join-alias": "Products"}], "Widget"],
                                 [">", ["field", 45, null], 50]],
               "aggregation": [["count"], ["sum", ["expression", "Net"]]],
               "breakout": [["field", 41, {"temporal-unit": "month"}]],
               "order-by": [["desc", ["aggregation", 0]]],
               "limit": 10},
     "parameters": [], "constraints": {"max-results": 100}}));
    let products = |id| FieldRef {
        join_alias: Some("Products".into()),
        ..field(id)
    };
    let net = ExpressionRef {
        name: "Net".into(),
        bucket: None,
    };
    let expected = Stage {
        source: Source::Table(12),
        joins: vec![Join {
            alias: Some("Products".into()),
            strategy: JoinStrategy::LeftJoin,
            source: JoinSource::Table(10),
            conditions: vec![Filter::Equal {
                expr: fx(40),
                values: vec![Expr::Ref(Ref::Field(products(7)))],
            }],
            fields: JoinFields::All,
        }],
        expressions: vec![NamedExpression {
            name: "Net".into(),
            expr: Expr::Arithmetic {
                op: ArithOp::Subtract,
                args: vec![fx(45), fx(44)],
            },
        }],
        filters: vec![
            Filter::Equal {
                expr: Expr::Ref(Ref::Field(products(9))),
                values: vec![lit_s("Widget")],
            },
            Filter::Compare {
                op: CompareOp::Gt,
                left: fx(45),
                right: lit_i(50),
            },
        ],
        fields: vec![],
        aggregations: vec![
            Aggregation {
                kind: AggregationKind::Count(None),
                name: None,
                display_name: None,
            },
            Aggregation {
                kind: AggregationKind::Sum(Expr::Ref(Ref::Expression(net))),
                name: None,
                display_name: None,
            },
        ],
        breakouts: vec![Ref::Field(FieldRef {
            bucket: Some(Bucket::Temporal(TemporalUnit::Truncate(
                IntervalUnit::Month,
            ))),
            ..field(41)
        })],
        order_by: vec![OrderBy {
            direction: Direction::Desc,
            target: OrderTarget::Aggregation(0),
        }],
        limit: Some(10),
        page: None,
    };
    assert_eq!(
        q,
        Query {
            database: 1,
            stages: vec![expected]
        }
    );
    assert_eq!(check(&q), Ok(()));
}

#[test]
fn cards_native_sources_and_nesting_become_stages() {
    assert_eq!(
        stage(json!({"source-table": "card__7"})).source,
        Source::Card(7)
    );
    let q = ok(legacy(json!({"source-query": {"source-query": {
        "native": "SELECT * FROM T WHERE x = {{x}}",
        "template-tags": {"x": {"type": "number", "Display_Name": "X"}}},
        "aggregation": [["count"]], "breakout": [["field", "A", {"base-type": "type/Text"}]]},
        "filter": [">", ["field", "count", {"base-type": "type/BigInteger"}], 30]})));
    assert_eq!(q.stages.len(), 2);
    let Source::Native(native) = &q.stages[0].source else {
        panic!("{:?}", q.stages[0].source)
    };
    assert_eq!(native.sql, "SELECT * FROM T WHERE x = {{x}}");
    assert_eq!(
        Value::Object(native.template_tags.clone()),
        json!({"x": {"type": "number", "Display_Name": "X"}})
    );
    assert_eq!(q.stages[0].aggregations.len(), 1);
    assert_eq!(q.stages[1].source, Source::PreviousStage);
    assert_eq!(q.stages[1].filters.len(), 1);
}

#[test]
fn mbql5_sources_and_stages() {
    let q = ok(v5(json!([
        {"lib/type": "mbql.stage/native", "native": "SELECT 1 AS A"},
        {"lib/type": "mbql.stage/mbql", "aggregation": [["count", {}]]},
        {"lib/type": "mbql.stage/mbql", "limit": 1}
    ])));
    assert!(matches!(q.stages[0].source, Source::Native(_)));
    assert_eq!(q.stages[1].source, Source::PreviousStage);
    assert_eq!(q.stages[1].limit, Some(1));
    let q = ok(q5(json!({"source-card": 3})));
    assert_eq!(q.stages[0].source, Source::Card(3));
}

#[test]
fn joins_in_both_forms() {
    let cond = || json!(["=", ["field", 1, null], ["field", 2, {"join-alias": "P"}]]);
    let s = stage(json!({"source-table": 1, "joins": [
        {"source-table": "card__4", "alias": "P", "condition": cond(), "strategy": "INNER_JOIN",
         "fields": [["field", 2, {"join-alias": "P"}]]},
        {"source-query": {"source-table": 5}, "condition": cond(), "fields": []},
        {"source-query": {"source-table": 5, "filter": ["=", 1, 1]}, "condition": cond()}
    ]}));
    assert_eq!(s.joins[0].source, JoinSource::Card(4));
    assert_eq!(s.joins[0].strategy, JoinStrategy::InnerJoin);
    assert!(matches!(&s.joins[0].fields, JoinFields::List(l) if l.len() == 1));
    assert_eq!(s.joins[1].source, JoinSource::Table(5));
    assert_eq!(s.joins[1].alias, None);
    assert_eq!(s.joins[1].strategy, JoinStrategy::LeftJoin);
    assert_eq!(s.joins[1].fields, JoinFields::None);
    assert_eq!(
        s.joins[2].source,
        JoinSource::Unsupported(unsupported("Join \"source-query\" with more than a source"))
    );
    let join5 = |stages: Value| {
        let q = ok(q5(
            json!({"source-table": 1, "joins": [{"lib/type": "mbql/join", "alias": "C",
            "conditions": [["=", {}, ["field", {}, 1], ["field", {"join-alias": "C"}, 2]]],
            "fields": "ALL", "stages": stages}]}),
        ));
        q.stages[0].joins[0].clone()
    };
    let j = join5(json!([{"lib/type": "mbql.stage/mbql", "source-table": 8}]));
    assert_eq!(
        (j.source, j.fields),
        (JoinSource::Table(8), JoinFields::All)
    );
    let j = join5(json!([{"lib/type": "mbql.stage/mbql", "source-card": 9, "filters": []}]));
    assert_eq!(j.source, JoinSource::Card(9));
    for more in [
        json!([{"lib/type": "mbql.stage/mbql", "source-table": 8, "limit": 1}]),
        json!([{"lib/type": "mbql.stage/mbql", "source-table": 8}, {"lib/type": "mbql.stage/mbql"}]),
        json!([{"lib/type": "mbql.stage/native", "native": "SELECT 1"}]),
    ] {
        assert_eq!(
            join5(more).source,
            JoinSource::Unsupported(unsupported("Join \"stages\" with more than a source"))
        );
    }
}

#[test]
fn is_mbql_query_follows_section_1_1() {
    let yes = [
        legacy(json!({"source-table": 1})),
        q5(json!({"source-table": 1})),
        v5(
            json!([{"lib/type": "mbql.stage/native", "native": "x"}, {"lib/type": "mbql.stage/mbql"}]),
        ),
    ];
    for q in yes {
        assert!(is_mbql_query(q.as_object().unwrap()), "{q}");
    }
    let no = [
        json!({"database": 1, "type": "native", "native": {"query": "SELECT 1"}}),
        v5(json!([{"lib/type": "mbql.stage/native", "native": "x"}])),
        json!({"database": 1}),
    ];
    for q in no {
        assert!(!is_mbql_query(q.as_object().unwrap()), "{q}");
    }
}

#[test]
fn reference_checks_give_the_section_5_messages() {
    let cases = [
        (
            json!({"source-table": 1, "fields": [["expression", "Nope"]]}),
            "Expression \"Nope\" is not defined.",
        ),
        (
            json!({"source-table": 1, "expressions": {"B": ["+", ["expression", "A"], 1], "A": 1}}),
            "Expression \"A\" is not defined.",
        ),
        (
            json!({"source-table": 1, "aggregation": [["count"]], "order-by": [["asc", ["aggregation", 3]]]}),
            "No aggregation at index 3.",
        ),
        (
            json!({"source-table": 1, "fields": [["field", 1, {"join-alias": "X"}]]}),
            "No join named \"X\" in this query.",
        ),
        (
            json!({"source-table": 1, "joins": [
                {"source-table": 2, "alias": "P", "condition": ["=", ["field", 1, null], ["field", 2, {"join-alias": "P"}]]},
                {"source-table": 3, "alias": "P", "condition": ["=", ["field", 1, null], ["field", 3, {"join-alias": "P"}]]}]}),
            "Join alias \"P\" is used twice.",
        ),
    ];
    for (inner, message) in cases {
        assert_eq!(check_err(inner.clone()), message, "{inner}");
    }
    // MBQL 5 expression names may repeat in the array; uuids may name nothing.
    let twice = q5(json!({"source-table": 1, "expressions": [
        ["+", {"lib/expression-name": "E"}, 1, 2], ["+", {"lib/expression-name": "E"}, 1, 3]]}));
    assert_eq!(
        check(&ok(twice)).unwrap_err().to_string(),
        "Expression \"E\" is defined twice."
    );
    let uuid = q5(
        json!({"source-table": 1, "aggregation": [["count", {"lib/uuid": "c0"}]],
                         "order-by": [["asc", {}, ["aggregation", {}, "zz"]]]}),
    );
    assert_eq!(
        check(&ok(uuid)).unwrap_err().to_string(),
        "No aggregation with uuid zz."
    );
    // A join without an alias: its name is the resolver's, so alias references wait for it.
    let unnamed = ok(legacy(json!({"source-table": 1, "joins": [
        {"source-table": 2, "condition": ["=", ["field", 1, null], ["field", 2, {"join-alias": "PRODUCTS"}]]}]})));
    assert_eq!(check(&unnamed), Ok(()));
    assert_eq!(
        check_join_aliases(&unnamed.stages[0], &["Products"])
            .unwrap_err()
            .to_string(),
        "No join named \"PRODUCTS\" in this query."
    );
}

#[test]
fn supported_feature_checks_give_the_section_8_messages() {
    let cases = [
        (
            json!({"source-table": 1, "filter": ["segment", 1]}),
            "Filter \"segment\"",
        ),
        (
            json!({"source-table": 1, "aggregation": [["metric", 1]]}),
            "Aggregation \"metric\"",
        ),
        (
            json!({"source-table": 1, "breakout": [["field", 1, {"temporal-unit": "week-of-year"}]]}),
            "Temporal unit \"week-of-year\"",
        ),
        (
            json!({"source-table": 1, "expressions": {"R": ["regex-match-first", ["field", 1, null], "x"]}}),
            "Expression \"regex-match-first\"",
        ),
        (
            json!({"source-table": 1, "expressions": {"O": ["offset", ["sum", ["field", 1, null]], -1]}}),
            "Expression \"offset\"",
        ),
        (
            json!({"source-table": 1, "filter": ["time-interval", ["field", 1, null], -3, "second"]}),
            "Temporal unit \"second\"",
        ),
        (
            json!({"source-table": 1, "filter": ["<", ["field", 1, null], ["relative-datetime", -1, "millisecond"]]}),
            "Temporal unit \"millisecond\"",
        ),
        (
            json!({"source-table": 1, "breakout": [["field", 1, {"temporal-unit": "YEAR_OF_ERA"}]]}),
            "Temporal unit \"year-of-era\"",
        ),
    ];
    for (inner, thing) in cases {
        let q = ok(legacy(inner.clone()));
        assert_eq!(check_references(&q), Ok(()));
        assert_eq!(
            check(&q).unwrap_err(),
            MbqlError::Unsupported {
                thing: thing.into()
            },
            "{inner}"
        );
        assert_eq!(
            check_supported(&q).unwrap_err().to_string(),
            format!("{thing} is not supported by ferrobase.")
        );
    }
}

#[test]
fn sqlite_lacks_four_aggregations() {
    for op in ["median", "stddev", "var"] {
        let q = ok(legacy(
            json!({"source-table": 1, "aggregation": [[op, ["field", 1, null]]]}),
        ));
        assert_eq!(check(&q), Ok(()));
        assert_eq!(
            check_sqlite(&q).unwrap_err().to_string(),
            format!("Aggregation \"{op}\" on SQLite is not supported by ferrobase.")
        );
    }
    let q = ok(legacy(
        json!({"source-table": 1, "aggregation": [["percentile", ["field", 1, null], 0.5]]}),
    ));
    assert_eq!(
        check_sqlite(&q).unwrap_err().to_string(),
        "Aggregation \"percentile\" on SQLite is not supported by ferrobase."
    );
    let q = ok(legacy(
        json!({"source-table": 1, "aggregation": [["sum", ["field", 1, null]]]}),
    ));
    assert_eq!(check_sqlite(&q), Ok(()));
}
