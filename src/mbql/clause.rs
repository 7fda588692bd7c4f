//! One clause shape for both forms. A legacy clause `[op, arg…]` keeps its options in a form-
//! specific place (`["field", id, opts]`, a trailing `{"case-sensitive": …}`, `case`'s
//! `{"default": …}`); an MBQL 5 clause is `[op, {options}, arg…]`. [`Clause::read`] finds the
//! options and the arguments, so the builders of the model are written once. Also the small
//! readers of scalar arguments (ids, integers, strings) with their error messages.
use serde_json::{Map, Value};

use super::error::{MbqlError, Path};

/// Which form the query was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// MBQL 4: `"type": "query"`.
    Legacy,
    /// MBQL 5: `"lib/type": "mbql/query"`; every clause carries an options map.
    V5,
}

/// A clause read from normalised JSON.
pub(crate) struct Clause<'v, 'p> {
    pub op: &'v str,
    options: Option<&'v Map<String, Value>>,
    pub args: &'v [Value],
    /// The JSON index of `args[0]` in the clause array.
    arg_base: usize,
    pub path: &'p Path<'p>,
    pub form: Form,
}

/// A map entry, `null` counting as absent [compat: Metabase drops `nil` clauses].
pub(crate) fn get<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    map.get(key).filter(|v| !v.is_null())
}

impl<'v, 'p> Clause<'v, 'p> {
    /// Reads a clause; `expected` names what the position wants ("a filter clause").
    pub fn read(
        v: &'v Value,
        path: &'p Path<'p>,
        form: Form,
        expected: &str,
    ) -> Result<Self, MbqlError> {
        let Some((Value::String(op), rest)) = v.as_array().and_then(|a| a.split_first()) else {
            return Err(path.malformed(format!("expected {expected}")));
        };
        let (options, args, arg_base) = match rest.split_first() {
            // MBQL 5 shape, also accepted in legacy queries (the 0.50+ query builder writes
            // string filters that way).
            Some((Value::Object(options), args)) => (Some(options), args, 2),
            _ if form == Form::V5 => {
                return Err(path.malformed(format!(
                    "\"{op}\" needs an options map as its second element"
                )))
            }
            _ => {
                let (options, args) = legacy_options(op, rest);
                (options, args, 1)
            }
        };
        Ok(Clause {
            op,
            options,
            args,
            arg_base,
            path,
            form,
        })
    }

    /// An option, `null` counting as absent.
    pub fn option(&self, key: &str) -> Option<&'v Value> {
        self.options.and_then(|o| get(o, key))
    }

    /// A string option (`join-alias`, `name`, …).
    pub fn string_option(&self, key: &str) -> Result<Option<&'v str>, MbqlError> {
        match self.option(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.malformed(format!("option \"{key}\" must be a string"))),
        }
    }

    /// A boolean option with its default.
    pub fn bool_option(&self, key: &str, default: bool) -> Result<bool, MbqlError> {
        match self.option(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.malformed(format!("option \"{key}\" must be true or false"))),
        }
    }

    pub fn malformed(&self, what: impl Into<String>) -> MbqlError {
        self.path.malformed(what)
    }

    pub fn arg_path(&self, i: usize) -> Path<'p> {
        self.path.index(self.arg_base + i)
    }

    /// The arguments, when there are `min` to `max` (`None`: no upper bound) of them.
    pub fn arity(&self, min: usize, max: Option<usize>) -> Result<&'v [Value], MbqlError> {
        let n = self.args.len();
        if n >= min && max.is_none_or(|max| n <= max) {
            return Ok(self.args);
        }
        let (want, last) = match max {
            Some(max) if max == min => (min.to_string(), max),
            Some(max) => (format!("{min} to {max}"), max),
            None => (format!("at least {min}"), min),
        };
        let plural = if last == 1 { "" } else { "s" };
        Err(self.malformed(format!(
            "\"{}\" takes {want} argument{plural}, not {n}",
            self.op
        )))
    }

    pub fn exactly(&self, n: usize) -> Result<&'v [Value], MbqlError> {
        self.arity(n, Some(n))
    }

    /// Builds argument `i` with `f`.
    pub fn parse_arg<T>(
        &self,
        i: usize,
        f: impl FnOnce(&'v Value, &Path, Form) -> Result<T, MbqlError>,
    ) -> Result<T, MbqlError> {
        let path = self.arg_path(i);
        f(&self.args[i], &path, self.form)
    }

    /// Builds the arguments from index `from` on with `f`.
    pub fn parse_args<T>(
        &self,
        from: usize,
        mut f: impl FnMut(&'v Value, &Path, Form) -> Result<T, MbqlError>,
    ) -> Result<Vec<T>, MbqlError> {
        (from..self.args.len())
            .map(|i| self.parse_arg(i, &mut f))
            .collect()
    }
}

/// Where a legacy clause keeps its options: the third element of a reference or `value`
/// (`null` meaning none), otherwise a trailing map.
fn legacy_options<'v>(
    op: &str,
    rest: &'v [Value],
) -> (Option<&'v Map<String, Value>>, &'v [Value]) {
    if matches!(op, "field" | "expression" | "aggregation" | "value") && rest.len() == 2 {
        match &rest[1] {
            Value::Object(options) => return (Some(options), &rest[..1]),
            Value::Null => return (None, &rest[..1]),
            _ => {}
        }
    }
    match rest.split_last() {
        Some((Value::Object(options), args)) => (Some(options), args),
        _ => (None, rest),
    }
}

