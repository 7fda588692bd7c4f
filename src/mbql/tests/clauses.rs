//! Filters and expressions (§2.3, §2.4, §2.7) parse to their model values.
use jiff::civil::date;
use serde_json::json;

use super::*;

#[test]
fn comparison_and_null_filters() {
    let x = || json!(["field", 7, null]);
    let cases = [
        (
            json!(["=", x(), "Widget"]),
            Filter::Equal {
                expr: fx(7),
                values: vec![lit_s("Widget")],
            },
        ),
        (
            json!(["=", x(), "Widget", "Gadget"]),
            Filter::Equal {
                expr: fx(7),
                values: vec![lit_s("Widget"), lit_s("Gadget")],
            },
        ),
        (
            json!(["in", x(), 1, 2]),
            Filter::Equal {
                expr: fx(7),
                values: vec![lit_i(1), lit_i(2)],
            },
        ),
        (
            json!(["!=", x(), null]),
            Filter::NotEqual {
                expr: fx(7),
                values: vec![Expr::Literal(Literal::Null)],
            },
        ),
        (
            json!(["not-in", x(), 5]),
            Filter::NotEqual {
                expr: fx(7),
                values: vec![lit_i(5)],
            },
        ),
        (
            json!(["<=", x(), 2.5]),
            Filter::Compare {
                op: CompareOp::Le,
                left: fx(7),
                right: Expr::Literal(Literal::Float(2.5)),
            },
        ),
        (
            json!(["between", x(), 20, 30]),
            Filter::Between {
                expr: fx(7),
                low: lit_i(20),
                high: lit_i(30),
            },
        ),
        (json!(["is-null", x()]), Filter::IsNull(fx(7))),
        (json!(["not-null", x()]), Filter::NotNull(fx(7))),
        (json!(["is-empty", x()]), Filter::IsEmpty(fx(7))),
        (json!(["not-empty", x()]), Filter::NotEmpty(fx(7))),
        (
            json!([
                "inside",
                ["field", 1, null],
                ["field", 2, null],
                40,
                -100,
                30,
                -90
            ]),
            Filter::Inside(Box::new(InsideBox {
                lat: fx(1),
                lon: fx(2),
                north: lit_i(40),
                west: lit_i(-100),
                south: lit_i(30),
                east: lit_i(-90),
            })),
        ),
        (
            json!(["field", 7, null]),
            Filter::Truthy(Ref::Field(field(7))),
        ),
    ];
    for (json, filter) in cases {
        assert_eq!(one_filter(json.clone()), filter, "{json}");
    }
    for (op, cmp) in [
        ("<", CompareOp::Lt),
        ("<=", CompareOp::Le),
        (">", CompareOp::Gt),
        (">=", CompareOp::Ge),
    ] {
        let Filter::Compare { op: got, .. } = one_filter(json!([op, x(), 1])) else {
            panic!("{op}")
        };
        assert_eq!(got, cmp);
    }
}

#[test]
fn compound_filters_split_only_at_the_top() {
    let s = stage(json!({"source-table": 1, "filter":
        ["and", [">", ["field", 1, null], 100],
                ["or", ["=", ["field", 2, null], 1], ["not", ["<", ["field", 3, null], 2]]]]}));
    assert_eq!(
        s.filters,
        vec![
            Filter::Compare {
                op: CompareOp::Gt,
                left: fx(1),
                right: lit_i(100)
            },
            Filter::Or(vec![
                Filter::Equal {
                    expr: fx(2),
                    values: vec![lit_i(1)]
                },
                Filter::Not(Box::new(Filter::Compare {
                    op: CompareOp::Lt,
                    left: fx(3),
                    right: lit_i(2)
                })),
            ]),
        ]
    );
}

