//! What a query names, before anything is compiled: the ids the service must load
//! ([`needs`]), the existence checks of mbql.md §5 against what it loaded ([`check_exists`]),
//! and what the permission checks of §6 must cover ([`reads`]).
use std::collections::BTreeSet;

use super::meta::{CardBody, Metadata};
use crate::mbql::model::{CardId, FieldId, FieldTarget, JoinSource, Query, Ref, Source, TableId};
use crate::mbql::walk::{walk_stage, Node};
use crate::mbql::MbqlError;

/// A source card may read source cards up to this depth (§1.6).
pub const MAX_CARD_DEPTH: usize = 8;

/// The ids one query names itself (not those of the cards it reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    pub tables: BTreeSet<TableId>,
    pub fields: BTreeSet<FieldId>,
    /// Foreign-key fields of implicit joins: their targets must be loaded too.
    pub fks: BTreeSet<FieldId>,
    pub cards: BTreeSet<CardId>,
}

pub fn needs(query: &Query) -> Needs {
    let mut n = Needs::default();
    for stage in &query.stages {
        match &stage.source {
            Source::Table(t) => {
                n.tables.insert(*t);
            }
            Source::Card(c) => {
                n.cards.insert(*c);
            }
            Source::Native(_) | Source::PreviousStage => {}
        }
        let _ = walk_stage(stage, &mut |node| -> Result<(), ()> {
            match node {
                Node::Join(j) => match &j.source {
                    JoinSource::Table(t) => {
                        n.tables.insert(*t);
                    }
                    JoinSource::Card(c) => {
                        n.cards.insert(*c);
                    }
                    JoinSource::Unsupported(_) => {}
                },
                Node::Ref(Ref::Field(f)) => {
                    if let FieldTarget::Id(id) = f.target {
                        n.fields.insert(id);
                    }
                    if let Some(fk) = f.source_field {
                        n.fields.insert(fk);
                        n.fks.insert(fk);
                    }
                }
                _ => {}
            }
            Ok(())
        });
    }
    n
}

/// Tables, fields and cards named by `query` (and, recursively, by the cards it reads) exist,
/// are active and belong to the query's database; source cards nest at most
/// [`MAX_CARD_DEPTH`] deep, without cycles (§1.6, §5).
pub fn check_exists(query: &Query, meta: &Metadata) -> Result<(), MbqlError> {
    check_query(query, meta, &mut Vec::new())
}

fn check_query(query: &Query, meta: &Metadata, path: &mut Vec<CardId>) -> Result<(), MbqlError> {
    let n = needs(query);
    for t in &n.tables {
        match meta.tables.get(t) {
            Some(table) if table.active => {
                if table.db_id != meta.database {
                    return Err(MbqlError::TableOfOtherDatabase(*t));
                }
            }
            _ => return Err(MbqlError::TableNotFound(*t)),
        }
    }
    for f in &n.fields {
        let Some(field) = meta.fields.get(f).filter(|f| f.active) else {
            return Err(MbqlError::FieldNotFound(*f));
        };
        match meta.tables.get(&field.table_id) {
            Some(t) if t.db_id != meta.database => return Err(MbqlError::FieldOfOtherDatabase(*f)),
            _ => {}
        }
    }
    for c in &n.cards {
        check_card(*c, meta, path)?;
    }
    Ok(())
}

fn check_card(id: CardId, meta: &Metadata, path: &mut Vec<CardId>) -> Result<(), MbqlError> {
    if path.contains(&id) || path.len() >= MAX_CARD_DEPTH {
        return Err(MbqlError::CardsTooDeep);
    }
    let Some(card) = meta.cards.get(&id) else {
        return Err(MbqlError::CardNotFound(id));
    };
    if card.database_id != Some(meta.database) {
        return Err(MbqlError::CardOfOtherDatabase(id));
    }
    path.push(id);
    let r = match &card.body {
        CardBody::Mbql(q) if q.database != meta.database => Err(MbqlError::CardOfOtherDatabase(id)),
        CardBody::Mbql(q) => check_query(q, meta, path),
        CardBody::Native(_) | CardBody::Invalid(_) => Ok(()),
    };
    path.pop();
    r
}

/// What running a query reads, for the permission checks of §6.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    /// Tables the query itself reads: stage sources, joined tables, implicit-join targets.
    pub tables: BTreeSet<TableId>,
    /// Every card read, at any depth.
    pub cards: BTreeSet<CardId>,
    /// Tables the cards read, at any depth.
    pub card_tables: BTreeSet<TableId>,
    /// A native card is read (at any depth).
    pub native_card: bool,
    /// The query itself holds native SQL (a native `source-query` or first stage).
    pub native_source: bool,
}

/// What `query` reads; call after [`check_exists`].
pub fn reads(query: &Query, meta: &Metadata) -> Reads {
    let mut r = Reads::default();
    direct(query, meta, &mut r, false, 0);
    r
}

fn direct(query: &Query, meta: &Metadata, r: &mut Reads, in_card: bool, depth: usize) {
    let n = needs(query);
    let mut tables = n.tables.clone();
    for fk in &n.fks {
        let target = meta
            .fields
            .get(fk)
            .and_then(|f| f.fk_target_field_id)
            .and_then(|t| meta.fields.get(&t));
        if let Some(t) = target {
            tables.insert(t.table_id);
        }
    }
    if query
        .stages
        .iter()
        .any(|s| matches!(s.source, Source::Native(_)))
    {
        if in_card {
            r.native_card = true;
        } else {
            r.native_source = true;
        }
    }
    if in_card {
        r.card_tables.extend(tables);
    } else {
        r.tables.extend(tables);
    }
    if depth > MAX_CARD_DEPTH {
        return;
    }
    for c in n.cards {
        if !r.cards.insert(c) {
            continue;
        }
        match meta.cards.get(&c).map(|c| &c.body) {
            Some(CardBody::Mbql(q)) => direct(q, meta, r, true, depth + 1),
            Some(CardBody::Native(_)) => r.native_card = true,
            _ => {}
        }
    }
}
