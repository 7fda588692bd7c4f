//! What the MBQL compiler reads (mbql.md §2, §7.1), loaded for one query: the cards it reads,
//! transitively, with their parsed or resolved queries; native sources resolved with their
//! tags' defaults; the fields and tables the query and those cards name.
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::mbql::Refusal;
use crate::cards::native::native_part;
use crate::cards::template::Resolver;
use crate::data_model::store::{FieldRow, TableRow};
use crate::databases::store::DatabaseRow;
use crate::mbql::compile::{self, CardBody, CardMeta, FieldMeta, Metadata, NativeSql, TableMeta};
use crate::mbql::model::{NativeSource, Query, Source};
use crate::mbql::sql::Fragment;
use crate::store::Tx;
use crate::warehouse::error::{QueryError, ONE_STATEMENT};
use crate::warehouse::sqltext::{single_statement, Dialect};

/// At most this many cards are loaded for one query (sources of sources included).
const MAX_CARDS: usize = 64;

fn table_meta(t: &TableRow, fields: &[FieldRow]) -> TableMeta {
    TableMeta {
        id: t.id,
        db_id: t.db_id,
        schema: (!t.schema.is_empty()).then(|| t.schema.clone()),
        name: t.name.clone(),
        display_name: t.display_name.clone(),
        active: t.active,
        fields: fields.iter().map(|f| f.id).collect(),
    }
}

fn field_meta(f: &FieldRow) -> FieldMeta {
    FieldMeta {
        id: f.id,
        table_id: f.table_id,
        name: f.name.clone(),
        display_name: f.display_name.clone(),
        base_type: f.base_type.clone(),
        effective_type: f.effective_type.clone(),
        semantic_type: f.semantic_type.clone(),
        fk_target_field_id: f.fk_target_field_id,
        visibility_type: f.visibility_type.clone(),
        description: f.description.clone(),
        database_type: f.database_type.clone(),
        active: f.active,
        has_parent: f
            .nfc_path
            .as_deref()
            .is_some_and(|p| p != "null" && p != "[]"),
    }
}

/// Native SQL with its tags' defaults, as a subquery.
fn native_sql(
    db_id: i64,
    engine: Dialect,
    sql: &str,
    tags: &Map<String, Value>,
) -> Result<NativeSql, String> {
    let cards = Default::default();
    let resolver = Resolver {
        database_id: db_id,
        cards: &cards,
    };
    let statement = resolver
        .resolve(sql, tags, &Default::default())
        .map_err(|e| e.message)?;
    let (text, _) = statement.render(engine);
    if single_statement(&text, engine).is_none() {
        return Err(ONE_STATEMENT.to_string());
    }
    Ok(NativeSql {
        sql: Fragment::native(statement.native_pieces()),
    })
}

fn card_body(row: &crate::cards::store::CardRow, engine: Dialect) -> CardBody {
    let stored: Value = serde_json::from_str(&row.dataset_query).unwrap_or(Value::Null);
    let Some(object) = stored.as_object() else {
        return CardBody::Invalid(format!("Card {} has no query.", row.id));
    };
    if let Some(native) = native_part(object) {
        return match native_sql(
            row.database_id.unwrap_or(0),
            engine,
            &native.sql,
            &native.tags,
        ) {
            Ok(n) => CardBody::Native(n),
            Err(e) => CardBody::Invalid(e),
        };
    }
    match crate::mbql::parse(object) {
        Ok(q) => CardBody::Mbql(Box::new(q)),
        Err(e) => CardBody::Invalid(format!("Card {}: {e}", row.id)),
    }
}

/// Native sources written in `q`'s stages.
fn natives(q: &Query) -> impl Iterator<Item = &NativeSource> {
    q.stages.iter().filter_map(|s| match &s.source {
        Source::Native(n) => Some(n),
        _ => None,
    })
}

