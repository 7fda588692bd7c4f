//! Template tags and optional clauses (queries.md §4.2, §4.3). Values are always bound, never
//! spliced: the result is a list of SQL pieces and parameters that the engine numbers (`?` for
//! SQLite, `$n` for Postgres). Referenced cards are loaded beforehand ([`CardSource`]), so
//! resolution itself is pure.
use std::collections::HashMap;

use serde_json::{Map, Value};

pub use crate::warehouse::bound::Bound;
use crate::warehouse::error::{ErrorType, QueryError};
use crate::warehouse::sqltext::Dialect;

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Sql(String),
    Param(Bound),
}

/// The statement to run: pieces of SQL with bound values between them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Statement {
    pieces: Vec<Piece>,
}

impl Statement {
    fn sql(&mut self, s: &str) {
        if let Some(Piece::Sql(last)) = self.pieces.last_mut() {
            last.push_str(s);
        } else {
            self.pieces.push(Piece::Sql(s.to_string()));
        }
    }

    /// The statement as native pieces for a subquery (mbql.md §1.6), trailing `;` and
    /// whitespace removed.
    pub fn native_pieces(&self) -> Vec<crate::mbql::sql::NativePiece> {
        use crate::mbql::sql::NativePiece;
        let mut out: Vec<NativePiece> = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Sql(s) => NativePiece::Sql(s.clone()),
                Piece::Param(b) => NativePiece::Param(b.clone()),
            })
            .collect();
        if let Some(NativePiece::Sql(last)) = out.last_mut() {
            let trimmed = last
                .trim_end()
                .trim_end_matches(|c: char| c == ';' || c.is_whitespace());
            last.truncate(trimmed.len());
        }
        out
    }

    /// The SQL with placeholders for `dialect`, and the values in order.
    pub fn render(&self, dialect: Dialect) -> (String, Vec<Bound>) {
        let mut sql = String::new();
        let mut params = Vec::new();
        for p in &self.pieces {
            match p {
                Piece::Sql(s) => sql.push_str(s),
                Piece::Param(b) => {
                    params.push(b.clone());
                    match dialect {
                        Dialect::Sqlite => sql.push('?'),
                        Dialect::Postgres => sql.push_str(&format!("${}", params.len())),
                    }
                }
            }
        }
        (sql, params)
    }
}

/// A referenced card as loaded for resolution.
#[derive(Debug, Clone)]
pub enum CardSource {
    Missing,
    Unreadable,
    NotNative,
    Native {
        database_id: i64,
        sql: String,
        tags: Map<String, Value>,
    },
}

/// Nesting limit for card references (§4.3).
pub const MAX_CARD_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Text(String),
    Tag(String),
    Optional(Vec<Segment>),
}

/// Splits SQL into text, `{{tags}}` and `[[optional clauses]]`.
fn parse(sql: &str) -> Result<Vec<Segment>, QueryError> {
    let mut top: Vec<Segment> = Vec::new();
    let mut clause: Option<Vec<Segment>> = None;
    let mut rest = sql;
    let mut text = String::new();
    let flush = |text: &mut String, out: &mut Vec<Segment>| {
        if !text.is_empty() {
            out.push(Segment::Text(std::mem::take(text)));
        }
    };
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("[[") {
            if clause.is_some() {
                return Err(QueryError::invalid(
                    "Nested optional clauses ([[ … ]]) are not supported.",
                ));
            }
            flush(&mut text, &mut top);
            clause = Some(Vec::new());
            rest = after;
        } else if let (Some(after), Some(_)) = (rest.strip_prefix("]]"), clause.as_ref()) {
            let mut inner = clause.take().unwrap_or_default();
            flush(&mut text, &mut inner);
            top.push(Segment::Optional(inner));
            rest = after;
        } else if let Some(after) = rest.strip_prefix("{{") {
            match after.find("}}") {
                Some(end) => {
                    let target = clause.as_mut().unwrap_or(&mut top);
                    flush(&mut text, target);
                    target.push(Segment::Tag(after[..end].trim().to_string()));
                    rest = &after[end + 2..];
                }
                None => {
                    text.push_str("{{");
                    rest = after;
                }
            }
        } else {
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                text.push(c);
            }
            rest = chars.as_str();
        }
    }
    if clause.is_some() {
        return Err(QueryError::invalid(
            "An optional clause ([[ … ]]) is not closed.",
        ));
    }
    flush(&mut text, &mut top);
    Ok(top)
}

