//! The query string of `GET /api/search`, validated at the edge.
use crate::error::validation::ValidationErrors;
use crate::error::ApiResult;
use crate::http::query::{Paging, QueryParams};

/// `GET /api/search`.
pub struct SearchQuery {
    /// The text to look for; `None` matches everything.
    pub q: Option<String>,
    /// The requested kinds; `None` = every kind.
    pub models: Option<Vec<String>>,
    pub archived: bool,
    pub paging: Paging,
}

/// `models` may repeat, so the raw pairs are read; a blank `q` matches everything.
pub fn query(q: &QueryParams, pairs: &[(String, String)]) -> ApiResult<SearchQuery> {
    let mut errs = ValidationErrors::new();
    let archived = q.boolean(&mut errs, "archived").unwrap_or(false);
    let paging = q.paging(&mut errs);
    errs.into_result()?;
    let models: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "models")
        .map(|(_, v)| v.clone())
        .collect();
    Ok(SearchQuery {
        q: q.get("q")
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string),
        models: (!models.is_empty()).then_some(models),
        archived,
        paging,
    })
}
