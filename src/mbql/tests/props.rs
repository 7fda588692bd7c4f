//! Property tests: the parser never panics (arbitrary JSON, mutated queries, hostile nesting),
//! normalisation is idempotent, and key-case/underscore variants parse identically.
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map};

use super::*;

/// Words that steer random JSON into the parser's paths.
const VOCABULARY: &[&str] = &[
    "field",
    "expression",
    "aggregation",
    "count",
    "sum",
    "avg",
    "distinct",
    "cum-sum",
    "cum-count",
    "count-where",
    "sum-where",
    "share",
    "median",
    "percentile",
    "metric",
    "=",
    "!=",
    "<",
    ">=",
    "between",
    "and",
    "or",
    "not",
    "is-null",
    "contains",
    "starts-with",
    "inside",
    "time-interval",
    "relative-time-interval",
    "during",
    "segment",
    "case",
    "if",
    "value",
    "coalesce",
    "concat",
    "substring",
    "replace",
    "datetime-add",
    "get-year",
    "get-day-of-week",
    "now",
    "+",
    "/",
    "relative-datetime",
    "absolute-datetime",
    "aggregation-options",
    "field-id",
    "fk->",
    "datetime-field",
    "joined-field",
    "field-literal",
    "binning-strategy",
    "source-table",
    "source-query",
    "source-card",
    "stages",
    "lib/type",
    "mbql.stage/mbql",
    "mbql.stage/native",
    "mbql/query",
    "filter",
    "filters",
    "breakout",
    "order-by",
    "asc",
    "desc",
    "joins",
    "condition",
    "conditions",
    "alias",
    "strategy",
    "left-join",
    "fields",
    "all",
    "none",
    "temporal-unit",
    "binning",
    "num-bins",
    "bin-width",
    "default",
    "join-alias",
    "source-field",
    "base-type",
    "type/Integer",
    "month",
    "year",
    "week-of-year",
    "current",
    "card__1",
    "native",
    "template-tags",
    "expressions",
    "lib/expression-name",
    "lib/uuid",
    "limit",
    "page",
    "items",
    "name",
    "display-name",
    "include-current",
    "case-sensitive",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(VOCABULARY).prop_map(String::from),
        1 => "[a-zA-Z_/-]{0,8}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..20).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        word().prop_map(Value::from),
    ]
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(10, 160, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            (
                select(VOCABULARY),
                prop::collection::vec(inner.clone(), 0..5)
            )
                .prop_map(|(head, mut rest)| {
                    rest.insert(0, Value::from(head));
                    Value::Array(rest)
                }),
            prop::collection::vec((word(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A query object of either form around random content.
fn arbitrary_query() -> impl Strategy<Value = Value> {
    (any::<bool>(), arbitrary_json(), arbitrary_json()).prop_map(|(mbql5, a, b)| {
        if mbql5 {
            json!({"lib/type": "mbql/query", "database": 1,
                   "stages": [{"lib/type": "mbql.stage/mbql", "source-table": 1, "x": a}, b]})
        } else {
            json!({"database": 1, "type": "query", "query": {"source-table": 1, "filter": a, "y": b}})
        }
    })
}

/// Valid queries touching most clauses, in both forms.
fn samples() -> Vec<Value> {
    let f = |id: i64| json!(["field", id, null]);
    let f5 = |id: i64| json!(["field", {"lib/uuid": "u", "base-type": "type/Integer"}, id]);
    vec![
        legacy(json!({"source-table": 1,
            "joins": [{"source-table": 2, "alias": "Products", "fields": "all", "strategy": "inner-join",
                       "condition": ["=", f(3), ["field", 4, {"join-alias": "Products"}]]}],
            "expressions": {"Net": ["-", f(5), ["coalesce", f(6), 0]],
                            "Size": ["case", [[[">", f(5), 100], "big"]], {"default": "small"}]},
            "filter": ["and", ["contains", ["field", 7, {"join-alias": "Products"}], "a", {"case-sensitive": false}],
                              ["time-interval", f(8), -3, "year", {"include-current": true}],
                              ["not", ["between", f(5), 1, 2]],
                              ["during", f(8), "2024-02-10", "month"]],
            "aggregation": [["count"], ["aggregation-options", ["sum", ["expression", "Net"]], {"name": "net"}],
                            ["percentile", f(5), 0.5], ["count-where", ["=", f(9), "Widget"]]],
            "breakout": [["field", 8, {"temporal-unit": "month"}], ["field", 10, {"source-field": 3}],
                         ["field", 5, {"binning": {"strategy": "num-bins", "num-bins": 10}}]],
            "order-by": [["desc", ["aggregation", 0]], ["asc", ["field", 8, {"temporal-unit": "month"}]]],
            "limit": 10, "page": {"page": 2, "items": 5}})),
        legacy(
            json!({"source-query": {"source-query": {"native": "SELECT 1 AS A", "template-tags": {}},
                                       "aggregation": [["count"]],
                                       "breakout": [["datetime-field", ["field-literal", "A", "type/Date"], "year"]]},
                      "filter": [">", ["field", "count", {"base-type": "type/BigInteger"}], 30],
                      "expressions": {"D": ["datetime-add", ["field", "A", {"base-type": "type/Date"}], 1, "day"]},
                      "fields": [["expression", "D"]]}),
        ),
        json!({"lib/type": "mbql/query", "database": 1, "stages": [
            {"lib/type": "mbql.stage/mbql", "source-card": 4,
             "joins": [{"lib/type": "mbql/join", "alias": "C", "fields": [["field", {"join-alias": "C"}, 2]],
                        "conditions": [["=", {}, f5(1), ["field", {"join-alias": "C"}, 2]]],
                        "stages": [{"lib/type": "mbql.stage/mbql", "source-table": 3}]}],
             "expressions": [["concat", {"lib/expression-name": "Label"}, f5(1), " ", ["upper", {}, f5(2)]]],
             "filters": [["starts-with", {"case-sensitive": true}, f5(2), "A", "B"],
                         ["relative-time-interval", {}, f5(8), -2, "month", -1, "year"]],
             "aggregation": [["sum", {"lib/uuid": "s1", "display-name": "Total"}, f5(5)],
                             ["share", {"lib/uuid": "s2"}, ["is-null", {}, f5(6)]]],
             "breakout": [["expression", {}, "Label"]],
             "order-by": [["asc", {}, ["aggregation", {}, "s2"]]]},
            {"lib/type": "mbql.stage/mbql", "limit": 3}]}),
    ]
}

/// A change at a random place of a valid query.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(Value),
    Delete,
    Nest(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => arbitrary_json().prop_map(Mutation::Replace),
        2 => Just(Mutation::Delete),
        1 => (0usize..1000).prop_map(Mutation::Nest),
    ]
}

fn mutate(v: &mut Value, picks: &[usize], m: &Mutation) {
    let child = match (v, picks.split_first()) {
        (Value::Array(items), Some((pick, rest))) if !items.is_empty() => {
            let i = pick % items.len();
            if rest.is_empty() && matches!(m, Mutation::Delete) {
                items.remove(i);
                return;
            }
            Some((&mut items[i], rest))
        }
        (Value::Object(map), Some((pick, rest))) if !map.is_empty() => {
            let key = map
                .keys()
                .nth(pick % map.len())
                .cloned()
                .unwrap_or_default();
            if rest.is_empty() && matches!(m, Mutation::Delete) {
                map.remove(&key);
                return;
            }
            map.get_mut(&key).map(|child| (child, rest))
        }
        (leaf, _) => {
            match m {
                Mutation::Replace(new) => *leaf = new.clone(),
                Mutation::Nest(depth) => {
                    for _ in 0..*depth {
                        // Built directly: `json!` would serialise the value again each time.
                        *leaf = Value::Array(vec![Value::from("not"), leaf.take()]);
                    }
                }
                Mutation::Delete => *leaf = Value::Null,
            }
            None
        }
    };
    if let Some((child, rest)) = child {
        mutate(child, rest, m);
    }
}

/// Everything a caller would do with the input; none of it may panic.
fn exercise(v: &Value) {
    let Some(map) = v.as_object() else { return };
    if let Ok(once) = normalize(map) {
        assert_eq!(
            normalize(&once).as_ref(),
            Ok(&once),
            "normalisation is idempotent"
        );
    }
    if let Ok(query) = parse(map) {
        let _ = check(&query);
        let _ = check_sqlite(&query);
        for stage in &query.stages {
            let mut nodes = 0usize;
            let _ = walk_stage(stage, &mut |_| -> Result<(), ()> {
                nodes += 1;
                Ok(())
            });
        }
    }
    let _ = is_mbql_query(map);
}

/// A spelling variant of a token: random case, `-` as `_`.
fn scramble(token: &str, seed: &mut u64) -> String {
    token
        .chars()
        .map(|c| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            match (c, *seed >> 62) {
                ('-', 0 | 1) => '_',
                (c, 2) => c.to_ascii_uppercase(),
                (c, _) => c,
            }
        })
        .collect()
}

/// Clause names whose string arguments are units or amounts, not values.
const UNIT_ARGS: &[&str] = &[
    "time-interval",
    "relative-time-interval",
    "during",
    "relative-datetime",
    "absolute-datetime",
    "datetime-add",
];

/// Rewrites every key, clause name and enumerated value of a query with [`scramble`], leaving
/// user-chosen names, `lib/…` keys and values as they are.
fn scramble_query(v: &Value, seed: &mut u64) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = if k.starts_with("lib/") {
                    k.clone()
                } else {
                    scramble(k, seed)
                };
                let value = match (k.as_str(), v) {
                    ("temporal-unit" | "strategy" | "fields", Value::String(s)) => {
                        Value::String(scramble(s, seed))
                    }
                    ("template-tags", _) => v.clone(),
                    ("expressions", Value::Object(named)) => Value::Object(
                        named
                            .iter()
                            .map(|(n, e)| (n.clone(), scramble_query(e, seed)))
                            .collect(),
                    ),
                    _ if k.starts_with("lib/") => v.clone(),
                    _ => scramble_query(v, seed),
                };
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Value::Array(items) => match items.split_first() {
            Some((Value::String(op), rest)) => {
                let units = UNIT_ARGS.contains(&op.as_str());
                let mut out = vec![Value::String(scramble(op, seed))];
                for arg in rest {
                    out.push(match arg {
                        Value::String(s) if units && !s.starts_with("20") => {
                            Value::String(scramble(s, seed))
                        }
                        other => scramble_query(other, seed),
                    });
                }
                Value::Array(out)
            }
            _ => Value::Array(items.iter().map(|i| scramble_query(i, seed)).collect()),
        },
        other => other.clone(),
    }
}

