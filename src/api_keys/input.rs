//! Request bodies of the `/api/api-key` endpoints, validated at the edge (api-keys.md 5.1, 5.4,
//! 5.5). Every failing field is reported together, in Metabase's validation shape.
use serde_json::{Map, Value};

use crate::auth::restrictions::{self, Parsed, Restrictions};
use crate::clock::Timestamp;
use crate::error::validation::{Fields, ValidationErrors};
use crate::error::{ApiError, ApiResult};

/// Longest key name, in Unicode scalar values.
pub const MAX_NAME: usize = 254;
/// Longest grace period for a retired secret.
pub const MAX_GRACE_SECONDS: i64 = 86_400;
pub const GRACE_MESSAGE: &str = "value must be an integer between 0 and 86400.";

/// `POST /api/api-key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub name: String,
    pub group_id: i64,
    pub expires_at: Option<Timestamp>,
    pub restrictions: Option<Restrictions>,
}

/// `PUT /api/api-key/:id`: `None` leaves a field unchanged; `expires_at: Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPatch {
    pub name: Option<String>,
    pub group_id: Option<i64>,
    pub expires_at: Option<Option<Timestamp>>,
    /// `Some(None)`: remove every restriction; `Some(Some(r))`: replace them whole.
    pub restrictions: Option<Option<Restrictions>>,
}

pub fn new_key(body: &Map<String, Value>) -> ApiResult<NewKey> {
    let f = Fields::new(body);
    let mut errs = ValidationErrors::new();
    let name = f.non_blank(&mut errs, "name", MAX_NAME, true);
    let group_id = f.positive_int(&mut errs, "group_id", true);
    let expires_at = f.timestamp(&mut errs, "expires_at");
    let restrictions = restrictions(&mut errs, body);
    errs.into_result()?;
    match (name, group_id) {
        (Some(name), Some(group_id)) => Ok(NewKey {
            name,
            group_id,
            expires_at: expires_at.flatten(),
            restrictions: restrictions.flatten(),
        }),
        _ => Err(ApiError::internal("validated api-key fields missing")),
    }
}

pub fn patch(body: &Map<String, Value>) -> ApiResult<KeyPatch> {
    let f = Fields::new(body);
    let mut errs = ValidationErrors::new();
    let name = f.non_blank(&mut errs, "name", MAX_NAME, false);
    let group_id = f.positive_int(&mut errs, "group_id", false);
    let expires_at = f.timestamp(&mut errs, "expires_at");
    let restrictions = restrictions(&mut errs, body);
    errs.into_result()?;
    Ok(KeyPatch {
        name,
        group_id,
        expires_at,
        restrictions,
    })
}

/// `restrictions` (key-restrictions.md §3.2): absent → `None`; `null` → `Some(None)`; a valid
/// object → `Some(Some(_))`; anything else is reported under `restrictions`.
fn restrictions(
    errs: &mut ValidationErrors,
    body: &Map<String, Value>,
) -> Option<Option<Restrictions>> {
    let got = body.get("restrictions")?;
    match restrictions::parse(got) {
        Ok(Parsed::None) => Some(None),
        Ok(Parsed::Some(r)) => Some(Some(r)),
        Err(message) => {
            errs.add_received(&["restrictions"], &message, Some(got));
            None
        }
    }
}

/// `grace_period_seconds`: a JSON integer from 0 to 86400; absent or `null` means 0.
pub fn grace_period(body: &Map<String, Value>) -> ApiResult<i64> {
    let got = body.get("grace_period_seconds");
    let n = match got {
        None | Some(Value::Null) => return Ok(0),
        Some(v @ Value::Number(n)) if !n.is_f64() => v.as_i64(),
        Some(_) => None,
    };
    match n {
        Some(n) if (0..=MAX_GRACE_SECONDS).contains(&n) => Ok(n),
        _ => {
            let mut errs = ValidationErrors::new();
            errs.add_received(&["grace_period_seconds"], GRACE_MESSAGE, got);
            Err(ApiError::Validation(errs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn errors(r: ApiResult<impl std::fmt::Debug>) -> Value {
        match r {
            Err(ApiError::Validation(e)) => e.into_json(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn create_rules() {
        let ok = new_key(&obj(json!({"name": "k", "group_id": 2, "foo": 1}))).unwrap();
        assert_eq!(
            ok,
            NewKey {
                name: "k".into(),
                group_id: 2,
                expires_at: None,
                restrictions: None
            }
        );
        let e = errors(new_key(&obj(json!({"name": "x", "group_id": null}))));
        assert_eq!(
            e["errors"],
            json!({"group_id": "value must be an integer greater than zero."})
        );
        assert_eq!(
            e["specific-errors"]["group_id"],
            json!(["value must be an integer greater than zero., received: nil"])
        );
        for bad in [json!(0), json!(-3), json!(1.5), json!("5"), json!(5.0)] {
            let e = errors(new_key(&obj(json!({"name": "x", "group_id": bad}))));
            assert_eq!(
                e["errors"]["group_id"],
                "value must be an integer greater than zero."
            );
        }
        // Several invalid fields are reported together.
        let e = errors(new_key(&obj(json!({"name": "", "expires_at": "tomorrow"}))));
        let mut fields: Vec<&String> = e["errors"].as_object().unwrap().keys().collect();
        fields.sort_unstable();
        assert_eq!(fields, ["expires_at", "group_id", "name"]);
        let e = errors(new_key(&obj(
            json!({"name": "a".repeat(255), "group_id": 1}),
        )));
        assert_eq!(
            e["errors"]["name"],
            "value must be a string of at most 254 characters."
        );
        assert!(new_key(&obj(json!({"name": "é".repeat(254), "group_id": 1}))).is_ok());
        let e = errors(new_key(&obj(json!({"name": 5, "group_id": 1}))));
        assert_eq!(e["errors"]["name"], "value must be a non-blank string.");
    }

    #[test]
    fn patch_distinguishes_absent_and_null() {
        assert_eq!(patch(&obj(json!({}))).unwrap(), KeyPatch::default());
        assert_eq!(
            patch(&obj(json!({"name": null, "group_id": null}))).unwrap(),
            KeyPatch::default()
        );
        assert_eq!(
            patch(&obj(json!({"expires_at": null}))).unwrap().expires_at,
            Some(None)
        );
        let e = errors(patch(&obj(json!({"name": "  "}))));
        assert_eq!(
            e["specific-errors"]["name"],
            json!(["non-blank string, received: \"  \""])
        );
    }

    #[test]
    fn grace_rules() {
        assert_eq!(grace_period(&obj(json!({}))).unwrap(), 0);
        assert_eq!(
            grace_period(&obj(json!({"grace_period_seconds": null}))).unwrap(),
            0
        );
        assert_eq!(
            grace_period(&obj(json!({"grace_period_seconds": 86400}))).unwrap(),
            86400
        );
        for bad in [
            json!(-1),
            json!(86401),
            json!(1.5),
            json!("60"),
            json!(60.0),
            json!(true),
        ] {
            let e = errors(grace_period(&obj(
                json!({"grace_period_seconds": bad.clone()}),
            )));
            assert_eq!(e["errors"]["grace_period_seconds"], GRACE_MESSAGE, "{bad}");
            assert_eq!(
                e["specific-errors"]["grace_period_seconds"],
                json!([format!("{GRACE_MESSAGE}, received: {bad}")])
            );
        }
    }
}
