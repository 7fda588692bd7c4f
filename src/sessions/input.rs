//! The `POST /api/session` body, validated at the edge (people-and-groups.md 2.2).
use secrecy::SecretString;
use serde_json::{Map, Value};

use crate::error::validation::{Fields, ValidationErrors};
use crate::error::{ApiError, ApiResult};

/// A validated login request.
pub struct Login {
    pub username: String,
    pub password: SecretString,
    pub remember: bool,
}

impl Login {
    /// `{"username", "password", "remember"}`; every failing field is reported together.
    pub fn parse(body: &Map<String, Value>) -> ApiResult<Login> {
        let f = Fields::new(body);
        let mut errs = ValidationErrors::new();
        let username = f.non_blank(&mut errs, "username", usize::MAX, true);
        let password = f.non_blank_any(&mut errs, "password", usize::MAX, true);
        let remember = f.boolean(&mut errs, "remember");
        errs.into_result()?;
        match (username, password) {
            (Some(username), Some(password)) => Ok(Login {
                username,
                password: SecretString::from(password),
                remember: remember.unwrap_or(false),
            }),
            _ => Err(ApiError::internal("validated login fields missing")),
        }
    }
}
