//! A legacy query object written as MBQL 5 (mbql.md §1.2–§1.6; serialization.md §4.6 writes every
//! `dataset_query` this way): one stage per nesting level, innermost first; every clause
//! `[op, {options}, args…]` with a fresh `lib/uuid`; `filter` as a `filters` array;
//! `expressions` as an array named by `lib/expression-name`; joins with `stages` and
//! `conditions`; aggregation references by the aggregation's uuid. The result parses to the
//! same model as the original ([`super::parse`]), which the tests check.
//!
//! It works on the normalised query (§1.7), so old spellings come out in today's form; a query
//! that does not normalise is refused with the parser's error.
use serde_json::{json, Map, Value};

use super::normalize::normalize;
use super::MbqlError;

/// Writes a legacy query object (MBQL or native) as MBQL 5; an MBQL 5 object is returned
/// normalised, otherwise unchanged.
pub fn legacy_to_v5(query: &Map<String, Value>) -> Result<Map<String, Value>, MbqlError> {
    let q = normalize(query)?;
    if q.get("lib/type").and_then(Value::as_str) == Some("mbql/query") {
        return Ok(q);
    }
    let mut out = Map::new();
    out.insert("lib/type".into(), json!("mbql/query"));
    out.insert(
        "database".into(),
        q.get("database").cloned().unwrap_or(Value::Null),
    );
    let stages = match q.get("type").and_then(Value::as_str) {
        Some("native") => vec![native_stage(q.get("native").unwrap_or(&Value::Null))],
        _ => {
            let mut ids = Uuids::default();
            stages(q.get("query").unwrap_or(&Value::Null), &mut ids)
        }
    };
    out.insert("stages".into(), Value::Array(stages));
    Ok(out)
}

/// Fresh uuids, deterministic within one conversion (`<n>` in a fixed uuid shape) so that an
/// export is reproducible.
#[derive(Default)]
struct Uuids(u64);

impl Uuids {
    fn next(&mut self) -> String {
        self.0 += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.0)
    }

    fn opts(&mut self, extra: Option<&Value>) -> Value {
        let mut m = Map::new();
        m.insert("lib/uuid".into(), json!(self.next()));
        if let Some(Value::Object(e)) = extra {
            for (k, v) in e {
                m.insert(k.clone(), v.clone());
            }
        }
        Value::Object(m)
    }
}

fn native_stage(native: &Value) -> Value {
    let mut s = Map::new();
    s.insert("lib/type".into(), json!("mbql.stage/native"));
    let sql = native.get("query").or_else(|| native.get("native"));
    s.insert("native".into(), sql.cloned().unwrap_or(Value::Null));
    if let Some(tags) = native.get("template-tags") {
        s.insert("template-tags".into(), tags.clone());
    }
    Value::Object(s)
}

/// The stages of a legacy inner query, innermost first.
fn stages(inner: &Value, ids: &mut Uuids) -> Vec<Value> {
    let mut out = match inner.get("source-query") {
        Some(sq) if sq.get("native").is_some() => vec![native_stage(sq)],
        Some(sq) => stages(sq, ids),
        None => Vec::new(),
    };
    out.push(stage(inner, ids));
    out
}

fn source_of(inner: &Value, s: &mut Map<String, Value>) {
    match inner.get("source-table") {
        Some(Value::String(card)) => {
            let id = card
                .strip_prefix("card__")
                .and_then(|n| n.parse::<i64>().ok())
                .map(Value::from)
                .unwrap_or_else(|| json!(card));
            s.insert("source-card".into(), id);
        }
        Some(t) => {
            s.insert("source-table".into(), t.clone());
        }
        None => {}
    }
}

/// Top-level parts of an `and`, else the clause alone.
fn and_parts(f: &Value) -> Vec<&Value> {
    match f.as_array() {
        Some(a) if a.first().and_then(Value::as_str) == Some("and") => a[1..].iter().collect(),
        _ => vec![f],
    }
}