/// The card id a tag refers to: its `card-id`, or the id in a `#<id>` / `#<id>-slug` name.
fn card_id(name: &str, def: Option<&Value>) -> Option<i64> {
    if let Some(id) = def.and_then(|d| d.get("card-id")).and_then(Value::as_i64) {
        return Some(id);
    }
    let digits: String = name
        .strip_prefix('#')?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn tag_type<'a>(name: &str, def: Option<&'a Value>) -> &'a str {
    match def.and_then(|d| d.get("type")).and_then(Value::as_str) {
        Some(t) => t,
        None if name.starts_with('#') => "card",
        None if name.starts_with("snippet:") => "snippet",
        None => "text",
    }
}

/// The ids of the cards `sql` references directly (to load them before resolving).
pub fn referenced_cards(sql: &str, tags: &Map<String, Value>) -> Vec<i64> {
    let Ok(segments) = parse(sql) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut visit = |name: &str| {
        let def = tags.get(name);
        if tag_type(name, def) == "card" {
            if let Some(id) = card_id(name, def) {
                out.push(id);
            }
        }
    };
    for s in &segments {
        match s {
            Segment::Tag(n) => visit(n),
            Segment::Optional(inner) => {
                for i in inner {
                    if let Segment::Tag(n) = i {
                        visit(n);
                    }
                }
            }
            Segment::Text(_) => {}
        }
    }
    out
}

/// Parameter values by tag name (§4.2): targets `["variable"|"dimension", ["template-tag", n]]`.
pub fn parameter_values(parameters: &[Value]) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for p in parameters {
        let Some(target) = p.get("target").and_then(Value::as_array) else {
            continue;
        };
        let kind = target.first().and_then(Value::as_str);
        if !matches!(kind, Some("variable") | Some("dimension")) {
            continue;
        }
        let Some(inner) = target.get(1).and_then(Value::as_array) else {
            continue;
        };
        if inner.first().and_then(Value::as_str) != Some("template-tag") {
            continue;
        }
        let Some(name) = inner.get(1).and_then(Value::as_str) else {
            continue;
        };
        match p.get("value") {
            None | Some(Value::Null) => {}
            Some(v) => {
                out.insert(name.to_string(), v.clone());
            }
        }
    }
    out
}

/// Resolves `sql` with `tags` and parameter `values` into a statement.
pub struct Resolver<'a> {
    pub database_id: i64,
    pub cards: &'a HashMap<i64, CardSource>,
}

