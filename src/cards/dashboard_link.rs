//! What a card needs to know about dashboards: the tab a dashboard question sits on, and the
//! `series` of dashcards, stored as the compact text of a card-id array (`[3,5]`) so that a
//! card can be found in it with `LIKE`. The rows are the dashboards' (`LayoutTx`), reached
//! through `crate::store::Tx`.
use crate::error::{ApiError, ApiResult};
use crate::store::Tx;

/// The card ids of a stored series (unparseable text reads as empty).
pub fn series_ids(text: &str) -> Vec<i64> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The compact stored text of a series.
pub fn series_text(ids: &[i64]) -> String {
    serde_json::Value::from(ids.to_vec()).to_string()
}

/// The four patterns (one exact, three `LIKE`) that find a card id in a stored series: the
/// compact text of integers is `[5]`, `[5,…`, `…,5,…` or `…,5]`.
pub fn series_patterns(card_id: i64) -> [String; 4] {
    [
        format!("[{card_id}]"),
        format!("[{card_id},%"),
        format!("%,{card_id},%"),
        format!("%,{card_id}]"),
    ]
}

/// A card's `dashboard_tab_id` must be a tab of its dashboard (`400` otherwise, where the
/// foreign key would have refused the write).
pub async fn check_card_tab(
    tx: &mut dyn Tx,
    dashboard_id: Option<i64>,
    tab_id: Option<i64>,
) -> ApiResult<()> {
    let Some(t) = tab_id else { return Ok(()) };
    match tx.tab_get(t).await? {
        Some(tab) if Some(tab.dashboard_id) == dashboard_id => Ok(()),
        _ => Err(ApiError::field(
            "dashboard_tab_id",
            format!("Dashboard tab {t} is not a tab of the card's dashboard."),
        )),
    }
}

/// Takes card `card_id` out of every dashcard's `series` (content.md §4.6), before the card is
/// deleted.
pub async fn remove_from_series(tx: &mut dyn Tx, card_id: i64, now: i64) -> ApiResult<()> {
    for mut dc in tx.dashcards_with_series_card(card_id).await? {
        let ids: Vec<i64> = series_ids(&dc.series)
            .into_iter()
            .filter(|id| *id != card_id)
            .collect();
        dc.series = series_text(&ids);
        dc.updated_at = now;
        tx.dashcard_update(&dc).await?;
    }
    Ok(())
}