proptest! {
    #[test]
    fn the_parser_never_panics_on_arbitrary_json(q in arbitrary_query()) {
        exercise(&q);
    }

    #[test]
    fn the_parser_never_panics_on_mutated_queries(
        sample in 0usize..3,
        picks in prop::collection::vec(any::<usize>(), 0..12),
        m in mutation(),
    ) {
        let mut q = samples()[sample].clone();
        mutate(&mut q, &picks, &m);
        exercise(&q);
    }

    #[test]
    fn spelling_variants_parse_identically(sample in 0usize..3, seed in any::<u64>()) {
        let q = &samples()[sample];
        let mut seed = seed;
        let variant = scramble_query(q, &mut seed);
        prop_assert_eq!(parse_json(&variant), parse_json(q), "{}", variant);
    }
}

#[test]
fn the_samples_are_valid_and_checked() {
    for q in samples() {
        let parsed = ok(q.clone());
        assert_eq!(check(&parsed), Ok(()), "{q}");
    }
}

#[test]
fn hostile_nesting_everywhere_is_refused_without_overflow() {
    for sample in samples() {
        for picks in [
            vec![],
            vec![0],
            vec![2, 1],
            vec![2, 3, 1, 1],
            vec![2, 0, 4, 1, 2],
        ] {
            let mut q = sample.clone();
            mutate(&mut q, &picks, &Mutation::Nest(1000));
            exercise(&q);
        }
    }
}
