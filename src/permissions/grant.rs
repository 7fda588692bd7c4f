//! The values of `view-data` and `create-queries` (people-and-groups.md §9.1, data-model.md
//! §4.1): plain for a whole database, or granular, per schema and per table. Values are ordered
//! from least to most permissive, so "the most permissive among a user's groups" is `max`.
use std::collections::BTreeMap;

use serde_json::Value;

/// One value of a permission key.
pub trait Level: Copy + Ord + std::fmt::Debug + 'static {
    /// The value a schema or table absent from a granular map gets.
    const LEAST: Self;
    /// Every value, least permissive first.
    const ALL: &'static [Self];
    /// The graph's name of the value.
    fn as_str(self) -> &'static str;
    /// Whether the value may appear inside a granular map.
    fn granular(self) -> bool {
        true
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|l| l.as_str() == s)
    }
}

/// `view-data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ViewData {
    Blocked,
    Unrestricted,
}

impl Level for ViewData {
    const LEAST: Self = ViewData::Blocked;
    const ALL: &'static [Self] = &[ViewData::Blocked, ViewData::Unrestricted];

    fn as_str(self) -> &'static str {
        match self {
            ViewData::Blocked => "blocked",
            ViewData::Unrestricted => "unrestricted",
        }
    }
}

/// `create-queries`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CreateQueries {
    No,
    QueryBuilder,
    QueryBuilderAndNative,
}

impl Level for CreateQueries {
    const LEAST: Self = CreateQueries::No;
    const ALL: &'static [Self] = &[
        CreateQueries::No,
        CreateQueries::QueryBuilder,
        CreateQueries::QueryBuilderAndNative,
    ];

    fn as_str(self) -> &'static str {
        match self {
            CreateQueries::No => "no",
            CreateQueries::QueryBuilder => "query-builder",
            CreateQueries::QueryBuilderAndNative => "query-builder-and-native",
        }
    }

    /// Native querying is granted per database only.
    fn granular(self) -> bool {
        self != CreateQueries::QueryBuilderAndNative
    }
}

/// A key's value for one group and database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant<L> {
    /// The whole database.
    Plain(L),
    /// Per schema name (`""` without schemas); absent schemas get [`Level::LEAST`].
    Schemas(BTreeMap<String, SchemaGrant<L>>),
}

/// A schema's entry in a granular value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaGrant<L> {
    /// Every table of the schema.
    Plain(L),
    /// Per table id; absent tables get [`Level::LEAST`].
    Tables(BTreeMap<i64, L>),
}

impl<L: Level> Grant<L> {
    /// The value for table `table_id` of `schema` (data-model.md §4.1's effective value).
    pub fn of_table(&self, schema: &str, table_id: i64) -> L {
        match self {
            Grant::Plain(l) => *l,
            Grant::Schemas(s) => match s.get(schema) {
                None => L::LEAST,
                Some(SchemaGrant::Plain(l)) => *l,
                Some(SchemaGrant::Tables(t)) => t.get(&table_id).copied().unwrap_or(L::LEAST),
            },
        }
    }

    /// The value at a position that may be coarser than a table: the whole database
    /// (`schema` `None`), a whole schema (`table_id` `None`) or one table. `None` when the value
    /// differs inside that position.
    pub fn at(&self, schema: Option<&str>, table_id: Option<i64>) -> Option<L> {
        match (self, schema, table_id) {
            (Grant::Plain(l), _, _) => Some(*l),
            (Grant::Schemas(_), None, _) => None,
            (Grant::Schemas(_), Some(s), Some(t)) => Some(self.of_table(s, t)),
            (Grant::Schemas(m), Some(s), None) => match m.get(s) {
                None => Some(L::LEAST),
                Some(SchemaGrant::Plain(l)) => Some(*l),
                Some(SchemaGrant::Tables(_)) => None,
            },
        }
    }

    /// The plain value, if the grant is plain.
    pub fn plain(&self) -> Option<L> {
        match self {
            Grant::Plain(l) => Some(*l),
            Grant::Schemas(_) => None,
        }
    }

    /// Whether some schema or table is granted at least `level`.
    pub fn reaches(&self, level: L) -> bool {
        match self {
            Grant::Plain(l) => *l >= level,
            Grant::Schemas(m) => m.values().any(|s| match s {
                SchemaGrant::Plain(l) => *l >= level,
                SchemaGrant::Tables(t) => t.values().any(|l| *l >= level),
            }),
        }
    }

    /// The schema names and table ids the value names.
    pub fn positions(&self) -> Vec<(&str, Option<i64>)> {
        let Grant::Schemas(m) = self else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (schema, g) in m {
            out.push((schema.as_str(), None));
            if let SchemaGrant::Tables(t) = g {
                out.extend(t.keys().map(|id| (schema.as_str(), Some(*id))));
            }
        }
        out
    }

    /// The graph's JSON form.
    pub fn to_json(&self) -> Value {
        match self {
            Grant::Plain(l) => Value::String(l.as_str().into()),
            Grant::Schemas(m) => Value::Object(
                m.iter()
                    .map(|(schema, g)| {
                        let v = match g {
                            SchemaGrant::Plain(l) => Value::String(l.as_str().into()),
                            SchemaGrant::Tables(t) => Value::Object(
                                t.iter()
                                    .map(|(id, l)| {
                                        (id.to_string(), Value::String(l.as_str().into()))
                                    })
                                    .collect(),
                            ),
                        };
                        (schema.clone(), v)
                    })
                    .collect(),
            ),
        }
    }

