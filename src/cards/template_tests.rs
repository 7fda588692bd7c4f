//! Unit tests of template-tag resolution.
use super::*;
use serde_json::json;

fn tags(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn run(sql: &str, t: Value, params: Value) -> Result<(String, Vec<Bound>), QueryError> {
    let cards = HashMap::new();
    let r = Resolver {
        database_id: 1,
        cards: &cards,
    };
    let values = parameter_values(params.as_array().map(Vec::as_slice).unwrap_or(&[]));
    r.resolve(sql, &tags(t), &values)
        .map(|s| s.render(Dialect::Postgres))
}

#[test]
fn binds_values_and_drops_optional_clauses() {
    let t = json!({"min": {"type": "number", "default": "10"}, "q": {"type": "text"}});
    let (sql, params) = run(
        "SELECT 1 WHERE 1=1 [[AND TOTAL > {{min}}]] [[AND x = {{ q }}]]",
        t.clone(),
        json!([]),
    )
    .unwrap();
    assert_eq!(sql, "SELECT 1 WHERE 1=1 AND TOTAL > $1 ");
    assert_eq!(params, vec![Bound::Int(10)]);
    let (sql, params) = run(
        "SELECT {{q}}, {{q}}",
        t,
        json!([{"type": "category", "target": ["variable", ["template-tag", "q"]],
                "value": ["a", "b"]}]),
    )
    .unwrap();
    assert_eq!(sql, "SELECT $1, $2, $3, $4");
    assert_eq!(params.len(), 4);
}

#[test]
fn errors() {
    let e = run(
        "SELECT {{cat}}",
        json!({"cat": {"type": "text", "display-name": "Cat"}}),
        json!([]),
    )
    .unwrap_err();
    assert_eq!(e.error_type, ErrorType::MissingRequiredParameter);
    assert_eq!(
        e.message,
        "You'll need to pick a value for 'Cat' before this query can run."
    );
    let e = run(
        "SELECT {{n}}",
        json!({"n": {"type": "number"}}),
        json!([{"target": ["variable", ["template-tag", "n"]], "value": "abc"}]),
    )
    .unwrap_err();
    assert_eq!(e.error_type, ErrorType::InvalidParameter);
    let e = run("[[a [[b]] ]]", json!({}), json!([])).unwrap_err();
    assert_eq!(e.error_type, ErrorType::InvalidQuery);
    let (sql, _) = run(
        "SELECT * FROM t WHERE {{f}}",
        json!({"f": {"type": "dimension"}}),
        json!([]),
    )
    .unwrap();
    assert_eq!(sql, "SELECT * FROM t WHERE 1 = 1");
}

#[test]
fn card_references() {
    let mut cards = HashMap::new();
    cards.insert(
        5,
        CardSource::Native {
            database_id: 1,
            sql: "SELECT {{x}};".into(),
            tags: tags(json!({"x": {"type": "number", "default": 3}})),
        },
    );
    cards.insert(
        6,
        CardSource::Native {
            database_id: 1,
            sql: "SELECT * FROM {{#6}}".into(),
            tags: Map::new(),
        },
    );
    let r = Resolver {
        database_id: 1,
        cards: &cards,
    };
    let t = tags(json!({"#5-b": {"type": "card", "card-id": 5}}));
    let st = r
        .resolve("SELECT COUNT(*) FROM {{#5-b}} x", &t, &HashMap::new())
        .unwrap();
    assert_eq!(
        st.render(Dialect::Sqlite),
        (
            "SELECT COUNT(*) FROM (\nSELECT ?\n) x".to_string(),
            vec![Bound::Int(3)]
        )
    );
    let e = r
        .resolve("SELECT * FROM {{#6}}", &Map::new(), &HashMap::new())
        .unwrap_err();
    assert_eq!(e.error_type, ErrorType::InvalidQuery);
    let e = r
        .resolve("SELECT * FROM {{#7}}", &Map::new(), &HashMap::new())
        .unwrap_err();
    assert_eq!(e.message, "Card 7 not found.");
}
