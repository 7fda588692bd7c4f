//! The `POST /api/setup` body (people-and-groups.md 1.2), validated with the user field rules
//! of [`crate::users::input`]; every failing field is reported together.
use secrecy::SecretString;
use serde_json::{Map, Value};

use crate::error::validation::{Fields, ValidationErrors, PASSWORD};
use crate::error::ApiResult;
use crate::passwords::PasswordPolicy;
use crate::users::input;

/// A valid setup request.
#[derive(Debug)]
pub struct SetupRequest {
    pub token: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password: SecretString,
    pub site_name: String,
    pub site_locale: Option<String>,
}

/// Parses `{"token", "user": {email, password, first_name, last_name}, "prefs": {site_name,
/// site_locale}}`.
pub fn setup_request(
    body: &Map<String, Value>,
    policy: &PasswordPolicy,
) -> ApiResult<SetupRequest> {
    let empty = Map::new();
    let mut errs = ValidationErrors::new();
    let f = Fields::new(body);
    let token = match f.get("token") {
        Some(Value::String(s)) => Some(s.clone()),
        other => {
            errs.add_received(&["token"], "value must be a string.", other);
            None
        }
    };
    let user = input::object(body.get("user")).unwrap_or(&empty);
    let uf = Fields::nested(user, "user");
    let email = input::email(&uf, &mut errs, true);
    let password = match user.get("password") {
        Some(Value::String(p)) if policy.check(p) => Some(p.clone()),
        _ => {
            // The details never echo the password.
            errs.add(&["user", "password"], PASSWORD, vec![]);
            None
        }
    };
    let first = input::name(&uf, &mut errs, "first_name");
    let last = input::name(&uf, &mut errs, "last_name");
    let prefs = input::object(body.get("prefs")).unwrap_or(&empty);
    let pf = Fields::nested(prefs, "prefs");
    let site_name = pf.non_blank(&mut errs, "site_name", 254, true);
    let site_locale = site_locale(prefs, &mut errs);
    errs.into_result()?;
    Ok(SetupRequest {
        token: token.unwrap_or_default(),
        email: email.unwrap_or_default(),
        first_name: first.flatten(),
        last_name: last.flatten(),
        password: SecretString::from(password.unwrap_or_default()),
        site_name: site_name.unwrap_or_default(),
        site_locale,
    })
}

/// `prefs.site_locale`: absent, `null` or a locale (normalised).
fn site_locale(prefs: &Map<String, Value>, errs: &mut ValidationErrors) -> Option<String> {
    match prefs.get("site_locale") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_str().and_then(input::normalize_locale) {
            Some(l) => Some(l),
            None => {
                errs.add_received(&["prefs", "site_locale"], input::LOCALE_MESSAGE, Some(v));
                None
            }
        },
    }
}