#[test]
fn string_filters_with_options_and_several_patterns() {
    let text = |op, patterns: &[&str], case_sensitive| Filter::Text {
        op,
        expr: fx(4),
        patterns: patterns.iter().map(|s| s.to_string()).collect(),
        case_sensitive,
    };
    let cases = [
        (
            json!(["contains", ["field", 4, null], "EXAMPLE.ORG"]),
            text(TextMatch::Contains, &["EXAMPLE.ORG"], true),
        ),
        (
            json!(["contains", ["field", 4, null], "a", {"case-sensitive": false}]),
            text(TextMatch::Contains, &["a"], false),
        ),
        (
            json!(["does-not-contain", ["field", 4, null], "a", {"case_sensitive": false}]),
            text(TextMatch::DoesNotContain, &["a"], false),
        ),
        (
            json!(["starts-with", ["field", 4, null], "A"]),
            text(TextMatch::StartsWith, &["A"], true),
        ),
        (
            json!(["ends-with", ["field", 4, null], ".net"]),
            text(TextMatch::EndsWith, &[".net"], true),
        ),
        // The 0.50+ query builder's multi-value form in a legacy query.
        (
            json!(["contains", {"case-sensitive": false}, ["field", 4, null], "a", "b"]),
            text(TextMatch::Contains, &["a", "b"], false),
        ),
    ];
    for (json, filter) in cases {
        assert_eq!(one_filter(json.clone()), filter, "{json}");
    }
}

#[test]
fn relative_and_calendar_windows() {
    let created = || json!(["field", 9, {"temporal-unit": "month"}]);
    assert_eq!(
        one_filter(json!(["time-interval", created(), -3, "year"])),
        Filter::TimeInterval {
            expr: fx(9), // the field's own unit gives way to the window's [compat]
            amount: -3,
            unit: IntervalUnit::Year,
            include_current: false
        }
    );
    for (n, amount) in [("current", 0), ("LAST", -1), ("next", 1)] {
        let f =
            one_filter(json!(["time-interval", created(), n, "Month", {"include-current": true}]));
        assert_eq!(
            f,
            Filter::TimeInterval {
                expr: fx(9),
                amount,
                unit: IntervalUnit::Month,
                include_current: true
            }
        );
    }
    assert_eq!(
        one_filter(json!([
            "relative-time-interval",
            ["field", 9, null],
            -2,
            "month",
            -1,
            "year"
        ])),
        Filter::RelativeTimeInterval {
            expr: fx(9),
            amount: -2,
            unit: IntervalUnit::Month,
            offset: -1,
            offset_unit: IntervalUnit::Year
        }
    );
    assert_eq!(
        one_filter(json!(["during", ["field", 9, null], "2024-02-10", "month"])),
        Filter::During {
            expr: fx(9),
            value: TemporalLiteral::Date(date(2024, 2, 10)),
            unit: IntervalUnit::Month
        }
    );
}

#[test]
fn segment_filters_are_kept_for_the_checks() {
    assert_eq!(
        one_filter(json!(["segment", 1])),
        Filter::Unsupported(unsupported("Filter \"segment\""))
    );
}

#[test]
fn arithmetic_numeric_and_text_functions() {
    let x = || json!(["field", 1, null]);
    assert_eq!(
        one_expr(json!(["-", x(), ["*", x(), 2], 1.5])),
        Expr::Arithmetic {
            op: ArithOp::Subtract,
            args: vec![
                fx(1),
                Expr::Arithmetic {
                    op: ArithOp::Multiply,
                    args: vec![fx(1), lit_i(2)]
                },
                Expr::Literal(Literal::Float(1.5))
            ]
        }
    );
    for func in MathFn::ALL {
        assert_eq!(
            one_expr(json!([func.as_str(), x()])),
            Expr::Math {
                func: *func,
                arg: Box::new(fx(1))
            }
        );
    }
    for func in TextFn::ALL {
        assert_eq!(
            one_expr(json!([func.as_str(), x()])),
            Expr::Text {
                func: *func,
                arg: Box::new(fx(1))
            }
        );
    }
    assert_eq!(
        one_expr(json!(["power", x(), 2])),
        Expr::Power {
            base: Box::new(fx(1)),
            exponent: Box::new(lit_i(2))
        }
    );
    assert_eq!(
        one_expr(json!(["coalesce", x(), 0])),
        Expr::Coalesce(vec![fx(1), lit_i(0)])
    );
    assert_eq!(
        one_expr(json!(["concat", x(), " <", ["field", 2, null], ">"])),
        Expr::Concat(vec![fx(1), lit_s(" <"), fx(2), lit_s(">")])
    );
    assert_eq!(
        one_expr(json!(["substring", x(), 0, 3])),
        Expr::Substring {
            text: Box::new(fx(1)),
            start: Box::new(lit_i(1)), // 0 is read as 1 [compat]
            length: Some(Box::new(lit_i(3)))
        }
    );
    assert_eq!(
        one_expr(json!(["replace", x(), "a", "b"])),
        Expr::Replace {
            text: Box::new(fx(1)),
            find: Box::new(lit_s("a")),
            replacement: Box::new(lit_s("b"))
        }
    );
    assert_eq!(
        one_expr(json!(["value", "x", {"base_type": "type/Text"}])),
        lit_s("x")
    );
    assert_eq!(one_expr(json!(true)), Expr::Literal(Literal::Bool(true)));
    assert_eq!(
        one_expr(json!(18446744073709551615u64)),
        Expr::Literal(Literal::Float(18446744073709551615u64 as f64))
    );
}

