//! A query compiled stage by stage (mbql.md §2.1, §2.2, §2.11, §3.1): each stage becomes one
//! `SELECT` whose source is a table, a source card or the stage before (as a subquery aliased
//! `source`).
use serde_json::json;

use super::column::{Col, Origin};
use super::meta::{CardBody, NativeSql, Relation};
use super::needs::MAX_CARD_DEPTH;
use super::scope::{Base, Cx, JoinScope, Scope, Typed};
use super::{probe_key, CompileError, Probe, R};
use crate::mbql::model::{
    CardId, Direction, FieldRef, JoinFields, JoinSource, OrderTarget, Query, Ref, Source, Stage,
};
use crate::mbql::sql::{Fragment, Running};
use crate::mbql::{check_join_aliases, MbqlError};
use crate::warehouse::cell::unique_names;

/// A compiled query or stage.
pub(super) struct Out {
    pub rel: Relation,
    /// The statement's clauses (`SELECT …`, `FROM …`, each join, `WHERE …`, …).
    pub clauses: Vec<Fragment>,
    pub aggregated: bool,
}

pub(super) fn query(cx: &Cx<'_>, q: &Query, depth: usize) -> R<Out> {
    let mut prev: Option<Out> = None;
    for stage in &q.stages {
        let base = match &stage.source {
            Source::Table(t) => {
                Base::Table(cx.meta.tables.get(t).ok_or(MbqlError::TableNotFound(*t))?)
            }
            Source::Card(c) => Base::Rel(card(cx, *c, depth)?),
            Source::Native(n) => {
                let sql = cx.meta.native(n).ok_or_else(|| {
                    MbqlError::Invalid("The native source query could not be prepared.".into())
                })?;
                Base::Rel(native(cx, sql)?)
            }
            Source::PreviousStage => match prev.take() {
                Some(p) => Base::Rel(p.rel),
                None => {
                    return Err(MbqlError::Invalid("The first stage has no source.".into()).into())
                }
            },
        };
        prev = Some(self::stage(cx, stage, base, depth)?);
    }
    prev.ok_or_else(|| MbqlError::Invalid("The query has no stage.".into()).into())
}

/// A source or joined card's result.
fn card(cx: &Cx<'_>, id: CardId, depth: usize) -> R<Relation> {
    if depth >= MAX_CARD_DEPTH {
        return Err(MbqlError::CardsTooDeep.into());
    }
    let card = cx.meta.cards.get(&id).ok_or(MbqlError::CardNotFound(id))?;
    match &card.body {
        CardBody::Mbql(q) => Ok(query(cx, q, depth + 1)?.rel),
        CardBody::Native(sql) => native(cx, sql),
        CardBody::Invalid(why) => Err(MbqlError::Invalid(why.clone()).into()),
    }
}

/// Native SQL as a relation; its columns are asked of the engine (a [`Probe`]).
fn native(cx: &Cx<'_>, n: &NativeSql) -> R<Relation> {
    let key = probe_key(&n.sql, cx.meta.engine);
    let Some(columns) = cx.meta.probes.columns.get(&key) else {
        return Err(CompileError::Probe(Probe::Columns(n.sql.clone())));
    };
    let names = unique_names(columns.iter().map(|c| c.name.as_str()));
    let cols = columns
        .iter()
        .zip(names)
        .map(|(c, name)| {
            let mut col = Col::computed(Origin::SourceColumn, &name, &c.name, &c.base_type);
            col.database_type = Some(c.database_type.clone());
            col.field_ref = json!(["field", name, {"base-type": c.base_type}]);
            col
        })
        .collect();
    Ok(Relation {
        sql: n.sql.clone(),
        cols,
    })
}

/// The default alias of a join: the joined table's display name or the card's name, made
/// unique with ` - 2`, ` - 3` … (§2.9).
fn default_alias(cx: &Cx<'_>, source: &JoinSource, taken: &[String]) -> String {
    let base = match source {
        JoinSource::Table(t) => cx
            .meta
            .tables
            .get(t)
            .map(|t| t.display_name.clone())
            .unwrap_or_default(),
        JoinSource::Card(c) => cx
            .meta
            .cards
            .get(c)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        JoinSource::Unsupported(_) => String::new(),
    };
    let mut alias = base.clone();
    let mut n = 1;
    while taken.contains(&alias) {
        n += 1;
        alias = format!("{base} - {n}");
    }
    alias
}

