//! Tests of the bounded YAML reader: hostile inputs (deep nesting, alias bombs, a large anchor
//! referenced many times) refused quickly, and the same values as the former reader (yaml-rust2's
//! `YamlLoader` and a recursive conversion) on ordinary documents.
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

use super::*;

/// The reader this module replaced, kept as the reference for ordinary documents.
fn old_parse(text: &str) -> Result<Value, String> {
    fn to_json(y: &Yaml) -> Result<Value, String> {
        Ok(match y {
            Yaml::Null => Value::Null,
            Yaml::Boolean(b) => Value::Bool(*b),
            Yaml::Integer(i) => Value::from(*i),
            Yaml::Real(r) => r
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("unsupported number {r}"))?,
            Yaml::String(s) => Value::String(s.clone()),
            Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect::<Result<_, _>>()?),
            Yaml::Hash(h) => {
                let mut m = Map::new();
                for (k, v) in h {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        _ => return Err("unsupported map key".into()),
                    };
                    m.insert(key, to_json(v)?);
                }
                Value::Object(m)
            }
            Yaml::Alias(_) | Yaml::BadValue => return Err("unsupported YAML value".into()),
        })
    }
    let docs = YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    match docs.as_slice() {
        [] => Ok(Value::Null),
        [one] => to_json(one),
        _ => Err("more than one YAML document".into()),
    }
}

/// Runs `parse` and checks it answered quickly (a generous bound for unoptimised test builds;
/// the hostile inputs took seconds to minutes, or never ended, with the former reader).
fn quick(text: &str) -> Result<Value, String> {
    let start = Instant::now();
    let r = parse(text);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    r
}

#[test]
fn deep_block_sequences_are_refused_without_recursion() {
    // 2,000 levels killed the server through the recursive loader and conversion.
    let text = "- ".repeat(2000) + "x\n";
    let e = quick(&text).unwrap_err();
    assert!(e.contains("nests deeper than 128 levels"), "{e}");
    let text = "[".repeat(100_000);
    assert!(quick(&text).is_err());
    let text = "a:\n".to_string()
        + &(1..200)
            .map(|i| format!("{}k:\n", "  ".repeat(i)))
            .collect::<String>();
    assert!(quick(&text).unwrap_err().contains("deeper than 128"));
}

#[test]
fn nesting_up_to_the_limit_is_read() {
    let text = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
    let mut v = quick(&text).expect("at the limit");
    let mut depth = 0;
    while let Value::Array(mut a) = v {
        depth += 1;
        v = a.pop().unwrap_or(Value::Null);
    }
    assert_eq!(depth, MAX_DEPTH);
    let text = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
    assert!(quick(&text).is_err());
}

/// Aliases nested `levels` deep, each level referring `fan` times to the one below.
fn laughs(levels: usize, fan: usize) -> String {
    let mut s = "l0: &l0 lol\n".to_string();
    for i in 1..=levels {
        let refs: Vec<String> = (0..fan).map(|_| format!("*l{}", i - 1)).collect();
        s.push_str(&format!("l{i}: &l{i} [{}]\n", refs.join(", ")));
    }
    s
}

#[test]
fn billion_laughs_are_refused_by_the_alias_budget() {
    let text = laughs(6, 10);
    assert!(text.len() < 400);
    let e = quick(&text).unwrap_err();
    assert!(e.contains("anchors and aliases expand beyond"), "{e}");
    let text = laughs(9, 10);
    assert!(quick(&text).is_err());
}

#[test]
fn a_large_anchor_referenced_many_times_is_refused() {
    let big = "x".repeat(1 << 20);
    let refs: Vec<String> = (0..2000).map(|_| "*a".to_string()).collect();
    let text = format!("a: &a {big}\nb: [{}]\n", refs.join(", "));
    let e = quick(&text).unwrap_err();
    assert!(e.contains("anchors and aliases expand beyond"), "{e}");
}

#[test]
fn aliases_cannot_build_depth_past_the_limit() {
    // Each alias is shallow where it is defined but lands deep.
    let inner = "[".repeat(100) + &"]".repeat(100);
    let outer = "[".repeat(100);
    let text = format!("a: &a {inner}\nb: {outer}*a{}\n", "]".repeat(100));
    let e = quick(&text).unwrap_err();
    assert!(e.contains("deeper than 128"), "{e}");
}

#[test]
fn a_few_aliases_are_still_read() {
    let text = "base: &b {x: 1, y: [a, b]}\none: *b\ntwo: *b\n";
    let v = quick(text).expect("read");
    assert_eq!(v["one"], json!({"x": 1, "y": ["a", "b"]}));
    assert_eq!(v["two"], v["base"]);
    assert_eq!(Ok(v), old_parse(text));
}

#[test]
fn node_count_is_capped() {
    let text = "[".to_string() + &"0,".repeat(MAX_NODES as usize) + "0]";
    let e = parse(&text).unwrap_err();
    assert!(e.contains("more than 2000000 nodes"), "{e}");
}

#[test]
fn refusals_match_the_former_reader() {
    for text in [
        "a: 1\n---\nb: 2\n",
        "? [a]\n: 1\n",
        "~: 1\n",
        "a: 1\na: 2\n",
        "a: *nope\n",
        "a: .inf\n",
        "a: !!float .nan\n",
        "a: !!int x\n",
        "a: [1\n",
    ] {
        assert!(parse(text).is_err(), "{text}");
        assert!(old_parse(text).is_err(), "{text}");
    }
    for text in [
        "",
        "# only a comment\n",
        "a: !!str 12\nb: !!int 7\nc: !!bool true\nd: !!float 1.5\ne: !!null ~\n",
        "1: one\ntrue: yes\n0x1F: hex\n",
        "s: 'quoted: 1'\nt: \"esc\\n\\t\\u00e9\"\nu: |\n  block\n  text\nv: >-\n  folded\n  text\n",
        "n: [null, ~, Null, true, False, 0o17, +5, -3, 1e3, .5, 3abc]\n",
    ] {
        assert_eq!(parse(text), old_parse(text), "{text}");
    }
}

fn arb_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}",
        "[a-z0-9 :#'\"\\-\\n]{0,16}",
        any::<String>(),
        "[0-9.eE+-]{1,6}",
        "(0x|0o)?[+-]{0,2}[0-9a-f]{1,3}",
        Just("null".to_string()),
        Just("yes".to_string()),
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
        arb_scalar().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(arb_scalar(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]
    /// Documents as ferrobase writes them read back to the same value, exactly as the former
    /// reader read them.
    #[test]
    fn same_values_as_the_former_reader(
        m in prop::collection::btree_map(arb_scalar(), arb_value(), 0..6)
    ) {
        let d: Map<String, Value> = m.into_iter().collect();
        let text = super::super::yaml::emit_document(&d, &[]);
        let new = parse(&text);
        prop_assert_eq!(&new, &old_parse(&text));
        prop_assert_eq!(new, Ok(Value::Object(d)));
    }

    /// Arbitrary text: both readers accept the same documents, with the same values (the former
    /// one could not be trusted with deep or aliased input, which the generator avoids).
    #[test]
    fn arbitrary_text_reads_like_the_former_reader(text in "[-a-z0-9:{}\\[\\], '\"#\\n]{0,64}") {
        let new = parse(&text);
        let old = old_parse(&text);
        match (&new, &old) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(_), Err(_)) => {}
            // The former reader let `1: a` and `'1': b` overwrite each other.
            (Err(e), Ok(_)) if e.contains("duplicated key") => {}
            _ => prop_assert!(false, "{:?} vs {:?} for {:?}", new, old, text),
        }
    }
}
