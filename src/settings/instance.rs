//! The instance settings Metabase's settings endpoints serve (queries.md §7): their keys,
//! defaults, descriptions and value checks. Strings are stored as they are (as setup stores
//! `site-name`), integers as decimal text; restoring the default deletes the stored value.
use serde_json::{json, Value};

use crate::error::validation::NO_NUL;
use crate::error::{ApiError, ApiResult};

#[derive(Clone, Copy)]
pub enum Kind {
    Text,
    Int,
    Number,
}

pub struct Def {
    pub key: &'static str,
    pub default: fn() -> Value,
    pub description: &'static str,
    pub kind: Kind,
    /// Checks a non-null value; `Err` carries the message.
    check: fn(&Value) -> Result<(), String>,
}

const ROW_LIMIT: &str = "value must be an integer between 1 and 1048575.";

/// The longest string setting, in characters. Settings such as `site-name` are served to
/// anonymous callers (`/api/session/properties`) and embedded in every page, so an unbounded
/// value would let one request make every later response of the instance arbitrarily large.
pub const MAX_TEXT_CHARS: usize = 10_000;
const TOO_LONG: &str = "value must be a string of at most 10000 characters.";

fn row_limit(v: &Value) -> Result<(), String> {
    match v.as_i64() {
        Some(n) if (1..=1_048_575).contains(&n) && !v.is_f64() => Ok(()),
        _ => Err(ROW_LIMIT.into()),
    }
}

/// `breakout-bins-num` (mbql.md §0): an integer 1 – 1,000.
fn bins_num(v: &Value) -> Result<(), String> {
    match v.as_i64() {
        Some(n) if (1..=1000).contains(&n) && !v.is_f64() => Ok(()),
        _ => Err("value must be an integer between 1 and 1000.".into()),
    }
}

/// `breakout-bin-width` (mbql.md §0): a number greater than 0.
fn bin_width(v: &Value) -> Result<(), String> {
    match v.as_f64() {
        Some(w) if w > 0.0 && w.is_finite() => Ok(()),
        _ => Err("value must be a number greater than 0.".into()),
    }
}

fn non_blank(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(()),
        _ => Err("value must be a non-blank string.".into()),
    }
}

/// The checks every string setting shares, before its own: a length cap, and no U+0000
/// (PostgreSQL cannot store it, so SQLite would accept what PostgreSQL refuses with a 500).
fn text_bounds(v: &Value) -> Result<(), String> {
    if let Some(s) = v.as_str() {
        if s.contains('\0') {
            return Err(NO_NUL.into());
        }
        if s.chars().count() > MAX_TEXT_CHARS {
            return Err(TOO_LONG.into());
        }
    }
    Ok(())
}

fn locale(v: &Value) -> Result<(), String> {
    match v.as_str().and_then(crate::users::input::normalize_locale) {
        Some(_) => Ok(()),
        None => Err("String must be a valid two-letter ISO language or language-country code, e.g. 'en' or 'en_US'.".into()),
    }
}

/// An IANA time-zone name known to the bundled time-zone database.
fn timezone(v: &Value) -> Result<(), String> {
    let msg = || "value must be a valid IANA time zone name, e.g. 'Europe/Paris'.".to_string();
    let s = v.as_str().ok_or_else(msg)?;
    let well_formed = !s.is_empty()
        && !s.starts_with('/')
        && !s.contains("..")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'));
    if !well_formed {
        return Err(msg());
    }
    // The bundled database of the time-zone library: the same answer on every machine, and the
    // zone results are rendered in (queries::tz) — never a silent fall-back to UTC.
    if jiff::tz::db().get(s).is_err() {
        return Err(msg());
    }
    Ok(())
}

fn one_of(allowed: &'static [&'static str]) -> impl Fn(&Value) -> Result<(), String> {
    move |v| match v.as_str() {
        Some(s) if allowed.contains(&s) => Ok(()),
        _ => Err(format!("value must be one of: {}.", allowed.join(", "))),
    }
}

fn week(v: &Value) -> Result<(), String> {
    one_of(&[
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ])(v)
}

fn humanization(v: &Value) -> Result<(), String> {
    one_of(&["simple", "none"])(v)
}

