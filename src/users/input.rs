//! Parsing and validating user request bodies into typed values (people-and-groups.md 4.5–4.6).
use serde_json::{Map, Value};

use crate::error::validation::{is_valid_email, Fields, ValidationErrors, EMAIL, NON_BLANK};

pub const LOCALE_MESSAGE: &str = "String must be a valid two-letter ISO language or language-country code, e.g. 'en' or 'en_US'.";
const LOGIN_ATTR_MESSAGE: &str = "login attribute keys must not start with \"@\".";
const RESERVED_DOMAIN: &str = "@api-key.invalid";

/// A field that distinguishes absent from an explicit `null`.
#[derive(Debug, Clone, PartialEq)]
pub enum Patch<T> {
    Absent,
    Null,
    Value(T),
}

/// Email: valid, not in the key users' reserved domain; returned lower-cased.
pub fn email(f: &Fields, errs: &mut ValidationErrors, required: bool) -> Option<String> {
    match f.get("email") {
        None | Some(Value::Null) if !required => None,
        Some(Value::String(s))
            if is_valid_email(s) && !s.to_lowercase().ends_with(RESERVED_DOMAIN) =>
        {
            Some(s.to_lowercase())
        }
        other => {
            errs.add_received(&path(f, "email"), EMAIL, other);
            None
        }
    }
}

fn path(f: &Fields, name: &'static str) -> Vec<&'static str> {
    let mut p = f.prefix.clone();
    p.push(name);
    p
}

/// `null` or a non-blank string of at most 254 characters.
pub fn name(f: &Fields, errs: &mut ValidationErrors, field: &'static str) -> Patch<String> {
    match f.get(field) {
        None => Patch::Absent,
        Some(Value::Null) => Patch::Null,
        Some(_) => match f.non_blank(errs, field, 254, false) {
            Some(s) => Patch::Value(s),
            None => Patch::Absent,
        },
    }
}

/// Normalises `ll`, `ll_CC` or `ll-CC` to `ll` / `ll_CC`.
pub fn normalize_locale(s: &str) -> Option<String> {
    let is_lang =
        |l: &str| l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase()) && LANGS.contains(&l);
    let is_country = |c: &str| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase());
    let (lang, country) = match s.split_once(['_', '-']) {
        Some((l, c)) => (l, Some(c)),
        None => (s, None),
    };
    let lang = lang.to_ascii_lowercase();
    if !is_lang(&lang) {
        return None;
    }
    match country {
        None => Some(lang),
        Some(c) => {
            let c = c.to_ascii_uppercase();
            is_country(&c).then(|| format!("{lang}_{c}"))
        }
    }
}

pub fn locale(f: &Fields, errs: &mut ValidationErrors) -> Patch<String> {
    match f.get("locale") {
        None => Patch::Absent,
        Some(Value::Null) => Patch::Null,
        Some(v) => match v.as_str().and_then(normalize_locale) {
            Some(l) => Patch::Value(l),
            None => {
                errs.add_received(&path(f, "locale"), LOCALE_MESSAGE, Some(v));
                Patch::Absent
            }
        },
    }
}

/// A JSON object of scalar values whose keys do not start with `@`; returned serialised.
pub fn login_attributes(f: &Fields, errs: &mut ValidationErrors) -> Patch<String> {
    match f.get("login_attributes") {
        None => Patch::Absent,
        Some(Value::Null) => Patch::Null,
        Some(Value::Object(m)) => {
            let bad_key = m.keys().any(|k| k.starts_with('@'));
            let bad_value = m
                .values()
                .any(|v| !(v.is_string() || v.is_number() || v.is_boolean()));
            if bad_key || bad_value {
                let msg = if bad_key {
                    LOGIN_ATTR_MESSAGE
                } else {
                    "login attribute values must be strings, numbers or booleans."
                };
                errs.add_received(&path(f, "login_attributes"), msg, f.get("login_attributes"));
                Patch::Absent
            } else {
                Patch::Value(Value::Object(m.clone()).to_string())
            }
        }
        Some(v) => {
            errs.add_received(
                &path(f, "login_attributes"),
                "value must be a map.",
                Some(v),
            );
            Patch::Absent
        }
    }
}

/// `user_group_memberships` (`[{"id":…}]`), or the legacy `group_ids` when the former is
/// absent or null. Returns the de-duplicated ids in the given order.
pub fn memberships(f: &Fields, errs: &mut ValidationErrors) -> Option<Vec<i64>> {
    let parse = |v: &Value, object: bool| -> Option<Vec<i64>> {
        let arr = v.as_array()?;
        let mut out = Vec::with_capacity(arr.len());
        for item in arr {
            let id = if object {
                let o = item.as_object()?;
                if o.get("is_group_manager")
                    .is_some_and(|g| !g.is_null() && !g.is_boolean())
                {
                    return None;
                }
                o.get("id")?
            } else {
                item
            };
            match id.as_i64() {
                Some(n) if n > 0 && !id.is_f64() => {
                    if !out.contains(&n) {
                        out.push(n)
                    }
                }
                _ => return None,
            }
        }
        Some(out)
    };
    if let Some(v) = f.given("user_group_memberships") {
        return parse(v, true).or_else(|| {
            errs.add_received(
                &path(f, "user_group_memberships"),
                "value must be an array of maps with an integer id greater than zero.",
                Some(v),
            );
            None
        });
    }
    if let Some(v) = f.given("group_ids") {
        return parse(v, false).or_else(|| {
            errs.add_received(
                &path(f, "group_ids"),
                "value must be an array of integers greater than zero.",
                Some(v),
            );
            None
        });
    }
    None
}

/// Languages of ISO 639-1.
const LANGS: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh",
    "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da",
    "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr",
    "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz",
    "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj",
    "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln",
    "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb",
    "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi",
    "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
    "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti",
    "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo",
    "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// Names: the non-blank check as everywhere else.
pub const NAME_MESSAGE: &str = NON_BLANK;

/// Helper for bodies: the object or an empty one.
pub fn object(v: Option<&Value>) -> Option<&Map<String, Value>> {
    v.and_then(Value::as_object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales() {
        assert_eq!(normalize_locale("es-MX").as_deref(), Some("es_MX"));
        assert_eq!(normalize_locale("es_MX").as_deref(), Some("es_MX"));
        assert_eq!(normalize_locale("es").as_deref(), Some("es"));
        assert_eq!(normalize_locale("eng"), None);
        assert_eq!(normalize_locale("xx"), None);
        assert_eq!(normalize_locale(""), None);
    }
}
