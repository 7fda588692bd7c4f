//! Reading untrusted YAML (serialization.md §5.1 step 2) into JSON values with bounded work and
//! memory. yaml-rust2's `YamlLoader` recurses once per nesting level and copies every alias in
//! full, so a 230-byte file could exhaust the stack or build gigabytes; here the parser's events
//! are pulled one by one and the value is built on an explicit stack, with three limits:
//!
//! - nesting deeper than [`MAX_DEPTH`] containers is refused (the limit of serde_json's own
//!   reader, so nothing deeper than the server could read back is ever built);
//! - at most [`MAX_NODES`] nodes per document, alias expansions included;
//! - anchors and aliases together may add at most [`alias_budget`] units (one per node plus one
//!   per byte of string content): twice the file's size, [`ALIAS_FLOOR`] at least. A document
//!   without aliases never needs the budget, and Metabase and ferrobase write no anchors at all.
use std::collections::HashMap;

use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::Yaml;

/// Deepest nesting of sequences and maps a document may have.
pub const MAX_DEPTH: usize = 128;
/// Most nodes (scalars, sequences, maps) one document may produce, alias expansions included.
pub const MAX_NODES: u64 = 2_000_000;
/// The smallest alias budget, so small hand-written files may still share a few anchors.
pub const ALIAS_FLOOR: u64 = 65_536;

/// What anchors and aliases may add to a document of `len` bytes.
pub fn alias_budget(len: usize) -> u64 {
    (len as u64).saturating_mul(2).max(ALIAS_FLOOR)
}

/// The size of a built value: nodes, bytes of string content (keys included), and height (the
/// nesting of its containers, 0 for a scalar).
#[derive(Clone, Copy, Default)]
struct Size {
    nodes: u64,
    bytes: u64,
    height: usize,
}

impl Size {
    fn units(&self) -> u64 {
        self.nodes.saturating_add(self.bytes)
    }
    fn add_child(&mut self, child: Size, key_bytes: u64) {
        self.nodes = self.nodes.saturating_add(child.nodes);
        self.bytes = self
            .bytes
            .saturating_add(child.bytes)
            .saturating_add(key_bytes);
        self.height = self.height.max(child.height + 1);
    }
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        size: Size,
    },
    Map {
        map: Map<String, Value>,
        /// The key read and waiting for its value.
        key: Option<String>,
        anchor: usize,
        size: Size,
    },
}

struct Builder {
    stack: Vec<Frame>,
    /// Anchor id → the anchored value and its size (a copy, charged to the alias budget).
    anchors: HashMap<usize, (Value, Size)>,
    docs: Vec<Value>,
    nodes: u64,
    alias_used: u64,
    alias_budget: u64,
}

fn at(msg: impl std::fmt::Display, m: Marker) -> String {
    format!("{msg} at line {} column {}", m.line(), m.col() + 1)
}

/// Parses one YAML document into a JSON value (non-string keys other than integers and booleans
/// refused, duplicate keys refused). An empty stream is `null`.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut parser = Parser::new_from_str(text);
    let mut b = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        docs: Vec::new(),
        nodes: 0,
        alias_used: 0,
        alias_budget: alias_budget(text.len()),
    };
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| e.to_string())?;
        match ev {
            Event::StreamEnd => break,
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
            Event::DocumentStart => {
                if !b.docs.is_empty() {
                    return Err("more than one YAML document".into());
                }
                b.anchors.clear();
            }
            Event::SequenceStart(anchor, _) => b.open(
                Frame::Seq {
                    items: Vec::new(),
                    anchor,
                    size: Size::default(),
                },
                mark,
            )?,
            Event::MappingStart(anchor, _) => b.open(
                Frame::Map {
                    map: Map::new(),
                    key: None,
                    anchor,
                    size: Size::default(),
                },
                mark,
            )?,
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, anchor, mut size) = match b.stack.pop() {
                    Some(Frame::Seq {
                        items,
                        anchor,
                        size,
                        ..
                    }) => (Value::Array(items), anchor, size),
                    Some(Frame::Map {
                        map, anchor, size, ..
                    }) => (Value::Object(map), anchor, size),
                    None => return Err(at("unbalanced YAML events", mark)),
                };
                // The container itself (counted when it opened) and its own level.
                size.nodes += 1;
                size.height = size.height.max(1);
                b.complete(value, anchor, size, mark)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                b.count_nodes(1, mark)?;
                let value = scalar(text, style, tag).map_err(|e| at(e, mark))?;
                let bytes = value.as_str().map_or(0, |s| s.len() as u64);
                let size = Size {
                    nodes: 1,
                    bytes,
                    height: 0,
                };
                b.complete(value, anchor, size, mark)?;
            }
            Event::Alias(id) => {
                let (value, size) = b
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| at("unknown anchor", mark))?;
                b.charge(size, mark)?;
                b.count_nodes(size.nodes, mark)?;
                if b.stack.len() + size.height > MAX_DEPTH {
                    return Err(too_deep(mark));
                }
                b.complete(value, 0, size, mark)?;
            }
        }
    }
    match b.docs.len() {
        0 => Ok(Value::Null),
        _ => Ok(b.docs.swap_remove(0)),
    }
}

