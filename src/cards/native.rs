//! The native part of a query object (queries.md §3.1): the SQL and template tags of a legacy
//! `native` query or of a single native pMBQL stage. Cards read it to describe their query
//! (`result_metadata`); `crate::queries` to run one.
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Native {
    pub sql: String,
    pub tags: Map<String, Value>,
}

/// The SQL and tags of a native query object, if it is one (legacy or single native stage).
pub fn native_part(q: &Map<String, Value>) -> Option<Native> {
    if q.get("lib/type").and_then(Value::as_str) == Some("mbql/query") {
        let stages = q.get("stages")?.as_array()?;
        let [stage] = stages.as_slice() else {
            return None;
        };
        if stage.get("lib/type").and_then(Value::as_str) != Some("mbql.stage/native") {
            return None;
        }
        return Some(Native {
            sql: stage.get("native")?.as_str()?.to_string(),
            tags: tags(stage.get("template-tags")),
        });
    }
    if q.get("type").and_then(Value::as_str) != Some("native") {
        return None;
    }
    let native = q.get("native")?.as_object()?;
    Some(Native {
        sql: native.get("query")?.as_str()?.to_string(),
        tags: tags(native.get("template-tags")),
    })
}

fn tags(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}