/// A positive integer id (table, field, card, database).
pub(crate) fn positive_id(v: &Value, path: &Path) -> Result<i64, MbqlError> {
    v.as_i64()
        .filter(|id| *id > 0)
        .ok_or_else(|| path.malformed("expected a positive integer id"))
}

/// An integer that fits 64 bits.
pub(crate) fn integer(v: &Value, path: &Path) -> Result<i64, MbqlError> {
    v.as_i64()
        .ok_or_else(|| path.malformed("expected an integer"))
}

/// An integer ≥ 0.
pub(crate) fn non_negative(v: &Value, path: &Path) -> Result<u64, MbqlError> {
    v.as_u64()
        .ok_or_else(|| path.malformed("expected an integer ≥ 0"))
}

pub(crate) fn string<'v>(v: &'v Value, path: &Path) -> Result<&'v str, MbqlError> {
    v.as_str()
        .ok_or_else(|| path.malformed("expected a string"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_shapes_give_the_same_clause() {
        let root = Path::root("query");
        let legacy = json!(["contains", ["field", 1, null], "a", {"case-sensitive": false}]);
        let v5 = json!(["contains", {"case-sensitive": false}, ["field", {}, 1], "a"]);
        let l = Clause::read(&legacy, &root, Form::Legacy, "a filter").unwrap();
        let f = Clause::read(&v5, &root, Form::V5, "a filter").unwrap();
        assert_eq!(l.args.len(), 2);
        assert_eq!(f.args.len(), 2);
        assert_eq!(l.option("case-sensitive"), Some(&json!(false)));
        assert_eq!(f.option("case-sensitive"), Some(&json!(false)));
        assert_eq!(l.arg_path(1).render(), "query[2]");
        assert_eq!(f.arg_path(1).render(), "query[3]");
    }

    #[test]
    fn legacy_reference_options_may_be_null() {
        let root = Path::root("x");
        let v = json!(["field", 1, null]);
        let c = Clause::read(&v, &root, Form::Legacy, "a reference").unwrap();
        assert_eq!(c.args, &[json!(1)]);
        assert!(c.option("join-alias").is_none());
        // `null` is a value, not options, elsewhere.
        let v = json!(["=", ["field", 1, null], null]);
        let c = Clause::read(&v, &root, Form::Legacy, "a filter").unwrap();
        assert_eq!(c.args.len(), 2);
    }

    #[test]
    fn mbql5_requires_options() {
        let root = Path::root("stages");
        let v = json!(["count"]);
        let e = Clause::read(&v, &root, Form::V5, "an aggregation")
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "Invalid query: stages: \"count\" needs an options map as its second element."
        );
        let e = Clause::read(&json!(5), &root, Form::V5, "an aggregation clause")
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "Invalid query: stages: expected an aggregation clause."
        );
    }

    #[test]
    fn arity_messages() {
        let root = Path::root("q");
        let v = json!(["between", 1]);
        let c = Clause::read(&v, &root, Form::Legacy, "x").unwrap();
        assert_eq!(
            c.exactly(3).unwrap_err().to_string(),
            "Invalid query: q: \"between\" takes 3 arguments, not 1."
        );
        assert_eq!(
            c.arity(2, None).unwrap_err().to_string(),
            "Invalid query: q: \"between\" takes at least 2 arguments, not 1."
        );
        assert_eq!(
            c.arity(2, Some(3)).unwrap_err().to_string(),
            "Invalid query: q: \"between\" takes 2 to 3 arguments, not 1."
        );
        let v = json!(["not"]);
        let c = Clause::read(&v, &root, Form::Legacy, "x").unwrap();
        assert_eq!(
            c.exactly(1).unwrap_err().to_string(),
            "Invalid query: q: \"not\" takes 1 argument, not 0."
        );
    }
}