fn stage(inner: &Value, ids: &mut Uuids) -> Value {
    let mut s = Map::new();
    s.insert("lib/type".into(), json!("mbql.stage/mbql"));
    source_of(inner, &mut s);
    let aggregations: Vec<Value> = inner
        .get("aggregation")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let agg_uuids: Vec<String> = aggregations.iter().map(|_| ids.next()).collect();
    let cx = Cx {
        agg_uuids: &agg_uuids,
    };
    if let Some(Value::Array(joins)) = inner.get("joins") {
        let js: Vec<Value> = joins.iter().map(|j| join(j, &cx, ids)).collect();
        s.insert("joins".into(), Value::Array(js));
    }
    if let Some(Value::Object(exprs)) = inner.get("expressions") {
        let list = exprs
            .iter()
            .map(|(name, e)| {
                let mut c = match cx.clause(e, ids) {
                    Value::Array(c) if e.is_array() => c,
                    lit => vec![json!("value"), ids.opts(None), lit],
                };
                if let Some(Value::Object(o)) = c.get_mut(1) {
                    o.insert("lib/expression-name".into(), json!(name));
                }
                Value::Array(c)
            })
            .collect();
        s.insert("expressions".into(), Value::Array(list));
    }
    if let Some(f) = inner.get("filter").filter(|f| !f.is_null()) {
        let fs = and_parts(f)
            .into_iter()
            .map(|p| cx.clause(p, ids))
            .collect();
        s.insert("filters".into(), Value::Array(fs));
    }
    for key in ["fields", "breakout"] {
        if let Some(Value::Array(refs)) = inner.get(key) {
            let v = refs.iter().map(|r| cx.clause(r, ids)).collect();
            s.insert(key.into(), Value::Array(v));
        }
    }
    if !aggregations.is_empty() {
        let v = aggregations
            .iter()
            .zip(&agg_uuids)
            .map(|(a, u)| cx.aggregation(a, u, ids))
            .collect();
        s.insert("aggregation".into(), Value::Array(v));
    }
    if let Some(Value::Array(order)) = inner.get("order-by") {
        let v = order.iter().map(|o| cx.clause(o, ids)).collect();
        s.insert("order-by".into(), Value::Array(v));
    }
    for key in ["limit", "page"] {
        if let Some(v) = inner.get(key) {
            s.insert(key.into(), v.clone());
        }
    }
    Value::Object(s)
}

fn join(j: &Value, cx: &Cx<'_>, ids: &mut Uuids) -> Value {
    let mut out = Map::new();
    out.insert("lib/type".into(), json!("mbql/join"));
    for key in ["alias", "strategy"] {
        if let Some(v) = j.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    let fields = match j.get("fields") {
        Some(Value::Array(refs)) => Value::Array(refs.iter().map(|r| cx.clause(r, ids)).collect()),
        Some(v) => v.clone(),
        None => json!("none"),
    };
    out.insert("fields".into(), fields);
    let conditions: Vec<Value> = match j.get("condition").filter(|c| !c.is_null()) {
        Some(c) => and_parts(c)
            .into_iter()
            .map(|p| cx.clause(p, ids))
            .collect(),
        None => Vec::new(),
    };
    out.insert("conditions".into(), Value::Array(conditions));
    let joined = match j.get("source-query") {
        Some(sq) => stages(sq, ids),
        None => {
            let mut s = Map::new();
            s.insert("lib/type".into(), json!("mbql.stage/mbql"));
            source_of(j, &mut s);
            vec![Value::Object(s)]
        }
    };
    out.insert("stages".into(), Value::Array(joined));
    Value::Object(out)
}

/// Clauses whose legacy form ends with an options map.
const TRAILING_OPTIONS: &[&str] = &[
    "contains",
    "does-not-contain",
    "starts-with",
    "ends-with",
    "time-interval",
    "field",
    "expression",
    "value",
];

struct Cx<'a> {
    agg_uuids: &'a [String],
}

