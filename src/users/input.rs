//! Parsing and validating user request bodies and queries into typed values
//! (people-and-groups.md 4.2–4.7). Every failing field is reported together, in Metabase's
//! validation shape and in the order Metabase reports them; the field helpers are shared with
//! `POST /api/setup`.
use secrecy::SecretString;
use serde_json::{Map, Value};

use super::store::{UserListFilter, UserStatus};
use crate::error::validation::{
    is_valid_email, Fields, ValidationErrors, EMAIL, NON_BLANK, PASSWORD,
};
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryParams;
use crate::passwords::PasswordPolicy;

pub const LOCALE_MESSAGE: &str = "String must be a valid two-letter ISO language or language-country code, e.g. 'en' or 'en_US'.";
const LOGIN_ATTR_MESSAGE: &str = "login attribute keys must not start with \"@\".";
const RESERVED_DOMAIN: &str = "@api-key.invalid";
const STATUS_MESSAGE: &str = "value must be one of: active, deactivated, all.";

/// `GET /api/user`: the SQL filter, the name query (lower-cased) and the page.
#[derive(Debug, Clone)]
pub struct UserListQuery {
    pub filter: UserListFilter,
    pub needle: Option<String>,
    /// Both set or both unset.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// `POST /api/user`. An explicit `null` and an absent field mean the same.
#[derive(Debug)]
pub struct UserCreate {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password: Option<SecretString>,
    /// A non-empty membership list; `None` means All Users only.
    pub groups: Option<Vec<i64>>,
    /// Serialised JSON object.
    pub login_attributes: Option<String>,
    pub locale: Option<String>,
}

/// `PUT /api/user/:id`: `None` leaves a field unchanged, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserUpdate {
    pub email: Option<String>,
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    /// A non-empty membership list (an empty one leaves memberships unchanged).
    pub groups: Option<Vec<i64>>,
    pub is_superuser: Option<bool>,
    /// Serialised JSON object.
    pub login_attributes: Option<Option<String>>,
    pub locale: Option<Option<String>>,
}

/// `PUT /api/user/:id/password`.
#[derive(Debug)]
pub struct PasswordChange {
    pub password: SecretString,
    /// Empty when absent or not a string (checked only for callers who are not superusers).
    pub old_password: SecretString,
}

/// `GET /api/user` query parameters.
pub fn list_query(q: &QueryParams) -> ApiResult<UserListQuery> {
    let mut errs = ValidationErrors::new();
    let status = match q.get("status") {
        Some("active") => Some(UserStatus::Active),
        Some("deactivated") => Some(UserStatus::Deactivated),
        Some("all") => Some(UserStatus::All),
        Some(other) => {
            let got = Value::String(other.into());
            errs.add_received(&["status"], STATUS_MESSAGE, Some(&got));
            None
        }
        None => None,
    };
    let include_deactivated = q.boolean(&mut errs, "include_deactivated");
    let group_id = q.positive_int(&mut errs, "group_id");
    let paging = q.paging(&mut errs);
    errs.into_result()?;
    let status = status.unwrap_or(if include_deactivated == Some(true) {
        UserStatus::All
    } else {
        UserStatus::Active
    });
    let needle = q
        .get("query")
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    Ok(UserListQuery {
        filter: UserListFilter { status, group_id },
        needle,
        limit: paging.limit,
        offset: paging.offset,
    })
}

/// `POST /api/user` body.
pub fn user_create(body: &Map<String, Value>, policy: &PasswordPolicy) -> ApiResult<UserCreate> {
    let f = Fields::new(body);
    let mut errs = ValidationErrors::new();
    let email = email(&f, &mut errs, true);
    let first_name = name(&f, &mut errs, "first_name");
    let last_name = name(&f, &mut errs, "last_name");
    let password = password(&f, &mut errs, policy, false);
    let groups = memberships(&f, &mut errs);
    let login_attributes = login_attributes(&f, &mut errs);
    let locale = locale(&f, &mut errs);
    errs.into_result()?;
    Ok(UserCreate {
        email: email.ok_or_else(|| ApiError::internal("validated email missing"))?,
        first_name: first_name.flatten(),
        last_name: last_name.flatten(),
        password,
        groups: groups.filter(|g| !g.is_empty()),
        login_attributes: login_attributes.flatten(),
        locale: locale.flatten(),
    })
}

/// `PUT /api/user/:id` body.
pub fn user_update(body: &Map<String, Value>) -> ApiResult<UserUpdate> {
    let f = Fields::new(body);
    let mut errs = ValidationErrors::new();
    let email = email(&f, &mut errs, false);
    let first_name = name(&f, &mut errs, "first_name");
    let last_name = name(&f, &mut errs, "last_name");
    let groups = memberships(&f, &mut errs);
    let is_superuser = f.boolean(&mut errs, "is_superuser");
    let login_attributes = login_attributes(&f, &mut errs);
    let locale = locale(&f, &mut errs);
    errs.into_result()?;
    Ok(UserUpdate {
        email,
        first_name,
        last_name,
        groups: groups.filter(|g| !g.is_empty()),
        is_superuser,
        login_attributes,
        locale,
    })
}

/// `PUT /api/user/:id/password` body.
pub fn password_change(
    body: &Map<String, Value>,
    policy: &PasswordPolicy,
) -> ApiResult<PasswordChange> {
    let f = Fields::new(body);
    let mut errs = ValidationErrors::new();
    let password = password(&f, &mut errs, policy, true);
    errs.into_result()?;
    let old = body
        .get("old_password")
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok(PasswordChange {
        password: password.ok_or_else(|| ApiError::internal("validated password missing"))?,
        old_password: SecretString::from(old.to_string()),
    })
}

/// A password the policy accepts. The error details never echo it.
fn password(
    f: &Fields,
    errs: &mut ValidationErrors,
    policy: &PasswordPolicy,
    required: bool,
) -> Option<SecretString> {
    match f.get("password") {
        None | Some(Value::Null) if !required => None,
        Some(Value::String(p)) if policy.check(p) => Some(SecretString::from(p.clone())),
        _ => {
            errs.add(&path(f, "password"), PASSWORD, vec![]);
            None
        }
    }
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

/// `null` or a non-blank string of at most 254 characters: `None` when absent (or invalid),
/// `Some(None)` for `null`.
pub fn name(
    f: &Fields,
    errs: &mut ValidationErrors,
    field: &'static str,
) -> Option<Option<String>> {
    match f.get(field) {
        None => None,
        Some(Value::Null) => Some(None),
        Some(_) => f.non_blank(errs, field, 254, false).map(Some),
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

/// A locale, normalised: `None` when absent (or invalid), `Some(None)` for `null`.
pub fn locale(f: &Fields, errs: &mut ValidationErrors) -> Option<Option<String>> {
    match f.get("locale") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => match v.as_str().and_then(normalize_locale) {
            Some(l) => Some(Some(l)),
            None => {
                errs.add_received(&path(f, "locale"), LOCALE_MESSAGE, Some(v));
                None
            }
        },
    }
}

/// A JSON object of scalar values whose keys do not start with `@`, returned serialised: `None`
/// when absent (or invalid), `Some(None)` for `null`.
pub fn login_attributes(f: &Fields, errs: &mut ValidationErrors) -> Option<Option<String>> {
    match f.get("login_attributes") {
        None => None,
        Some(Value::Null) => Some(None),
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
                None
            } else {
                Some(Some(Value::Object(m.clone()).to_string()))
            }
        }
        Some(v) => {
            errs.add_received(
                &path(f, "login_attributes"),
                "value must be a map.",
                Some(v),
            );
            None
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
