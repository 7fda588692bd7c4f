//! Result values and columns (queries.md §4.5): one [`Cell`] per value, written straight to JSON
//! or CSV bytes (no `serde_json::Value` per row, so a `numeric` keeps the database's digits and
//! exports stay cheap).
use std::fmt::Write as _;

/// One result value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A decimal number as the database wrote it (`12.50`), emitted as a raw JSON number.
    Decimal(String),
    Text(String),
    /// A JSON array of converted elements (Postgres arrays).
    Array(Vec<Cell>),
}

/// The largest integer a JSON number carries exactly (2^53 − 1).
const MAX_SAFE: i64 = (1 << 53) - 1;

impl Cell {
    /// Appends the JSON form of the value.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Cell::Null => out.extend_from_slice(b"null"),
            Cell::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Cell::Int(i) if (-MAX_SAFE..=MAX_SAFE).contains(i) => {
                let _ = write!(Writer(out), "{i}");
            }
            Cell::Int(i) => {
                let _ = write!(Writer(out), "\"{i}\"");
            }
            Cell::Float(f) => write_float(*f, true, out),
            Cell::Decimal(d) => out.extend_from_slice(d.as_bytes()),
            Cell::Text(s) => write_json_string(s, out),
            Cell::Array(items) => {
                out.push(b'[');
                for (i, c) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    c.write_json(out);
                }
                out.push(b']');
            }
        }
    }

    /// Appends the CSV field (queries.md §6.3): `null` is empty, JSON values as their text.
    pub fn write_csv(&self, out: &mut Vec<u8>) {
        match self {
            Cell::Null => {}
            Cell::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Cell::Int(i) => {
                let _ = write!(Writer(out), "{i}");
            }
            Cell::Float(f) => write_float(*f, false, out),
            Cell::Decimal(d) => out.extend_from_slice(d.as_bytes()),
            Cell::Text(s) => write_csv_field(s, out),
            Cell::Array(_) => {
                let mut json = Vec::new();
                self.write_json(&mut json);
                write_csv_field(&String::from_utf8_lossy(&json), out);
            }
        }
    }

    /// The value as a `serde_json::Value` (for `native_form.params` and small bodies).
    pub fn to_value(&self) -> serde_json::Value {
        let mut buf = Vec::new();
        self.write_json(&mut buf);
        serde_json::from_slice(&buf).unwrap_or(serde_json::Value::Null)
    }
}

/// `fmt::Write` over a byte vector.
struct Writer<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Shortest round-trip form; non-finite values as the strings `NaN`, `Infinity`, `-Infinity`.
fn write_float(f: f64, json: bool, out: &mut Vec<u8>) {
    let special = if f.is_nan() {
        Some("NaN")
    } else if f == f64::INFINITY {
        Some("Infinity")
    } else if f == f64::NEG_INFINITY {
        Some("-Infinity")
    } else {
        None
    };
    match special {
        Some(s) if json => {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        }
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => match serde_json::to_vec(&f) {
            Ok(v) => out.extend_from_slice(&v),
            Err(_) => out.extend_from_slice(b"null"),
        },
    }
}

/// A JSON string literal.
pub fn write_json_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => {
                let _ = write!(Writer(out), "\\u{b:04x}");
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A CSV field, quoted when it contains `,`, `"`, `\r` or `\n` (inner quotes doubled).
pub fn write_csv_field(s: &str, out: &mut Vec<u8>) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        out.push(b'"');
        for part in s.split('"').enumerate() {
            if part.0 > 0 {
                out.extend_from_slice(b"\"\"");
            }
            out.extend_from_slice(part.1.as_bytes());
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// Standard base64 with padding (binary values, §4.5).
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One result column (§4.4).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The name the database reports (made unique later, for `cols`).
    pub name: String,
    pub base_type: &'static str,
    pub database_type: String,
}

impl Column {
    /// The `cols` entry; `unique` is the de-duplicated name.
    pub fn to_json(&self, unique: &str) -> serde_json::Value {
        serde_json::json!({
            "name": unique,
            "display_name": self.name,
            "base_type": self.base_type,
            "effective_type": self.base_type,
            "database_type": self.database_type,
            "semantic_type": null,
            "source": "native",
            "field_ref": ["field", unique, {"base-type": self.base_type}],
        })
    }
}

/// Names made unique by suffixing `_2`, `_3`, … in order of appearance (§4.4).
pub fn unique_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut out = Vec::new();
    for n in names {
        let count = seen.entry(n.to_string()).or_insert(0);
        *count += 1;
        let mut candidate = if *count == 1 {
            n.to_string()
        } else {
            format!("{n}_{count}")
        };
        while taken.contains(&candidate) {
            *count += 1;
            candidate = format!("{n}_{count}");
        }
        taken.insert(candidate.clone());
        out.push(candidate);
    }
    out
}

/// The `cols` array for `columns`.
pub fn cols_json(columns: &[Column]) -> serde_json::Value {
    let names = unique_names(columns.iter().map(|c| c.name.as_str()));
    serde_json::Value::Array(
        columns
            .iter()
            .zip(&names)
            .map(|(c, n)| c.to_json(n))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(c: Cell) -> String {
        let mut v = Vec::new();
        c.write_json(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn json_values() {
        assert_eq!(json(Cell::Int(9007199254740993)), "\"9007199254740993\"");
        assert_eq!(json(Cell::Int(9007199254740991)), "9007199254740991");
        assert_eq!(json(Cell::Float(f64::NAN)), "\"NaN\"");
        assert_eq!(json(Cell::Float(0.1)), "0.1");
        assert_eq!(json(Cell::Decimal("12.50".into())), "12.50");
        assert_eq!(json(Cell::Text("a\"\n\u{1}".into())), "\"a\\\"\\n\\u0001\"");
        assert_eq!(
            json(Cell::Array(vec![Cell::Int(1), Cell::Null])),
            "[1,null]"
        );
    }

    #[test]
    fn csv_fields() {
        let mut v = Vec::new();
        Cell::Text("say \"hi\"".into()).write_csv(&mut v);
        assert_eq!(String::from_utf8(v).unwrap(), "\"say \"\"hi\"\"\"");
        let mut v = Vec::new();
        Cell::Text("a,b".into()).write_csv(&mut v);
        assert_eq!(String::from_utf8(v).unwrap(), "\"a,b\"");
    }

    #[test]
    fn base64_and_names() {
        assert_eq!(base64(b"hello"), "aGVsbG8=");
        assert_eq!(base64(b"\xde\xad\xbe\xef"), "3q2+7w==");
        assert_eq!(
            unique_names(["a", "a", "b", "a"]),
            vec!["a", "a_2", "b", "a_3"]
        );
        assert_eq!(unique_names(["a_2", "a", "a"]), vec!["a_2", "a", "a_3"]);
    }
}