fn joins<'a>(cx: &'a Cx<'a>, stage: &'a Stage, scope: &mut Scope<'a>, depth: usize) -> R<()> {
    let mut aliases: Vec<String> = stage.joins.iter().filter_map(|j| j.alias.clone()).collect();
    for j in &stage.joins {
        let source = match &j.source {
            JoinSource::Table(t) => {
                Base::Table(cx.meta.tables.get(t).ok_or(MbqlError::TableNotFound(*t))?)
            }
            JoinSource::Card(c) => Base::Rel(card(cx, *c, depth)?),
            JoinSource::Unsupported(u) => {
                return Err(MbqlError::Unsupported {
                    thing: u.thing.clone(),
                }
                .into())
            }
        };
        let alias = match &j.alias {
            Some(a) => a.clone(),
            None => {
                let a = default_alias(cx, &j.source, &aliases);
                aliases.push(a.clone());
                a
            }
        };
        scope.joins.push(JoinScope {
            alias,
            strategy: j.strategy,
            source,
            on: Fragment::new(),
        });
    }
    let names: Vec<&str> = scope.joins.iter().map(|j| j.alias.as_str()).collect();
    check_join_aliases(stage, &names)?;
    let mut conditions = Vec::new();
    for j in &stage.joins {
        let parts = j
            .conditions
            .iter()
            .map(|c| scope.filter(c))
            .collect::<R<Vec<_>>>()?;
        conditions.push(scope.d().and(parts));
    }
    for (j, on) in scope.joins.iter_mut().zip(conditions) {
        j.on = on;
    }
    Ok(())
}

/// Whether an order-by reference names breakout `b` (the same column; an order-by without a
/// unit or binning matches the bucketed breakout).
fn same_column(order: &Ref, b: &Ref) -> bool {
    if order == b {
        return true;
    }
    match (order, b) {
        (Ref::Field(o), Ref::Field(b)) => {
            o.bucket.is_none()
                && FieldRef {
                    bucket: None,
                    ..b.clone()
                } == *o
        }
        (Ref::Expression(o), Ref::Expression(b)) => o.bucket.is_none() && o.name == b.name,
        _ => false,
    }
}

fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Asc => " ASC",
        Direction::Desc => " DESC",
    }
}

