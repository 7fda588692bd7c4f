//! Normalisation (mbql.md §1.7, §1.4) as a JSON → JSON pass run before parsing:
//!
//! - map keys and clause names become tokens (ASCII lower case, `_` → `-`), except `lib/…` keys
//!   and names the user chose (the keys of a legacy `expressions` map); values are never
//!   touched (a filter value `"COUNT"` stays as written), and enumerated values (units,
//!   strategies) are compared as tokens by the parser instead;
//! - the old legacy reference spellings (`field-id`, `fk->`, `datetime-field`, `joined-field`,
//!   `field-literal`, `binning-strategy`) become `["field", <id or name>, {options}]`;
//! - nesting deeper than [`MAX_DEPTH`] is refused, so a hostile query cannot exhaust the stack
//!   of this pass or of the parser after it.
//!
//! The pass is idempotent. Opaque parts (`template-tags`, `parameters`, `source-metadata`,
//! `lib/…` values, …) are copied verbatim.
use serde_json::{Map, Value};

use super::error::{MbqlError, Path};
use super::tokens::token;

/// The deepest nesting of arrays and maps accepted below the query object.
pub const MAX_DEPTH: usize = 64;

/// Keys whose values are not MBQL and are kept as sent.
const VERBATIM: &[&str] = &[
    "template-tags",
    "source-metadata",
    "parameters",
    "constraints",
    "middleware",
    "info",
    "native",
    "viz-settings",
];

/// Normalises a query object (legacy or MBQL 5).
pub fn normalize(query: &Map<String, Value>) -> Result<Map<String, Value>, MbqlError> {
    object(query, None, 0)
}

fn too_deep(path: &Path, depth: usize) -> Result<(), MbqlError> {
    if depth > MAX_DEPTH {
        return Err(path.malformed(format!("nested more than {MAX_DEPTH} levels deep")));
    }
    Ok(())
}

fn object(
    map: &Map<String, Value>,
    parent: Option<&Path>,
    depth: usize,
) -> Result<Map<String, Value>, MbqlError> {
    let mut out = Map::new();
    for (k, v) in map {
        let key = if k.starts_with("lib/") {
            k.clone()
        } else {
            token(k).into_owned()
        };
        let path = match parent {
            Some(p) => p.key(&key),
            None => Path::root(&key),
        };
        let value = if key.starts_with("lib/") || VERBATIM.contains(&key.as_str()) {
            v.clone()
        } else if key == "expressions" && v.is_object() {
            named(v, &path, depth)?
        } else {
            walk(v, &path, depth)?
        };
        out.insert(key, value);
    }
    Ok(out)
}

/// A legacy `expressions` map: names as written, definitions normalised.
fn named(v: &Value, path: &Path, depth: usize) -> Result<Value, MbqlError> {
    too_deep(path, depth + 1)?;
    let mut out = Map::new();
    if let Value::Object(map) = v {
        for (name, definition) in map {
            out.insert(name.clone(), walk(definition, &path.key(name), depth + 1)?);
        }
    }
    Ok(Value::Object(out))
}

fn walk(v: &Value, path: &Path, depth: usize) -> Result<Value, MbqlError> {
    match v {
        Value::Object(map) => {
            too_deep(path, depth + 1)?;
            Ok(Value::Object(object(map, Some(path), depth + 1)?))
        }
        Value::Array(items) => {
            too_deep(path, depth + 1)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(match (i, item) {
                    // An array with a string head is a clause: only its name is a token.
                    (0, Value::String(op)) => Value::String(token(op).into_owned()),
                    _ => walk(item, &path.index(i), depth + 1)?,
                });
            }
            Ok(Value::Array(old_spelling(&out).unwrap_or(out)))
        }
        scalar => Ok(scalar.clone()),
    }
}