#[test]
fn case_and_if_in_both_shapes() {
    let expected = Expr::Case {
        branches: vec![CaseBranch {
            when: Filter::Compare {
                op: CompareOp::Gt,
                left: fx(1),
                right: lit_i(100),
            },
            then: lit_s("big"),
        }],
        default: Some(Box::new(lit_s("small"))),
    };
    let legacy_case =
        json!(["case", [[[">", ["field", 1, null], 100], "big"]], {"default": "small"}]);
    assert_eq!(one_expr(legacy_case), expected);
    let if_v5_shape = json!(["if", {}, [[[">", ["field", 1, null], 100], "big"]], "small"]);
    assert_eq!(one_expr(if_v5_shape), expected);
    let Expr::Case { default, .. } = one_expr(json!(["case", [[["field", 2, null], 1]]])) else {
        panic!("case")
    };
    assert_eq!(default, None);
}

#[test]
fn temporal_functions_and_values() {
    let x = || json!(["field", 3, null]);
    assert_eq!(
        one_expr(json!(["datetime-add", x(), 2, "week"])),
        Expr::DateTimeAdd {
            expr: Box::new(fx(3)),
            amount: 2,
            unit: IntervalUnit::Week
        }
    );
    assert_eq!(
        one_expr(json!(["datetime-subtract", x(), 2, "DAY"])),
        Expr::DateTimeAdd {
            expr: Box::new(fx(3)),
            amount: -2,
            unit: IntervalUnit::Day
        }
    );
    for part in DatePart::ALL {
        assert_eq!(
            one_expr(json!([part.as_str(), x()])),
            Expr::Extract {
                part: *part,
                arg: Box::new(fx(3))
            }
        );
    }
    assert_eq!(
        one_expr(json!(["get-day-of-week", x(), "iso"])),
        Expr::DayOfWeek {
            arg: Box::new(fx(3)),
            mode: WeekMode::Iso
        }
    );
    assert_eq!(
        one_expr(json!(["get-day-of-week", x()])),
        Expr::DayOfWeek {
            arg: Box::new(fx(3)),
            mode: WeekMode::Instance
        }
    );
    assert_eq!(one_expr(json!(["now"])), Expr::Now);
    assert_eq!(
        one_expr(json!(["relative-datetime", -1, "month"])),
        Expr::RelativeDateTime {
            amount: -1,
            unit: Some(IntervalUnit::Month)
        }
    );
    assert_eq!(
        one_expr(json!(["relative-datetime", "current"])),
        Expr::RelativeDateTime {
            amount: 0,
            unit: None
        }
    );
    assert_eq!(
        one_expr(json!(["absolute-datetime", "2024-03-05T10:00:00Z", "day"])),
        Expr::AbsoluteDateTime {
            value: TemporalLiteral::parse("2024-03-05T10:00:00Z").unwrap(),
            unit: TemporalUnit::Truncate(IntervalUnit::Day)
        }
    );
    // A filter used as a value.
    assert_eq!(
        one_expr(json!(["=", x(), 1])),
        Expr::Predicate(Box::new(Filter::Equal {
            expr: fx(3),
            values: vec![lit_i(1)]
        }))
    );
}

#[test]
fn functions_ferrobase_refuses_are_kept_for_the_checks() {
    for op in [
        "regex-match-first",
        "offset",
        "cum-sum",
        "split-part",
        "datetime-diff",
    ] {
        assert_eq!(
            one_expr(json!([op, ["field", 1, null], "x"])),
            Expr::Unsupported(unsupported(&format!("Expression \"{op}\""))),
        );
    }
}
