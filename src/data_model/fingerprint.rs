//! Field fingerprints (data-model.md §2.5): computed from a sample of a column's values —
//! distinct count, null fraction and one type-specific entry.
use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::types;
use crate::warehouse::cell::Cell;

/// Rows read for a fingerprint.
pub const SAMPLE_ROWS: usize = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Fingerprint {
    pub distinct_count: u64,
    /// Fraction of nulls, 0.0 – 1.0; `1.0` for an empty sample.
    pub nil_fraction: f64,
    pub number: Option<NumberStats>,
    pub text: Option<TextStats>,
    pub temporal: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NumberStats {
    pub min: f64,
    pub max: f64,
    pub avg: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TextStats {
    pub percent_json: f64,
    pub percent_url: f64,
    pub percent_email: f64,
    pub percent_state: f64,
    pub average_length: f64,
}

/// A value as a distinct-count key, borrowed where possible; `1` and `1.0` stay apart as the
/// warehouse returned them.
#[derive(Hash, PartialEq, Eq)]
enum Key<'a> {
    Bool(bool),
    Int(i64),
    Float(u64),
    Text(&'a str),
    Json(Vec<u8>),
}

fn key(cell: &Cell) -> Key<'_> {
    match cell {
        Cell::Bool(b) => Key::Bool(*b),
        Cell::Int(i) => Key::Int(*i),
        Cell::Float(f) => Key::Float(f.to_bits()),
        Cell::Decimal(d) | Cell::Text(d) => Key::Text(d),
        other => {
            let mut out = Vec::new();
            other.write_json(&mut out);
            Key::Json(out)
        }
    }
}

fn number(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Int(i) => Some(*i as f64),
        Cell::Float(f) if f.is_finite() => Some(*f),
        Cell::Decimal(d) => d.parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn text(cell: &Cell) -> Option<&str> {
    match cell {
        Cell::Text(s) => Some(s),
        _ => None,
    }
}

/// Computes the fingerprint of a column of `base` type from its sampled values.
pub fn compute(base: &str, values: &[&Cell]) -> Fingerprint {
    let total = values.len();
    let non_null: Vec<&Cell> = values
        .iter()
        .copied()
        .filter(|c| !matches!(c, Cell::Null))
        .collect();
    let distinct: HashSet<Key<'_>> = non_null.iter().map(|c| key(c)).collect();
    let nil_fraction = if total == 0 {
        1.0
    } else {
        (total - non_null.len()) as f64 / total as f64
    };
    let mut fp = Fingerprint {
        distinct_count: distinct.len() as u64,
        nil_fraction,
        number: None,
        text: None,
        temporal: None,
    };
    if types::is_number(base) {
        fp.number = number_stats(&non_null);
    } else if types::is_temporal(base) {
        fp.temporal = temporal_range(&non_null);
    } else if base == "type/Text" {
        fp.text = Some(text_stats(&non_null));
    }
    fp
}

fn number_stats(values: &[&Cell]) -> Option<NumberStats> {
    let nums: Vec<f64> = values.iter().filter_map(|c| number(c)).collect();
    if nums.is_empty() {
        return None;
    }
    let min = nums.iter().copied().fold(f64::INFINITY, f64::min);
    let max = nums.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let avg = nums.iter().sum::<f64>() / nums.len() as f64;
    Some(NumberStats { min, max, avg })
}

/// Instants compare as instants (offsets may differ across a DST change); other values as text.
fn temporal_key(s: &str) -> (i64, &str) {
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) => (t.timestamp_micros(), ""),
        Err(_) => (i64::MIN, s),
    }
}

fn temporal_range(values: &[&Cell]) -> Option<(String, String)> {
    let keyed: Vec<((i64, &str), &str)> = values
        .iter()
        .filter_map(|c| text(c))
        .map(|s| (temporal_key(s), s))
        .collect();
    let earliest = keyed.iter().min_by(|a, b| a.0.cmp(&b.0))?.1;
    let latest = keyed.iter().max_by(|a, b| a.0.cmp(&b.0))?.1;
    Some((earliest.to_string(), latest.to_string()))
}

fn text_stats(values: &[&Cell]) -> TextStats {
    let texts: Vec<&str> = values.iter().filter_map(|c| text(c)).collect();
    let n = texts.len();
    let share = |pred: fn(&str) -> bool| {
        if n == 0 {
            0.0
        } else {
            texts.iter().filter(|s| pred(s)).count() as f64 / n as f64
        }
    };
    let average_length = if n == 0 {
        0.0
    } else {
        texts.iter().map(|s| s.chars().count()).sum::<usize>() as f64 / n as f64
    };
    TextStats {
        percent_json: share(is_json),
        percent_url: share(is_url),
        percent_email: share(is_email),
        percent_state: share(is_state),
        average_length,
    }
}

pub fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.contains(char::is_whitespace)
        && domain.split('.').all(|p| !p.is_empty())
}

pub fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.contains(char::is_whitespace)
    })
}

pub fn is_json(s: &str) -> bool {
    let t = s.trim_start();
    (t.starts_with('{') || t.starts_with('[')) && serde_json::from_str::<Value>(s).is_ok()
}