impl Resolver<'_> {
    pub fn resolve(
        &self,
        sql: &str,
        tags: &Map<String, Value>,
        values: &HashMap<String, Value>,
    ) -> Result<Statement, QueryError> {
        let mut out = Statement::default();
        let mut stack = Vec::new();
        self.resolve_into(sql, tags, values, &mut stack, &mut out)?;
        Ok(out)
    }

    fn resolve_into(
        &self,
        sql: &str,
        tags: &Map<String, Value>,
        values: &HashMap<String, Value>,
        stack: &mut Vec<i64>,
        out: &mut Statement,
    ) -> Result<(), QueryError> {
        for seg in parse(sql)? {
            match seg {
                Segment::Text(t) => out.sql(&t),
                Segment::Tag(name) => match self.tag(&name, tags, values, stack)? {
                    Some(st) => out.pieces.extend(st.pieces),
                    None => {
                        let display = tags
                            .get(&name)
                            .and_then(|d| d.get("display-name"))
                            .and_then(Value::as_str)
                            .unwrap_or(&name);
                        return Err(QueryError::new(
                            ErrorType::MissingRequiredParameter,
                            format!(
                                "You'll need to pick a value for '{display}' before this query can run."
                            ),
                        ));
                    }
                },
                Segment::Optional(inner) => {
                    let mut clause = Statement::default();
                    let mut complete = true;
                    for s in inner {
                        match s {
                            Segment::Text(t) => clause.sql(&t),
                            Segment::Tag(name)
                                if tag_type(&name, tags.get(&name)) == "dimension"
                                    && !values.contains_key(&name) =>
                            {
                                // A field filter without a value leaves its clause out.
                                complete = false;
                            }
                            Segment::Tag(name) => match self.tag(&name, tags, values, stack)? {
                                Some(st) if complete => clause.pieces.extend(st.pieces),
                                Some(_) => {}
                                None => complete = false,
                            },
                            Segment::Optional(_) => {}
                        }
                    }
                    if complete {
                        out.pieces.extend(clause.pieces);
                    }
                }
            }
        }
        Ok(())
    }

    /// The SQL for one tag, or `None` when it has no value.
    fn tag(
        &self,
        name: &str,
        tags: &Map<String, Value>,
        values: &HashMap<String, Value>,
        stack: &mut Vec<i64>,
    ) -> Result<Option<Statement>, QueryError> {
        let def = tags.get(name);
        let ty = tag_type(name, def);
        if ty == "card" {
            let id = card_id(name, def).ok_or_else(|| {
                QueryError::invalid(format!("The card tag '{name}' names no card."))
            })?;
            return self.card(id, stack).map(Some);
        }
        let value = values
            .get(name)
            .or_else(|| def.and_then(|d| d.get("default")).filter(|v| !v.is_null()));
        let mut st = Statement::default();
        match ty {
            "dimension" => {
                if value.is_some() {
                    return Err(QueryError::unsupported(
                        "Field filters with a value are not supported by ferrobase.",
                    ));
                }
                st.sql("1 = 1");
                return Ok(Some(st));
            }
            "snippet" | "temporal-unit" | "table" => {
                return Err(QueryError::unsupported(format!(
                    "Template tags of type '{ty}' are not supported by ferrobase."
                )));
            }
            _ => {}
        }
        let Some(value) = value else {
            return Ok(None);
        };
        let items: Vec<&Value> = match value {
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        if items.is_empty() {
            return Ok(None);
        }
        for (i, v) in items.iter().enumerate() {
            if i > 0 {
                st.sql(", ");
            }
            st.pieces.push(Piece::Param(coerce(name, ty, v)?));
        }
        Ok(Some(st))
    }

    fn card(&self, id: i64, stack: &mut Vec<i64>) -> Result<Statement, QueryError> {
        if stack.contains(&id) || stack.len() >= MAX_CARD_DEPTH {
            return Err(QueryError::invalid(
                "Card references form a cycle or nest more than 8 levels deep.",
            ));
        }
        match self.cards.get(&id).unwrap_or(&CardSource::Missing) {
            CardSource::Missing => Err(QueryError::invalid(format!("Card {id} not found."))),
            CardSource::Unreadable => Err(QueryError::permission()),
            CardSource::NotNative => Err(QueryError::unsupported(format!(
                "Card {id} is not a native query; ferrobase runs native SQL queries only."
            ))),
            CardSource::Native {
                database_id,
                sql,
                tags,
            } => {
                if *database_id != self.database_id {
                    return Err(QueryError::invalid(format!(
                        "Card {id} uses a different database."
                    )));
                }
                let mut st = Statement::default();
                st.sql("(\n");
                stack.push(id);
                let inner = strip_trailing_semicolon(sql);
                let r = self.resolve_into(inner, tags, &HashMap::new(), stack, &mut st);
                stack.pop();
                r?;
                st.sql("\n)");
                Ok(st)
            }
        }
    }
}

/// A referenced card's SQL without its trailing `;` (it is embedded in parentheses).
fn strip_trailing_semicolon(sql: &str) -> &str {
    let t = sql.trim_end();
    t.strip_suffix(';').unwrap_or(t)
}

fn invalid_parameter(name: &str, v: &Value, what: &str) -> QueryError {
    QueryError::new(
        ErrorType::InvalidParameter,
        format!("Invalid value for parameter '{name}': {v} is not {what}."),
    )
}

/// One value converted for a tag type (§4.3).
fn coerce(name: &str, ty: &str, v: &Value) -> Result<Bound, QueryError> {
    match ty {
        "number" => match v {
            Value::Number(n) => Ok(match n.as_i64() {
                Some(i) => Bound::Int(i),
                None => Bound::Float(n.as_f64().unwrap_or(0.0)),
            }),
            Value::String(s) => {
                let t = s.trim();
                if let Ok(i) = t.parse::<i64>() {
                    Ok(Bound::Int(i))
                } else {
                    t.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .map(Bound::Float)
                        .ok_or_else(|| invalid_parameter(name, v, "a number"))
                }
            }
            _ => Err(invalid_parameter(name, v, "a number")),
        },
        "boolean" => match v {
            Value::Bool(b) => Ok(Bound::Bool(*b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Bound::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Bound::Bool(false)),
            _ => Err(invalid_parameter(name, v, "a boolean")),
        },
        "date" => match v {
            Value::String(s) => Ok(Bound::Text(s.clone())),
            _ => Err(invalid_parameter(name, v, "a date")),
        },
        _ => match v {
            Value::String(s) => Ok(Bound::Text(s.clone())),
            Value::Number(n) => Ok(Bound::Text(n.to_string())),
            Value::Bool(b) => Ok(Bound::Text(b.to_string())),
            _ => Err(invalid_parameter(name, v, "a text value")),
        },
    }
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