impl Cx<'_> {
    fn aggregation(&self, a: &Value, uuid: &str, ids: &mut Uuids) -> Value {
        if let Some(items) = a.as_array() {
            if items.first().and_then(Value::as_str) == Some("aggregation-options") {
                let mut inner = match self.clause(items.get(1).unwrap_or(&Value::Null), ids) {
                    Value::Array(c) => c,
                    other => return other,
                };
                if let (Some(Value::Object(o)), Some(Value::Object(names))) =
                    (inner.get_mut(1), items.get(2))
                {
                    for (k, v) in names {
                        o.insert(k.clone(), v.clone());
                    }
                    o.insert("lib/uuid".into(), json!(uuid));
                }
                return Value::Array(inner);
            }
        }
        match self.clause(a, ids) {
            Value::Array(mut c) => {
                if let Some(Value::Object(o)) = c.get_mut(1) {
                    o.insert("lib/uuid".into(), json!(uuid));
                }
                Value::Array(c)
            }
            other => other,
        }
    }

    /// A legacy clause as MBQL 5; values that are not clauses are returned as they are.
    fn clause(&self, v: &Value, ids: &mut Uuids) -> Value {
        let Some(items) = v.as_array() else {
            return v.clone();
        };
        let Some(op) = items.first().and_then(Value::as_str) else {
            return v.clone();
        };
        let args = &items[1..];
        match op {
            "aggregation" => {
                let uuid = args
                    .first()
                    .and_then(Value::as_u64)
                    .and_then(|i| self.agg_uuids.get(i as usize).cloned())
                    .map(Value::from)
                    .unwrap_or_else(|| args.first().cloned().unwrap_or(Value::Null));
                json!(["aggregation", ids.opts(None), uuid])
            }
            "case" | "if" => {
                let branches: Vec<Value> = args
                    .first()
                    .and_then(Value::as_array)
                    .map(|bs| {
                        bs.iter()
                            .map(|b| match b.as_array().map(Vec::as_slice) {
                                Some([p, e]) => json!([self.clause(p, ids), self.clause(e, ids)]),
                                _ => b.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let mut out = vec![json!(op), ids.opts(None), Value::Array(branches)];
                if let Some(d) = args.get(1).and_then(|o| o.get("default")) {
                    out.push(self.clause(d, ids));
                }
                Value::Array(out)
            }
            _ => {
                let (args, extra) = match args.split_last() {
                    Some((last, rest))
                        if TRAILING_OPTIONS.contains(&op)
                            && (last.is_object() || last.is_null()) =>
                    {
                        (rest, Some(last))
                    }
                    _ => (args, None),
                };
                let mut out = vec![json!(op), ids.opts(extra)];
                let keep_raw = matches!(op, "field" | "expression" | "value");
                out.extend(args.iter().map(|a| {
                    if keep_raw {
                        a.clone()
                    } else {
                        self.clause(a, ids)
                    }
                }));
                Value::Array(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_model(legacy: Value) {
        let l = crate::mbql::parse(legacy.as_object().unwrap()).expect("legacy parses");
        let converted = Value::Object(legacy_to_v5(legacy.as_object().unwrap()).unwrap());
        let v = crate::mbql::parse(converted.as_object().unwrap())
            .unwrap_or_else(|e| panic!("{e}: {converted}"));
        assert_eq!(l, v, "\nlegacy: {legacy}\nMBQL 5: {converted}");
    }

    #[test]
    fn every_clause_family_keeps_its_meaning() {
        let f = |id: i64| json!(["field", id, null]);
        same_model(json!({"database": 1, "type": "query", "query": {
            "source-query": {"source-table": 1, "joins": [
                {"source-table": 2, "alias": "P", "strategy": "inner-join", "fields": [["field", 21, {"join-alias": "P"}]],
                 "condition": ["and", ["=", f(12), ["field", 20, {"join-alias": "P"}]], [">", f(14), 0]]},
                {"source-table": "card__7", "alias": "C", "fields": "all",
                 "condition": ["=", f(10), ["field", "ID", {"base-type": "type/Integer", "join-alias": "C"}]]}],
              "expressions": {"Net": ["-", f(14), ["coalesce", f(15), 0]], "One": 1,
                              "Size": ["case", [[[">", f(14), 100], "big"]], {"default": "small"}],
                              "Later": ["datetime-add", f(16), 3, "month"]},
              "filter": ["and", ["time-interval", f(16), -3, "year", {"include-current": true}],
                                ["contains", ["field", 22, {"source-field": 12}], "a", {"case-sensitive": false}],
                                ["or", ["is-null", f(15)], ["not", ["starts-with", ["expression", "Size"], "b"]]],
                                ["between", f(16), "2024-01-01", ["relative-datetime", -1, "month"]]],
              "aggregation": [["count"], ["aggregation-options", ["sum", ["expression", "Net"]], {"name": "net", "display-name": "Net"}],
                              ["share", [">", f(13), 2]]],
              "breakout": [["field", 16, {"temporal-unit": "month"}],
                           ["field", 23, {"source-field": 12, "binning": {"strategy": "num-bins", "num-bins": 10}}]],
              "order-by": [["desc", ["aggregation", 1]], ["asc", ["field", 16, {"temporal-unit": "month"}]]],
              "page": {"page": 2, "items": 10}},
            "filter": [">", ["field", "count", {"base-type": "type/BigInteger"}], 3],
            "limit": 5}}));
        // A native source query, and the old spellings.
        same_model(json!({"database": 1, "type": "query", "query": {
            "source-query": {"native": "SELECT 1 AS x", "template-tags": {}},
            "fields": [["field-literal", "x", "type/Integer"]]}}));
        same_model(
            json!({"database": 1, "type": "query", "query": {"source-table": 1,
            "breakout": [["datetime-field", ["field-id", 16], "year"]],
            "aggregation": [["count"]]}}),
        );
    }

    #[test]
    fn native_queries_become_one_native_stage() {
        let q = json!({"database": 3, "type": "native",
                       "native": {"query": "SELECT {{x}}", "template-tags": {"x": {"type": "text"}}}});
        let v = Value::Object(legacy_to_v5(q.as_object().unwrap()).unwrap());
        assert_eq!(
            v,
            json!({"lib/type": "mbql/query", "database": 3, "stages": [
            {"lib/type": "mbql.stage/native", "native": "SELECT {{x}}",
             "template-tags": {"x": {"type": "text"}}}]})
        );
    }
}
