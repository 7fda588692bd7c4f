//! The deterministic YAML emitter of serialization.md §4.3: block style, two-space indentation,
//! nested map keys sorted by code point, plain scalars only where the YAML 1.2 core schema reads
//! them back unchanged, timestamps single-quoted, multi-line strings as literal blocks.
use serde_json::{Map, Value};

/// Emits one entity document. The top-level map keeps its insertion order, and so do the maps
/// that are elements of the top-level sequences named in `ordered_lists` (a dashboard's `tabs`
/// and `dashcards`); every other map is written with its keys sorted.
pub fn emit_document(doc: &Map<String, Value>, ordered_lists: &[&str]) -> String {
    let mut out = String::new();
    if doc.is_empty() {
        out.push_str("{}\n");
        return out;
    }
    for (k, v) in doc {
        let keep = ordered_lists.contains(&k.as_str());
        write_entry(&mut out, 0, k, v, keep);
    }
    out
}

/// Emits a map with every level sorted (`settings.yaml`, tests).
pub fn emit_sorted(doc: &Map<String, Value>) -> String {
    let mut sorted = Map::new();
    let mut keys: Vec<&String> = doc.keys().collect();
    keys.sort();
    for k in keys {
        sorted.insert(k.clone(), doc[k].clone());
    }
    emit_document(&sorted, &[])
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

/// `key: value` at `ind`, with nested blocks below it. `keep_items` keeps the key order of the
/// maps inside a sequence value.
fn write_entry(out: &mut String, ind: usize, key: &str, v: &Value, keep_items: bool) {
    indent(out, ind);
    out.push_str(&key_scalar(key));
    out.push(':');
    write_value_after_key(out, ind, v, keep_items);
}

fn write_value_after_key(out: &mut String, ind: usize, v: &Value, keep_items: bool) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map_body(out, ind + 2, m, false);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq_body(out, ind + 2, a, keep_items);
        }
        _ => {
            out.push(' ');
            write_scalar_or_block(out, ind + 2, v);
        }
    }
}

fn sorted_entries(m: &Map<String, Value>, keep: bool) -> Vec<(&String, &Value)> {
    let mut e: Vec<(&String, &Value)> = m.iter().collect();
    if !keep {
        e.sort_by(|a, b| a.0.cmp(b.0));
    }
    e
}

/// The entries of a non-empty map, each line at `ind`.
fn write_map_body(out: &mut String, ind: usize, m: &Map<String, Value>, keep: bool) {
    for (k, v) in sorted_entries(m, keep) {
        write_entry(out, ind, k, v, false);
    }
}

/// The items of a non-empty sequence, each `- ` at `ind`.
fn write_seq_body(out: &mut String, ind: usize, a: &[Value], keep_items: bool) {
    for item in a {
        indent(out, ind);
        out.push('-');
        match item {
            Value::Object(m) if !m.is_empty() => {
                // The first entry shares the dash's line; the others align with it.
                for (i, (k, v)) in sorted_entries(m, keep_items).into_iter().enumerate() {
                    if i == 0 {
                        out.push(' ');
                        out.push_str(&key_scalar(k));
                        out.push(':');
                        write_value_after_key(out, ind + 2, v, false);
                    } else {
                        write_entry(out, ind + 2, k, v, false);
                    }
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq_body(out, ind + 2, inner, false);
            }
            _ => {
                out.push(' ');
                write_scalar_or_block(out, ind + 2, item);
            }
        }
    }
}

/// A scalar (or empty collection) followed by its newline; a literal block's content lines are
/// indented by `content_ind`.
fn write_scalar_or_block(out: &mut String, content_ind: usize, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        Value::String(s) => {
            if s.contains('\n') && literal_ok(s) {
                write_literal(out, content_ind, s);
                return;
            }
            out.push_str(&string_scalar(s));
        }
    }
    out.push('\n');
}

fn number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    // `{:?}` is the shortest form that reads back to the same value and always marks a float
    // (`1.0`, `1e300`, `1e-7`).
    format!("{f:?}")
}

/// Can `s` (which holds a line feed) be written as a literal block scalar exactly?
fn literal_ok(s: &str) -> bool {
    if !s.chars().all(|c| c == '\n' || plain_printable(c)) {
        return false;
    }
    // Auto-detected indentation: the first non-empty line may not start with a space.
    match s.split('\n').find(|l| !l.is_empty()) {
        Some(first) => !first.starts_with(' '),
        None => false,
    }
}

fn write_literal(out: &mut String, ind: usize, s: &str) {
    let trailing = s.len() - s.trim_end_matches('\n').len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    out.push('\n');
    let body = if trailing == 0 { s } else { &s[..s.len() - 1] };
    for line in body.split('\n') {
        if !line.is_empty() {
            indent(out, ind);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// Printable in the sense of YAML, minus the characters YAML 1.1 readers treat as line breaks
/// or byte-order marks, and minus tabs (which are always escaped).
fn plain_printable(c: char) -> bool {
    let u = c as u32;
    (0x20..=0x7e).contains(&u)
        || ((0xa0..=0xd7ff).contains(&u) && u != 0x2028 && u != 0x2029)
        || ((0xe000..=0xfffd).contains(&u) && u != 0xfeff)
        || u >= 0x10000
}

/// A map key: like a string value, but never a block scalar.
fn key_scalar(k: &str) -> String {
    string_scalar(k)
}

/// A single-line string: plain, single-quoted, or double-quoted with escapes.
pub fn string_scalar(s: &str) -> String {
    if !s.chars().all(plain_printable) {
        return double_quoted(s);
    }
    if is_plain_safe(s) && !is_timestamp(s) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "''"))
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if plain_printable(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Is `s` (all printable) read back as the same string when written plain?
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with(' ') || s.ends_with(' ') || s.ends_with(':') {
        return false;
    }
    if s.contains(": ") || s.contains(" #") {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    match first {
        '-' | '?' | ':' => {
            // Allowed only when followed by a non-space character.
            match s.chars().nth(1) {
                None | Some(' ') => return false,
                _ => {}
            }
        }
        ',' | '[' | ']' | '{' | '}' | '#' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
        | '@' | '`' => return false,
        _ => {}
    }
    !is_core_special(s)
}

/// Would the YAML 1.2 core schema resolve this plain scalar to a null, boolean or number?
fn is_core_special(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False", "FALSE", ".inf",
        ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN",
        ".NAN",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let hex = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_hexdigit());
    let oct = |t: &str| !t.is_empty() && t.bytes().all(|b| (b'0'..=b'7').contains(&b));
    // Lenient readers also take a sign after the radix prefix (`0x-1F`) or doubled signs
    // (`++0`); such strings are quoted too.
    let signed = |t: &str| t.strip_prefix(['+', '-']).unwrap_or(t).to_string();
    if s.strip_prefix("0x").map(signed).is_some_and(|t| hex(&t))
        || s.strip_prefix("0o").map(signed).is_some_and(|t| oct(&t))
    {
        return true;
    }
    let unsigned = s.trim_start_matches(['+', '-']);
    is_core_number(s) || (unsigned.len() + 2 >= s.len() && is_core_number(unsigned))
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (which covers the integers too).
fn is_core_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if matches!(b.first(), Some(b'+') | Some(b'-')) {
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e') | Some(b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+') | Some(b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// An API timestamp (`2025-03-04T05:06:07.123456Z`), which is always single-quoted.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
}

/// Reading is bounded against hostile input; see [`super::yaml_read`].
pub use super::yaml_read::parse;

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;
