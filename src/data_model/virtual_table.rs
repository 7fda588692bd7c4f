//! Virtual tables of saved questions (data-model.md §5.14): `GET /api/table/card__:id/query_metadata`
//! describes a card's result columns as a table, from its stored `result_metadata`.
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::auth::Principal;
use crate::cards::service::{resolve, CardRef};
use crate::cards::store::CardRow;
use crate::collections::perms::Level;
use crate::error::{ApiError, ApiResult};
use crate::state::App;

/// A saved question as a table (§5.14); its fields are its `result_metadata` columns as stored,
/// with `id`, `semantic_type` and `table_id` set.
#[derive(Debug, Serialize)]
pub struct VirtualTable {
    pub id: String,
    pub db_id: Option<i64>,
    pub display_name: String,
    pub schema: String,
    pub description: Option<String>,
    pub entity_id: String,
    #[serde(rename = "type")]
    pub card_type: String,
    pub moderated_status: Option<String>,
    pub metrics: [Value; 0],
    pub fields: Vec<Map<String, Value>>,
}

/// The card as a table; archived cards are found, unreadable ones are `403`.
pub async fn query_metadata(
    app: &App,
    caller: &Principal,
    card_id: i64,
) -> ApiResult<VirtualTable> {
    let mut tx = app.store.read().await?;
    let card = resolve(tx.as_mut(), &CardRef::Id(card_id)).await?;
    if crate::cards::service::card_level(tx.as_mut(), caller, &card).await? == Level::None {
        return Err(ApiError::Forbidden);
    }
    let schema = match card.collection_id {
        Some(id) => tx
            .collection_get(id)
            .await?
            .map(|c| c.name)
            .unwrap_or_else(|| "Everything else".into()),
        None => "Everything else".into(),
    };
    let table_id = format!("card__{}", card.id);
    let fields = fields(&card, &table_id);
    Ok(VirtualTable {
        id: table_id,
        db_id: card.database_id,
        display_name: card.name,
        schema,
        description: card.description,
        entity_id: card.entity_id,
        card_type: card.card_type,
        moderated_status: None,
        metrics: [],
        fields,
    })
}

/// One field per `result_metadata` column (§5.14).
fn fields(card: &CardRow, table_id: &str) -> Vec<Map<String, Value>> {
    let columns: Vec<Value> = card
        .result_metadata
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default();
    columns
        .into_iter()
        .filter_map(|c| match c {
            Value::Object(m) => Some(field(m, table_id, card.card_type == "model")),
            _ => None,
        })
        .collect()
}

fn field(mut m: Map<String, Value>, table_id: &str, is_model: bool) -> Map<String, Value> {
    let numeric_id = m.get("id").is_some_and(Value::is_i64);
    if m.get("id").is_none_or(Value::is_null) {
        let name = m.get("name").cloned().unwrap_or(Value::Null);
        let base = m
            .get("base_type")
            .filter(|b| b.is_string())
            .cloned()
            .unwrap_or_else(|| json!("type/*"));
        m.insert("id".into(), json!(["field", name, {"base-type": base}]));
    }
    let semantic = m.get("semantic_type").cloned().unwrap_or(Value::Null);
    let key = matches!(semantic.as_str(), Some("type/PK" | "type/FK"));
    let semantic = if key && !(is_model || numeric_id) {
        Value::Null
    } else {
        semantic
    };
    m.insert("semantic_type".into(), semantic);
    m.insert("table_id".into(), json!(table_id));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_dropped_unless_model_or_real_field() {
        let col = |v: Value| v.as_object().cloned().unwrap();
        let f = field(
            col(json!({"name": "ID", "base_type": "type/Integer", "semantic_type": "type/PK"})),
            "card__7",
            false,
        );
        assert_eq!(f["semantic_type"], Value::Null);
        assert_eq!(
            f["id"],
            json!(["field", "ID", {"base-type": "type/Integer"}])
        );
        assert_eq!(f["table_id"], "card__7");
        let f = field(
            col(json!({"name": "ID", "semantic_type": "type/PK"})),
            "card__7",
            true,
        );
        assert_eq!(f["semantic_type"], "type/PK");
        assert_eq!(f["id"], json!(["field", "ID", {"base-type": "type/*"}]));
        let f = field(
            col(json!({"id": 5, "name": "ID", "semantic_type": "type/FK"})),
            "card__7",
            false,
        );
        assert_eq!(
            (f["semantic_type"].clone(), f["id"].clone()),
            (json!("type/FK"), json!(5))
        );
    }
}
