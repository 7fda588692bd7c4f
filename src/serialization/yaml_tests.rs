//! Unit and property tests of the YAML emitter: exact output for known inputs, and every output
//! parsed back (with yaml-rust2) to the value it came from.
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

use super::*;

fn to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => json!(*i),
        Yaml::Real(r) => json!(r.parse::<f64>().expect("real")),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    other => panic!("non-string key {other:?}"),
                };
                m.insert(key, to_json(v));
            }
            Value::Object(m)
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn parse(text: &str) -> Value {
    let docs = YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(docs.len(), 1, "{text}");
    to_json(&docs[0])
}

fn doc(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not a map"),
    }
}

#[test]
fn known_output() {
    let d = doc(json!({
        "name": "Top",
        "description": null,
        "entity_id": "abc_DEF-123456789012x",
        "created_at": "2025-03-04T05:06:07.123456Z",
        "archived": false,
        "collection_position": 3,
        "dataset_query": {"type": "native", "native": {"query": "SELECT 1\nFROM t"}, "database": "Sample Database"},
        "parameters": [],
        "visualization_settings": {},
        "serdes/meta": [{"model": "Card", "label": "top", "id": "abc_DEF-123456789012x"}],
        "ratio": 1.0,
        "odd": ["true", "12", "", "a: b", "- x", "it's", "tab\there", "3abc", "1.5e3", "yes"],
    }));
    let text = emit_document(&d, &[]);
    let expected = "name: Top
description: null
entity_id: abc_DEF-123456789012x
created_at: '2025-03-04T05:06:07.123456Z'
archived: false
collection_position: 3
dataset_query:
  database: Sample Database
  native:
    query: |-
      SELECT 1
      FROM t
  type: native
parameters: []
visualization_settings: {}
serdes/meta:
  - id: abc_DEF-123456789012x
    label: top
    model: Card
ratio: 1.0
odd:
  - 'true'
  - '12'
  - ''
  - 'a: b'
  - '- x'
  - it's
  - \"tab\\there\"
  - 3abc
  - '1.5e3'
  - yes
";
    assert_eq!(text, expected);
    assert_eq!(parse(&text), Value::Object(d));
}

#[test]
fn literal_chomping() {
    for s in [
        "a\n",
        "a\n\n",
        "a\nb",
        "\na",
        "a\n\n\nb\n",
        "  lead\nx",
        "x\n  more\n",
    ] {
        let d = doc(json!({"k": s, "l": [s, {"m": s}]}));
        let text = emit_document(&d, &[]);
        assert_eq!(parse(&text), Value::Object(d), "{text}");
    }
}

#[test]
fn ordered_lists_keep_item_order() {
    let d = doc(json!({"tabs": [{"name": "x", "entity_id": "e"}], "other": [{"b": 1, "a": 2}]}));
    let text = emit_document(&d, &["tabs"]);
    assert_eq!(
        text,
        "tabs:\n  - name: x\n    entity_id: e\nother:\n  - a: 2\n    b: 1\n"
    );
}

#[test]
fn nested_sequences_and_empty_document() {
    let d = doc(json!({"a": [[1, [2, 3]], [], {}], "b": [{"x": [{}]}]}));
    let text = emit_document(&d, &[]);
    assert_eq!(parse(&text), Value::Object(d));
    assert_eq!(emit_document(&Map::new(), &[]), "{}\n");
}

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}",
        "[a-z0-9 :#'\"\\-\\n]{0,16}",
        any::<String>(),
        Just("null".to_string()),
        Just("0x1F".to_string()),
        Just(".5".to_string()),
        Just("1e3".to_string()),
        Just("3abc".to_string()),
        Just("-1.5e+3".to_string()),
        Just("yes".to_string()),
        Just("1_000".to_string()),
        "[0-9.eE+-]{1,6}",
        "(0x|0o)?[+-]{0,2}[0-9a-f]{1,3}",
        Just("2025-03-04T05:06:07Z".to_string()),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(arb_string(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]
    #[test]
    fn output_parses_back(m in prop::collection::btree_map(arb_string(), arb_value(), 0..6)) {
        let d: Map<String, Value> = m.into_iter().collect();
        let text = emit_document(&d, &[]);
        prop_assert!(text.ends_with('\n'));
        prop_assert_eq!(parse(&text), Value::Object(d));
    }
}