/// The 50 US states and DC: name and postal code.
const STATES: &[(&str, &str)] = &[
    ("alabama", "al"),
    ("alaska", "ak"),
    ("arizona", "az"),
    ("arkansas", "ar"),
    ("california", "ca"),
    ("colorado", "co"),
    ("connecticut", "ct"),
    ("delaware", "de"),
    ("district of columbia", "dc"),
    ("florida", "fl"),
    ("georgia", "ga"),
    ("hawaii", "hi"),
    ("idaho", "id"),
    ("illinois", "il"),
    ("indiana", "in"),
    ("iowa", "ia"),
    ("kansas", "ks"),
    ("kentucky", "ky"),
    ("louisiana", "la"),
    ("maine", "me"),
    ("maryland", "md"),
    ("massachusetts", "ma"),
    ("michigan", "mi"),
    ("minnesota", "mn"),
    ("mississippi", "ms"),
    ("missouri", "mo"),
    ("montana", "mt"),
    ("nebraska", "ne"),
    ("nevada", "nv"),
    ("new hampshire", "nh"),
    ("new jersey", "nj"),
    ("new mexico", "nm"),
    ("new york", "ny"),
    ("north carolina", "nc"),
    ("north dakota", "nd"),
    ("ohio", "oh"),
    ("oklahoma", "ok"),
    ("oregon", "or"),
    ("pennsylvania", "pa"),
    ("rhode island", "ri"),
    ("south carolina", "sc"),
    ("south dakota", "sd"),
    ("tennessee", "tn"),
    ("texas", "tx"),
    ("utah", "ut"),
    ("vermont", "vt"),
    ("virginia", "va"),
    ("washington", "wa"),
    ("west virginia", "wv"),
    ("wisconsin", "wi"),
    ("wyoming", "wy"),
];

pub fn is_state(s: &str) -> bool {
    let lower = s.trim().to_lowercase();
    STATES
        .iter()
        .any(|(name, code)| lower == *name || lower == *code)
}

fn round(f: f64) -> Value {
    serde_json::Number::from_f64(f)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

impl Fingerprint {
    /// The stored and answered JSON shape (§2.5).
    pub fn to_json(&self) -> Value {
        let mut ty = Map::new();
        if let Some(n) = &self.number {
            ty.insert(
                "type/Number".into(),
                json!({"min": round(n.min), "max": round(n.max), "avg": round(n.avg)}),
            );
        }
        if let Some(t) = &self.text {
            ty.insert(
                "type/Text".into(),
                json!({
                    "percent-json": round(t.percent_json),
                    "percent-url": round(t.percent_url),
                    "percent-email": round(t.percent_email),
                    "percent-state": round(t.percent_state),
                    "average-length": round(t.average_length),
                }),
            );
        }
        if let Some((earliest, latest)) = &self.temporal {
            ty.insert(
                "type/DateTime".into(),
                json!({"earliest": earliest, "latest": latest}),
            );
        }
        json!({
            "global": {"distinct-count": self.distinct_count, "nil%": round(self.nil_fraction)},
            "type": ty,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(v: &[&str]) -> Vec<Cell> {
        v.iter().map(|s| Cell::Text(s.to_string())).collect()
    }

    fn refs(v: &[Cell]) -> Vec<&Cell> {
        v.iter().collect()
    }

    #[test]
    fn categories_of_text() {
        let fp = compute(
            "type/Text",
            &refs(&texts(&["Gizmo", "Widget", "Gizmo", "Gadget", "Doohickey"])),
        );
        assert_eq!(fp.distinct_count, 4);
        assert_eq!(fp.nil_fraction, 0.0);
        let j = fp.to_json();
        assert_eq!(j["global"], json!({"distinct-count": 4, "nil%": 0.0}));
        assert!(j["type"]["type/Text"]["average-length"].as_f64().unwrap() > 5.0);
    }

    #[test]
    fn empty_sample_is_all_nil() {
        let fp = compute("type/Integer", &[]);
        assert_eq!(fp.distinct_count, 0);
        assert_eq!(fp.nil_fraction, 1.0);
        assert!(fp.number.is_none());
    }

    #[test]
    fn numbers_and_nulls() {
        let fp = compute(
            "type/Decimal",
            &refs(&[
                Cell::Int(10),
                Cell::Null,
                Cell::Decimal("99.50".into()),
                Cell::Float(55.0),
            ]),
        );
        assert_eq!(fp.nil_fraction, 0.25);
        let n = fp.number.unwrap();
        assert_eq!((n.min, n.max), (10.0, 99.5));
    }

    #[test]
    fn text_predicates() {
        assert!(is_email("a.b@example.com"));
        assert!(!is_email("a b@example.com"));
        assert!(!is_email("a@b@example.com"));
        assert!(!is_email("ab@localhost"));
        assert!(is_url("https://metabase.com/x"));
        assert!(!is_url("https://"));
        assert!(!is_url("ftp://x.y"));
        assert!(is_json("{\"a\": 1}"));
        assert!(!is_json("{not json"));
        assert!(!is_json("12"));
        assert!(is_state("TX"));
        assert!(is_state("new york"));
        assert!(!is_state("Ontario"));
    }

    #[test]
    fn temporal_range_compares_instants() {
        let fp = compute(
            "type/DateTimeWithLocalTZ",
            &refs(&texts(&[
                "2023-03-26T01:30:00+01:00",
                "2023-03-26T01:10:00Z",
                "2022-01-01T00:00:00Z",
            ])),
        );
        assert_eq!(
            fp.temporal,
            Some(("2022-01-01T00:00:00Z".into(), "2023-03-26T01:10:00Z".into()))
        );
    }
}