fn too_deep(mark: Marker) -> String {
    at(
        format!("the YAML nests deeper than {MAX_DEPTH} levels"),
        mark,
    )
}

impl Builder {
    fn open(&mut self, frame: Frame, mark: Marker) -> Result<(), String> {
        if let Some(Frame::Map { key: None, .. }) = self.stack.last() {
            return Err(at("unsupported map key", mark));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(too_deep(mark));
        }
        self.count_nodes(1, mark)?;
        self.stack.push(frame);
        Ok(())
    }

    fn count_nodes(&mut self, n: u64, mark: Marker) -> Result<(), String> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(at(
                format!("the document holds more than {MAX_NODES} nodes"),
                mark,
            ));
        }
        Ok(())
    }

    fn charge(&mut self, size: Size, mark: Marker) -> Result<(), String> {
        self.alias_used = self.alias_used.saturating_add(size.units());
        if self.alias_used > self.alias_budget {
            return Err(at(
                format!(
                    "anchors and aliases expand beyond the budget of {} nodes and bytes",
                    self.alias_budget
                ),
                mark,
            ));
        }
        Ok(())
    }

    /// A finished node: remembered when anchored, then placed in its parent (or as the
    /// document when there is none).
    fn complete(
        &mut self,
        value: Value,
        anchor: usize,
        size: Size,
        mark: Marker,
    ) -> Result<(), String> {
        if anchor > 0 {
            // The copy kept for later aliases is memory too; nested anchors would otherwise
            // hold their subtree once per level.
            self.charge(size, mark)?;
            self.anchors.insert(anchor, (value.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.docs.push(value),
            Some(Frame::Seq {
                items, size: total, ..
            }) => {
                items.push(value);
                total.add_child(size, 0);
            }
            Some(Frame::Map {
                map,
                key,
                size: total,
                ..
            }) => match key.take() {
                None => *key = Some(map_key(&value).map_err(|e| at(e, mark))?),
                Some(k) => {
                    total.add_child(size, k.len() as u64);
                    if map.insert(k.clone(), value).is_some() {
                        return Err(at(format!("{k:?}: duplicated key in mapping"), mark));
                    }
                }
            },
        }
        Ok(())
    }
}

/// A map key: a string, or an integer or boolean written as text (as YAML readers of Metabase
/// archives see them).
fn map_key(v: &Value) -> Result<String, &'static str> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) if n.is_i64() => Ok(n.to_string()),
        _ => Err("unsupported map key"),
    }
}

/// A scalar resolved as yaml-rust2's loader resolves it (YAML 1.2 core schema, `!!` tags), then
/// turned into JSON.
fn scalar(text: String, style: TScalarStyle, tag: Option<Tag>) -> Result<Value, String> {
    let y = if style != TScalarStyle::Plain {
        Yaml::String(text)
    } else if let Some(Tag { handle, suffix }) = tag {
        if handle == "tag:yaml.org,2002:" {
            match suffix.as_str() {
                "bool" => match text.as_str() {
                    "true" | "True" | "TRUE" => Yaml::Boolean(true),
                    "false" | "False" | "FALSE" => Yaml::Boolean(false),
                    _ => Yaml::BadValue,
                },
                "int" => text.parse::<i64>().map_or(Yaml::BadValue, Yaml::Integer),
                "float" => {
                    let number =
                        text.bytes().any(|c| c.is_ascii_digit()) && text.parse::<f64>().is_ok();
                    if number {
                        Yaml::Real(text)
                    } else {
                        Yaml::BadValue
                    }
                }
                "null" => match text.as_str() {
                    "~" | "null" => Yaml::Null,
                    _ => Yaml::BadValue,
                },
                _ => Yaml::String(text),
            }
        } else {
            Yaml::String(text)
        }
    } else {
        Yaml::from_str(&text)
    };
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Integer(i) => Value::from(i),
        Yaml::Real(r) => r
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("unsupported number {r}"))?,
        Yaml::String(s) => Value::String(s),
        _ => return Err("unsupported YAML value".into()),
    })
}

#[cfg(test)]
#[path = "yaml_read_tests.rs"]
mod tests;