pub const DEFS: &[Def] = &[
    Def {
        key: "aggregated-query-row-limit",
        default: || json!(10000),
        description: "Maximum number of rows to return for aggregated queries.",
        kind: Kind::Int,
        check: row_limit,
    },
    Def {
        key: "breakout-bin-width",
        default: || json!(10.0),
        description: "Bin width of the default binning of latitude and longitude fields.",
        kind: Kind::Number,
        check: bin_width,
    },
    Def {
        key: "breakout-bins-num",
        default: || json!(8),
        description: "Number of bins of the default binning of other numeric fields.",
        kind: Kind::Int,
        check: bins_num,
    },
    Def {
        key: "download-row-limit",
        default: || Value::Null,
        description: "Maximum number of rows in a download.",
        kind: Kind::Int,
        check: row_limit,
    },
    Def {
        key: "humanization-strategy",
        default: || json!("simple"),
        description: "How column names are made human-readable.",
        kind: Kind::Text,
        check: humanization,
    },
    Def {
        key: "report-timezone",
        default: || Value::Null,
        description: "Time zone of Postgres query sessions.",
        kind: Kind::Text,
        check: timezone,
    },
    Def {
        key: "site-locale",
        default: || json!("en"),
        description: "The default language of this instance.",
        kind: Kind::Text,
        check: locale,
    },
    Def {
        key: "site-name",
        default: || json!("ferrobase"),
        description: "The name of this instance.",
        kind: Kind::Text,
        check: non_blank,
    },
    Def {
        key: "start-of-week",
        default: || json!("sunday"),
        description: "The first day of the week.",
        kind: Kind::Text,
        check: week,
    },
    Def {
        key: "unaggregated-query-row-limit",
        default: || json!(2000),
        description: "Maximum number of rows to return for unaggregated queries.",
        kind: Kind::Int,
        check: row_limit,
    },
];

/// The definition of `key`; an unknown key is 404.
pub fn def(key: &str) -> ApiResult<&'static Def> {
    DEFS.iter().find(|d| d.key == key).ok_or(ApiError::NotFound)
}

pub fn env_name(key: &str) -> String {
    format!("MB_{}", key.to_uppercase().replace('-', "_"))
}

/// A stored text as its setting's JSON value.
pub fn typed(d: &Def, raw: String) -> Value {
    match d.kind {
        Kind::Text => Value::String(raw),
        Kind::Int => raw
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::Null),
        Kind::Number => raw
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
    }
}

/// The text to store for a checked value (`None` restores the default).
pub fn checked(d: &Def, v: &Value) -> Result<Option<String>, String> {
    if v.is_null() {
        return Ok(None);
    }
    if matches!(d.kind, Kind::Text) {
        text_bounds(v)?;
    }
    (d.check)(v)?;
    Ok(Some(match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }))
}

/// What `PUT /api/setting/:key` with `{"value": value}` would store, for other writers of
/// settings (an import, serialization.md §4.7): `None` for an unknown key, `Some(Ok(None))` when
/// the value restores the default, `Some(Err(message))` when it is invalid.
pub fn validate(key: &str, value: &Value) -> Option<Result<Option<String>, String>> {
    let d = DEFS.iter().find(|d| d.key == key)?;
    Some(checked(d, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        let d = DEFS
            .iter()
            .find(|d| d.key == "unaggregated-query-row-limit")
            .unwrap();
        assert!(checked(d, &json!(0)).is_err());
        assert!(checked(d, &json!(1.5)).is_err());
        assert_eq!(checked(d, &json!(100)).unwrap().as_deref(), Some("100"));
        assert_eq!(checked(d, &Value::Null).unwrap(), None);
        assert_eq!(env_name("site-name"), "MB_SITE_NAME");
        assert!(timezone(&json!("../etc/passwd")).is_err());
        assert!(timezone(&json!("Europe/Paris")).is_ok());
        assert!(timezone(&json!("UTC")).is_ok());
        assert!(timezone(&json!("Mars/Olympus_Mons")).is_err());
    }

    #[test]
    fn string_settings_are_bounded_and_nul_free() {
        let site = DEFS.iter().find(|d| d.key == "site-name").unwrap();
        let at_cap = "é".repeat(MAX_TEXT_CHARS);
        assert_eq!(
            checked(site, &json!(at_cap)).unwrap().as_deref(),
            Some(at_cap.as_str())
        );
        let over = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(checked(site, &json!(over)).unwrap_err(), TOO_LONG);
        assert_eq!(checked(site, &json!("a\0b")).unwrap_err(), NO_NUL);
        // Every string setting, not only the free-text one.
        for key in ["site-locale", "report-timezone", "start-of-week"] {
            let d = DEFS.iter().find(|d| d.key == key).unwrap();
            assert_eq!(checked(d, &json!("x\0")).unwrap_err(), NO_NUL, "{key}");
            assert_eq!(
                checked(d, &json!("y".repeat(MAX_TEXT_CHARS + 1))).unwrap_err(),
                TOO_LONG,
                "{key}"
            );
        }
    }
}