    /// Reads the graph's JSON form; the error says what is wrong, for the graph's `400`.
    pub fn from_json(key: &str, v: &Value) -> Result<Self, String> {
        match v {
            Value::Object(m) => {
                let mut schemas = BTreeMap::new();
                for (schema, sv) in m {
                    schemas.insert(schema.clone(), schema_from_json(key, schema, sv)?);
                }
                Ok(Grant::Schemas(schemas))
            }
            other => Ok(Grant::Plain(level_from_json(key, other, false)?)),
        }
    }

    /// The stored form: the plain value's name, or the granular JSON text.
    pub fn to_db(&self) -> String {
        match self {
            Grant::Plain(l) => l.as_str().into(),
            Grant::Schemas(_) => self.to_json().to_string(),
        }
    }

    /// Reads the stored form. Text that does not read (never written by ferrobase) fails
    /// closed: the least permissive value.
    pub fn from_db(text: &str) -> Self {
        let parsed = if text.starts_with('{') {
            serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| Self::from_json("", &v).ok())
        } else {
            L::parse(text).map(Grant::Plain)
        };
        parsed.unwrap_or(Grant::Plain(L::LEAST))
    }
}

fn level_from_json<L: Level>(key: &str, v: &Value, granular: bool) -> Result<L, String> {
    let level = v.as_str().and_then(L::parse);
    match level {
        Some(l) if !granular || l.granular() => Ok(l),
        Some(l) => Err(format!(
            "{} is not allowed per schema or table for {key}",
            l.as_str()
        )),
        None => Err(format!("invalid value {v} for {key}")),
    }
}

fn schema_from_json<L: Level>(
    key: &str,
    schema: &str,
    v: &Value,
) -> Result<SchemaGrant<L>, String> {
    let Value::Object(tables) = v else {
        return Ok(SchemaGrant::Plain(level_from_json(key, v, true)?));
    };
    let mut out = BTreeMap::new();
    for (id, tv) in tables {
        let table_id = table_key(id)
            .ok_or_else(|| format!("invalid table id {id:?} in schema {schema:?} for {key}"))?;
        out.insert(table_id, level_from_json(key, tv, true)?);
    }
    Ok(SchemaGrant::Tables(out))
}

/// A table key: a positive integer in its canonical decimal form.
fn table_key(s: &str) -> Option<i64> {
    s.parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && id.to_string() == s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cq(v: Value) -> Result<Grant<CreateQueries>, String> {
        Grant::from_json("create-queries", &v)
    }

    #[test]
    fn plain_and_granular_values_round_trip_through_json_and_the_database() {
        for v in [
            json!("query-builder-and-native"),
            json!("no"),
            json!({"": {"3": "query-builder", "12": "no"}, "sales": "query-builder"}),
            json!({}),
        ] {
            let g = cq(v.clone()).expect("valid");
            assert_eq!(g.to_json(), v);
            assert_eq!(Grant::<CreateQueries>::from_db(&g.to_db()), g);
        }
    }

    #[test]
    fn effective_value_follows_schema_then_table_then_least() {
        let g =
            cq(json!({"public": {"12": "query-builder", "13": "no"}, "sales": "query-builder"}))
                .expect("valid");
        assert_eq!(g.of_table("public", 12), CreateQueries::QueryBuilder);
        assert_eq!(g.of_table("public", 13), CreateQueries::No);
        assert_eq!(g.of_table("public", 14), CreateQueries::No);
        assert_eq!(g.of_table("sales", 99), CreateQueries::QueryBuilder);
        assert_eq!(g.of_table("other", 1), CreateQueries::No);
        assert_eq!(g.at(Some("sales"), None), Some(CreateQueries::QueryBuilder));
        assert_eq!(g.at(Some("public"), None), None);
        assert_eq!(g.at(Some("absent"), None), Some(CreateQueries::No));
        assert_eq!(g.at(None, None), None);
        assert!(g.reaches(CreateQueries::QueryBuilder));
        assert!(!g.reaches(CreateQueries::QueryBuilderAndNative));
    }

    #[test]
    fn native_is_refused_inside_a_granular_value_but_not_plain() {
        assert!(cq(json!("query-builder-and-native")).is_ok());
        assert!(cq(json!({"": "query-builder-and-native"})).is_err());
        assert!(cq(json!({"": {"3": "query-builder-and-native"}})).is_err());
    }

    #[test]
    fn malformed_values_are_refused() {
        for v in [
            json!("write"),
            json!(1),
            json!(null),
            json!({"": {"x": "no"}}),
            json!({"": {"03": "no"}}),
            json!({"": {"-3": "no"}}),
            json!({"": {"3": {"4": "no"}}}),
            json!({"": ["no"]}),
        ] {
            assert!(cq(v.clone()).is_err(), "{v} accepted");
        }
    }

    #[test]
    fn stored_text_that_does_not_read_fails_closed() {
        assert_eq!(
            Grant::<ViewData>::from_db("garbage"),
            Grant::Plain(ViewData::Blocked)
        );
        assert_eq!(
            Grant::<ViewData>::from_db("{not json"),
            Grant::Plain(ViewData::Blocked)
        );
    }
}
