//! Collection permission levels of a caller. PROVISIONAL: superusers write everywhere, everyone
//! else reads and writes the root only. The collections work replaces the body with the real
//! graph lookup; the signature is the contract the cards and dashboards code relies on.
use crate::http::auth::Principal;
use crate::store::{StoreResult, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    None,
    Read,
    Write,
}

/// The caller's level on a collection (`None` = the root, "Our analytics").
pub async fn level(_tx: &mut dyn Tx, caller: &Principal, collection_id: Option<i64>) -> StoreResult<Level> {
    Ok(if caller.is_superuser || collection_id.is_none() {
        Level::Write
    } else {
        Level::None
    })
}