/// `["field", id, {options}]` in place of an old spelling, when its shape fits; otherwise the
/// parser reports the clause.
fn old_spelling(items: &[Value]) -> Option<Vec<Value>> {
    let (Value::String(op), args) = items.split_first()? else {
        return None;
    };
    match (op.as_str(), args) {
        ("field-id", [id]) => Some(field_id(id)),
        ("field-literal", [Value::String(name), base_type @ Value::String(_)]) => {
            let mut options = Map::new();
            options.insert("base-type".into(), base_type.clone());
            Some(field(Value::String(name.clone()), options))
        }
        ("fk->", [fk, target]) => {
            let (fk, _) = as_field(fk)?;
            with_option(target, "source-field", fk)
        }
        ("joined-field", [alias @ Value::String(_), target]) => {
            with_option(target, "join-alias", alias.clone())
        }
        ("datetime-field", [target, unit])
        | ("datetime-field", [target, Value::String(_), unit]) => {
            with_option(target, "temporal-unit", unit.clone())
        }
        ("binning-strategy", [target, Value::String(strategy), rest @ ..]) => {
            with_option(target, "binning", binning(strategy, rest)?)
        }
        _ => None,
    }
}

fn field(id: Value, options: Map<String, Value>) -> Vec<Value> {
    vec![Value::String("field".into()), id, Value::Object(options)]
}

fn field_id(id: &Value) -> Vec<Value> {
    match as_field(id) {
        Some((id, options)) => field(id, options),
        None => field(id.clone(), Map::new()),
    }
}

/// The id (or name) and options of a field reference: a bare id [compat: MBQL 95] or a legacy
/// `["field", x, options-or-null]`.
fn as_field(v: &Value) -> Option<(Value, Map<String, Value>)> {
    match v {
        Value::Number(_) => Some((v.clone(), Map::new())),
        Value::Array(items) => match items.as_slice() {
            [Value::String(op), id, Value::Object(options)] if op == "field" => {
                Some((id.clone(), options.clone()))
            }
            [Value::String(op), id] | [Value::String(op), id, Value::Null] if op == "field" => {
                Some((id.clone(), Map::new()))
            }
            _ => None,
        },
        _ => None,
    }
}

fn with_option(target: &Value, key: &str, value: Value) -> Option<Vec<Value>> {
    let (id, mut options) = as_field(target)?;
    options.insert(key.into(), value);
    Some(field(id, options))
}

