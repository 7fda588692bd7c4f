//! Request bodies and queries of the group and membership endpoints, validated at the edge
//! (people-and-groups.md 5–6); every failing field is reported together.
use serde_json::{Map, Value};

use crate::error::validation::{Fields, ValidationErrors, BOOLEAN};
use crate::error::ApiResult;
use crate::http::query::QueryParams;

/// `GET /api/permissions/group` paging: both set or both unset.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// `POST /api/permissions/membership`.
#[derive(Debug, Clone, Copy)]
pub struct NewMembership {
    pub group_id: i64,
    pub user_id: i64,
    pub is_group_manager: bool,
}

pub fn page(q: &QueryParams) -> ApiResult<Page> {
    let mut errs = ValidationErrors::new();
    let paging = q.paging(&mut errs);
    errs.into_result()?;
    Ok(Page {
        limit: paging.limit,
        offset: paging.offset,
    })
}

/// `{"name": <non-blank string, at most 255 characters>}`.
pub fn group_name(body: &Map<String, Value>) -> ApiResult<String> {
    let mut errs = ValidationErrors::new();
    let name = Fields::new(body).non_blank(&mut errs, "name", 255, true);
    errs.into_result()?;
    Ok(name.unwrap_or_default())
}

pub fn new_membership(body: &Map<String, Value>) -> ApiResult<NewMembership> {
    let f = Fields::new(body);
    let mut errs = ValidationErrors::new();
    let group_id = f.positive_int(&mut errs, "group_id", true);
    let user_id = f.positive_int(&mut errs, "user_id", true);
    let manager = f.boolean(&mut errs, "is_group_manager");
    errs.into_result()?;
    Ok(NewMembership {
        group_id: group_id.unwrap_or_default(),
        user_id: user_id.unwrap_or_default(),
        is_group_manager: manager == Some(true),
    })
}

/// `PUT /api/permissions/membership/:id`: a required boolean `is_group_manager`.
pub fn manager_flag(body: &Map<String, Value>) -> ApiResult<bool> {
    let mut errs = ValidationErrors::new();
    let f = Fields::new(body);
    let flag = f.boolean(&mut errs, "is_group_manager");
    if flag.is_none() && errs.is_empty() {
        errs.add_received(&["is_group_manager"], BOOLEAN, None);
    }
    errs.into_result()?;
    Ok(flag.unwrap_or_default())
}
