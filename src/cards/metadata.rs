//! `result_metadata` computed for native cards (content.md §2.3): the statement is prepared on
//! its database, without fetching rows, within 10 seconds; any failure leaves it `null`. MBQL
//! cards (mbql.md §7.1) are compiled by the query engine, which implements [`QueryDescriber`]
//! (cards sit below queries in the module graph).
use std::time::Duration;

use serde_json::{json, Value};

use super::native::native_part;
use super::template::Resolver;
use super::view::Card;
use crate::auth::Principal;
use crate::databases::details;
use crate::error::ApiResult;
use crate::state::App;

const BUDGET: Duration = Duration::from_secs(10);

/// Compiles an MBQL query without running it (the binning bounds aside).
#[async_trait::async_trait]
pub trait QueryDescriber: Send + Sync {
    /// The `result_metadata` entries of an MBQL `dataset_query` (mbql.md §4.2), or `None`
    /// when it does not compile (an error of §5).
    async fn describe(&self, app: &App, caller: &Principal, query: &Value) -> Option<Value>;

    /// Whether `caller` may save the MBQL `query` (mbql.md §6: query-builder rights on every
    /// table it reads directly, read rights on its source cards and view rights on their
    /// tables). `None` when the query cannot be analysed (it does not parse, or names a table,
    /// field or card that does not exist): such a card is still saved (§7.1) and the
    /// database-level rule of content.md §2.4 decides.
    async fn may_save(
        &self,
        app: &App,
        tx: &mut dyn crate::store::Tx,
        caller: &Principal,
        query: &Value,
    ) -> ApiResult<Option<bool>>;
}

/// The metadata entries of a `dataset_query`, or `None`.
async fn compute(app: &App, caller: &Principal, query: &Value) -> ApiResult<Option<Value>> {
    let Some(native) = query.as_object().and_then(native_part) else {
        if !query.as_object().is_some_and(crate::mbql::is_mbql_query) {
            return Ok(None);
        }
        let describe = app.describer.describe(app, caller, query);
        return Ok(tokio::time::timeout(BUDGET, describe).await.ok().flatten());
    };
    let Some(db_id) = query.get("database").and_then(Value::as_i64) else {
        return Ok(None);
    };
    let mut tx = app.store.read().await?;
    let db = tx.database_get(db_id).await?;
    tx.commit().await?;
    let Some(db) = db else { return Ok(None) };
    let Some(target) = details::stored_target(&app.config, &db.engine, &db.details, db.is_sample)
    else {
        return Ok(None);
    };
    // Tags take their defaults; cards referenced by tags are not expanded (their columns are
    // still known once the card runs).
    let cards = Default::default();
    let resolver = Resolver {
        database_id: db.id,
        cards: &cards,
    };
    let Ok(statement) = resolver.resolve(&native.sql, &native.tags, &Default::default()) else {
        return Ok(None);
    };
    let warehouse = target.build(crate::warehouse::engine::WarehouseOptions::single(
        &app.config,
    ));
    let (sql, params) = statement.render(warehouse.dialect());
    let columns = match tokio::time::timeout(BUDGET, warehouse.describe(sql, params)).await {
        Ok(Ok(c)) => c,
        _ => return Ok(None),
    };
    let entries: Vec<Value> = columns
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "display_name": c.name,
                "base_type": c.base_type,
                "effective_type": c.base_type,
                "database_type": c.database_type,
                "semantic_type": null,
                "field_ref": ["field", c.name, {"base-type": c.base_type}],
            })
        })
        .collect();
    Ok(Some(Value::Array(entries)))
}

/// Computes and stores the `result_metadata` of card `card_id` from its current query; the
/// card as the caller sees it afterwards, or `None` when nothing could be computed.
pub async fn fill(app: &App, caller: &Principal, card_id: i64) -> ApiResult<Option<Card>> {
    let query = {
        let mut tx = app.store.read().await?;
        let c = tx.card_get(card_id).await?;
        tx.commit().await?;
        match c {
            Some(c) => serde_json::from_str::<Value>(&c.dataset_query).unwrap_or(Value::Null),
            None => return Ok(None),
        }
    };
    let Some(metadata) = compute(app, caller, &query).await? else {
        return Ok(None);
    };
    let mut tx = app.store.begin().await?;
    let Some(mut card) = tx.card_get(card_id).await? else {
        return Ok(None);
    };
    // Only if the query is still the one described.
    if serde_json::from_str::<Value>(&card.dataset_query)
        .ok()
        .as_ref()
        != Some(&query)
    {
        return Ok(None);
    }
    card.result_metadata = Some(metadata.to_string());
    tx.card_update(&card).await?;
    let v = super::service::render(tx.as_mut(), caller, &card).await?;
    tx.commit().await?;
    Ok(Some(v))
}