fn stage<'a>(cx: &'a Cx<'a>, stage: &'a Stage, base: Base<'a>, depth: usize) -> R<Out> {
    let mut scope = Scope::new(cx, base, &stage.filters);
    joins(cx, stage, &mut scope, depth)?;
    for named in &stage.expressions {
        let t = scope.expr(&named.expr)?;
        let mut col = Col::computed(
            Origin::Expression,
            &named.name,
            &named.name,
            &t.col.base_type,
        );
        col.field_ref = json!(["expression", named.name]);
        scope
            .expressions
            .push((named.name.clone(), Typed { sql: t.sql, col }));
    }
    let filters = stage
        .filters
        .iter()
        .map(|f| scope.filter(f))
        .collect::<R<Vec<_>>>()?;
    let aggregated = stage.is_aggregated();
    let mut select: Vec<Typed> = Vec::new();
    let mut group_by: Vec<Fragment> = Vec::new();
    let mut order_by: Vec<Fragment> = Vec::new();
    if aggregated {
        let breakouts = stage
            .breakouts
            .iter()
            .map(|b| scope.breakout(b))
            .collect::<R<Vec<_>>>()?;
        let running = breakouts.first().map(|first| Running {
            order_by: first.sql.clone(),
            partition_by: breakouts[1..].iter().map(|b| b.sql.clone()).collect(),
        });
        let aggregations = stage
            .aggregations
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut t = scope.aggregation(a, running.as_ref())?;
                t.col.field_ref = json!(["aggregation", i]);
                Ok(t)
            })
            .collect::<R<Vec<_>>>()?;
        let mut ordered = vec![false; breakouts.len()];
        for o in &stage.order_by {
            let mut f = match &o.target {
                OrderTarget::Ref(r) => {
                    match stage.breakouts.iter().position(|b| same_column(r, b)) {
                        Some(i) => {
                            ordered[i] = true;
                            breakouts[i].sql.clone()
                        }
                        None => scope.reference(r)?.sql,
                    }
                }
                OrderTarget::Aggregation(i) => aggregations
                    .get(*i)
                    .ok_or(MbqlError::NoAggregationAtIndex { index: *i })?
                    .sql
                    .clone(),
                OrderTarget::AggregationUuid(uuid) => {
                    return Err(MbqlError::NoAggregationWithUuid { uuid: uuid.clone() }.into())
                }
            };
            f.push_sql(direction(o.direction));
            order_by.push(f);
        }
        for (b, done) in breakouts.iter().zip(ordered) {
            if !done {
                let mut f = b.sql.clone();
                f.push_sql(" ASC");
                order_by.push(f);
            }
            group_by.push(b.sql.clone());
        }
        select.extend(breakouts);
        select.extend(aggregations);
    } else {
        if stage.fields.is_empty() {
            select.extend(scope.base_columns());
            select.extend(scope.expressions.iter().map(|(_, t)| t.clone()));
        } else {
            for r in &stage.fields {
                select.push(scope.reference(r)?);
            }
        }
        for (j, join) in stage.joins.iter().zip(&scope.joins) {
            match &j.fields {
                JoinFields::None => {}
                JoinFields::All => select.extend(scope.join_columns(join)?),
                JoinFields::List(refs) => {
                    for r in refs {
                        select.push(scope.reference(r)?);
                    }
                }
            }
        }
        for o in &stage.order_by {
            let mut f = match &o.target {
                OrderTarget::Ref(r) => scope.reference(r)?.sql,
                OrderTarget::Aggregation(i) => {
                    return Err(MbqlError::NoAggregationAtIndex { index: *i }.into())
                }
                OrderTarget::AggregationUuid(uuid) => {
                    return Err(MbqlError::NoAggregationWithUuid { uuid: uuid.clone() }.into())
                }
            };
            f.push_sql(direction(o.direction));
            order_by.push(f);
        }
    }
    if select.is_empty() {
        return Err(MbqlError::Invalid("The query returns no column.".into()).into());
    }
    let d = scope.d();
    let names = unique_names(select.iter().map(|t| t.col.name.as_str()));
    let mut items = Vec::new();
    let mut cols = Vec::new();
    for (t, name) in select.into_iter().zip(names) {
        let mut item = t.sql;
        item.push_sql(" AS ").push_ident(&name);
        items.push(item);
        let mut col = t.col;
        col.name = name;
        cols.push(col);
    }
    let mut clauses = Vec::new();
    let mut head = Fragment::sql("SELECT ");
    head.push(Fragment::join(items, ", "));
    clauses.push(head);
    clauses.extend(scope.source_clauses());
    if !filters.is_empty() {
        let mut w = Fragment::sql("WHERE ");
        w.push(if filters.len() == 1 {
            filters.into_iter().next().unwrap_or_default()
        } else {
            d.and(filters)
        });
        clauses.push(w);
    }
    if !group_by.is_empty() {
        let mut g = Fragment::sql("GROUP BY ");
        g.push(Fragment::join(group_by, ", "));
        clauses.push(g);
    }
    if !order_by.is_empty() {
        let mut o = Fragment::sql("ORDER BY ");
        o.push(Fragment::join(order_by, ", "));
        clauses.push(o);
    }
    match (stage.page, stage.limit) {
        (Some(p), _) => clauses.push(d.limit_offset(p.items, p.offset())),
        (None, Some(n)) => clauses.push(d.limit_offset(n, 0)),
        (None, None) => {}
    }
    Ok(Out {
        rel: Relation {
            sql: Fragment::join(clauses.iter().cloned(), " "),
            cols,
        },
        clauses,
        aggregated,
    })
}