/// The ids a query and the cards it reads name.
#[derive(Default)]
struct Named {
    tables: BTreeSet<i64>,
    fields: BTreeSet<i64>,
    fks: BTreeSet<i64>,
}

/// Everything `query` and the cards it reads name.
pub(super) async fn load(
    tx: &mut dyn Tx,
    db: &DatabaseRow,
    engine: Dialect,
    query: &Query,
) -> Result<Metadata, Refusal> {
    let mut meta = Metadata::new(db.id, engine);
    let mut named = Named::default();
    let sources = load_cards(tx, engine, query, &mut meta, &mut named).await?;
    for s in sources {
        let resolved = native_sql(db.id, engine, &s.sql, &s.template_tags)
            .map_err(|e| Refusal::Query(QueryError::invalid(e)))?;
        meta.natives.push((s, resolved));
    }
    load_fields(tx, &mut named, &mut meta).await?;
    load_tables(tx, named.tables, &mut meta).await?;
    Ok(meta)
}

/// The cards `query` reads, transitively (at most `MAX_CARDS`), into `meta`; what they name
/// into `named`; the native sources of the query and its cards.
async fn load_cards(
    tx: &mut dyn Tx,
    engine: Dialect,
    query: &Query,
    meta: &mut Metadata,
    named: &mut Named,
) -> Result<Vec<NativeSource>, Refusal> {
    let mut pending = vec![compile::needs(query)];
    let mut sources: Vec<NativeSource> = natives(query).cloned().collect();
    while let Some(n) = pending.pop() {
        named.tables.extend(&n.tables);
        named.fields.extend(&n.fields);
        named.fks.extend(&n.fks);
        for c in n.cards {
            if meta.cards.contains_key(&c) || meta.cards.len() >= MAX_CARDS {
                continue;
            }
            let Some(row) = tx.card_get(c).await? else {
                continue;
            };
            let body = card_body(&row, engine);
            if let CardBody::Mbql(q) = &body {
                pending.push(compile::needs(q));
                sources.extend(natives(q).cloned());
            }
            meta.cards.insert(
                c,
                CardMeta {
                    id: c,
                    database_id: row.database_id,
                    name: row.name.clone(),
                    collection_id: row.collection_id,
                    body,
                },
            );
        }
    }
    Ok(sources)
}

/// The named fields and the targets of the named foreign keys; their tables join `named`.
async fn load_fields(
    tx: &mut dyn Tx,
    named: &mut Named,
    meta: &mut Metadata,
) -> Result<(), Refusal> {
    for f in &named.fields {
        if let Some(row) = tx.dm_field(*f).await? {
            named.tables.insert(row.table_id);
            meta.fields.insert(row.id, field_meta(&row));
        }
    }
    for fk in &named.fks {
        let target = meta.fields.get(fk).and_then(|f| f.fk_target_field_id);
        if let Some(row) = match target {
            Some(t) => tx.dm_field(t).await?,
            None => None,
        } {
            named.tables.insert(row.table_id);
            meta.fields.insert(row.id, field_meta(&row));
        }
    }
    Ok(())
}

/// The named tables with all their fields.
async fn load_tables(
    tx: &mut dyn Tx,
    tables: BTreeSet<i64>,
    meta: &mut Metadata,
) -> Result<(), Refusal> {
    for t in tables {
        let Some(row) = tx.dm_table(t).await? else {
            continue;
        };
        let mut rows = tx.dm_fields(t).await?;
        // §2.2: position, then primary keys, then `type/Name` fields, then lower-cased name.
        rows.sort_by_cached_key(|f| {
            (
                f.position,
                f.semantic_type.as_deref() != Some("type/PK"),
                f.semantic_type.as_deref() != Some("type/Name"),
                f.name.to_lowercase(),
                f.id,
            )
        });
        for f in &rows {
            meta.fields.insert(f.id, field_meta(f));
        }
        meta.tables.insert(t, table_meta(&row, &rows));
    }
    Ok(())
}