/// `["binning-strategy", ref, strategy, param?, options?]` as a `binning` option.
fn binning(strategy: &str, rest: &[Value]) -> Option<Value> {
    let strategy = token(strategy).into_owned();
    let mut out = Map::new();
    out.insert("strategy".into(), Value::String(strategy.clone()));
    let (param, extra) = match rest {
        [] => (None, None),
        [param] => (Some(param), None),
        [param, Value::Object(extra)] => (Some(param), Some(extra)),
        _ => return None,
    };
    if let Some(param) = param.filter(|p| !p.is_null()) {
        out.insert(strategy, param.clone());
    }
    if let Some(extra) = extra {
        out.extend(
            extra
                .iter()
                .map(|(k, v)| (token(k).into_owned(), v.clone())),
        );
    }
    Some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn norm(v: Value) -> Value {
        Value::Object(normalize(v.as_object().unwrap()).unwrap())
    }

    #[test]
    fn keys_and_clause_names_become_tokens_values_do_not() {
        let q = norm(json!({"database": 1, "TYPE": "query",
            "Query": {"Source_Table": 2, "AGGREGATION": [["COUNT"]],
                      "Order_By": [["DESC", ["Aggregation", 0]]],
                      "filter": ["=", ["FIELD", 3, {"Join_Alias": "My_Join", "lib/uuid": "A_B"}], "COUNT", "X_Y"],
                      "breakout": [["field", 4, {"TEMPORAL_UNIT": "Month"}]]}}));
        assert_eq!(
            q,
            json!({"database": 1, "type": "query",
                "query": {"source-table": 2, "aggregation": [["count"]],
                          "order-by": [["desc", ["aggregation", 0]]],
                          "filter": ["=", ["field", 3, {"join-alias": "My_Join", "lib/uuid": "A_B"}], "COUNT", "X_Y"],
                          "breakout": [["field", 4, {"temporal-unit": "Month"}]]}})
        );
    }

    #[test]
    fn user_names_and_opaque_parts_are_kept() {
        let q = norm(json!({"query": {
            "expressions": {"Net_Total": ["-", ["field", 1, null], 2], "UPPER": ["upper", "x"]},
            "source-query": {"native": "SELECT 1", "template-tags": {"My_Tag": {"Display_Name": "x"}}},
            "source-metadata": [{"Base_Type": "type/Text"}]},
            "parameters": [{"Target": 1}],
            "lib/type": "mbql/query"}));
        assert_eq!(
            q,
            json!({"query": {
                "expressions": {"Net_Total": ["-", ["field", 1, null], 2], "UPPER": ["upper", "x"]},
                "source-query": {"native": "SELECT 1", "template-tags": {"My_Tag": {"Display_Name": "x"}}},
                "source-metadata": [{"Base_Type": "type/Text"}]},
                "parameters": [{"Target": 1}],
                "lib/type": "mbql/query"})
        );
        let v5 = norm(
            json!({"stages": [{"expressions": [["+", {"lib/expression-name": "A_b"}, 1, 2]]}]}),
        );
        assert_eq!(
            v5,
            json!({"stages": [{"expressions": [["+", {"lib/expression-name": "A_b"}, 1, 2]]}]})
        );
    }

    #[test]
    fn old_spellings_become_field_clauses() {
        let cases = [
            (json!(["field-id", 10]), json!(["field", 10, {}])),
            (json!(["field_id", 10]), json!(["field", 10, {}])),
            (
                json!(["field-literal", "TOTAL", "type/Float"]),
                json!(["field", "TOTAL", {"base-type": "type/Float"}]),
            ),
            (
                json!(["fk->", ["field-id", 1], ["field-id", 2]]),
                json!(["field", 2, {"source-field": 1}]),
            ),
            (
                json!(["fk->", 1, ["field", 2, null]]),
                json!(["field", 2, {"source-field": 1}]),
            ),
            (
                json!(["joined-field", "P", ["field", 2, {"temporal-unit": "day"}]]),
                json!(["field", 2, {"temporal-unit": "day", "join-alias": "P"}]),
            ),
            (
                json!(["datetime-field", ["field-id", 3], "month"]),
                json!(["field", 3, {"temporal-unit": "month"}]),
            ),
            (
                json!(["datetime-field", ["field-id", 3], "as", "month"]),
                json!(["field", 3, {"temporal-unit": "month"}]),
            ),
            (
                json!(["binning-strategy", ["field-id", 4], "num-bins", 10]),
                json!(["field", 4, {"binning": {"strategy": "num-bins", "num-bins": 10}}]),
            ),
            (
                json!(["binning-strategy", ["field-id", 4], "BIN_WIDTH", 2.5]),
                json!(["field", 4, {"binning": {"strategy": "bin-width", "bin-width": 2.5}}]),
            ),
            (
                json!(["binning-strategy", ["field-id", 4], "default"]),
                json!(["field", 4, {"binning": {"strategy": "default"}}]),
            ),
            (
                json!([
                    "datetime-field",
                    ["joined-field", "J", ["fk->", 1, 2]],
                    "year"
                ]),
                json!(["field", 2, {"source-field": 1, "join-alias": "J", "temporal-unit": "year"}]),
            ),
            // Shapes that do not fit are left for the parser to report.
            (json!(["fk->", "x", 2]), json!(["fk->", "x", 2])),
            (json!(["field-id"]), json!(["field-id"])),
        ];
        for (old, new) in cases {
            let q = norm(json!({"query": {"breakout": [old.clone()]}}));
            assert_eq!(q["query"]["breakout"][0], new, "{old}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_with_a_path() {
        let mut v = json!(1);
        for _ in 0..200 {
            v = Value::Array(vec![json!("not"), v]);
        }
        let e = normalize(json!({"query": {"filter": v}}).as_object().unwrap()).unwrap_err();
        let MbqlError::Malformed { path, what } = e else {
            panic!("not malformed")
        };
        assert!(path.starts_with("query.filter[1][1]"), "{path}");
        assert_eq!(what, "nested more than 64 levels deep");
        // 64 levels below the query object are fine, 65 are not.
        let nest = |levels: usize| {
            let mut v = json!(1);
            for _ in 0..levels {
                v = Value::Array(vec![v]);
            }
            json!({ "query": v })
        };
        assert!(normalize(nest(64).as_object().unwrap()).is_ok());
        assert!(normalize(nest(65).as_object().unwrap()).is_err());
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        let q = json!({"Query": {"Source_Table": 1,
            "breakout": [["datetime-field", ["fk->", ["field-id", 1], ["field-id", 2]], "Month"]],
            "expressions": {"A_B": ["+", 1, 2]}}});
        let once = norm(q);
        assert_eq!(norm(once.clone()), once);
    }
}
