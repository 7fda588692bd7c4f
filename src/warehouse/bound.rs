//! Parameter values bound to a statement (never spliced into its text).
use serde_json::Value;

/// A bound parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Bound {
    pub fn to_value(&self) -> Value {
        match self {
            Bound::Text(s) => Value::String(s.clone()),
            Bound::Int(i) => Value::from(*i),
            Bound::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Bound::Bool(b) => Value::Bool(*b),
        }
    }
}
