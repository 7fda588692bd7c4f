//! The checks that need no metadata (mbql.md §5), run by the service after the existence and
//! permission checks: references that name nothing (expressions, aggregations, join aliases),
//! then clauses, units and aggregations ferrobase does not run (§8), then the aggregations the
//! SQLite engine lacks (§2.5).
use std::collections::HashSet;

use super::error::MbqlError;
use super::model::{
    AggregationKind, Bucket, Expr, Filter, JoinSource, OrderTarget, Query, Ref, Stage,
    TemporalUnit, Unsupported,
};
use super::walk::{walk_clauses, walk_expr, walk_stage, Node};

/// [`check_references`], then [`check_supported`].
pub fn check(query: &Query) -> Result<(), MbqlError> {
    check_references(query)?;
    check_supported(query)
}

/// Expressions defined once and before use, aggregation references in range, join aliases
/// unique and naming a join. Aliases the resolver must compute (joins without `alias`) leave
/// the alias references unchecked here: [`check_join_aliases`] checks them with the resolved
/// aliases.
pub fn check_references(query: &Query) -> Result<(), MbqlError> {
    for stage in &query.stages {
        unique_join_aliases(stage)?;
        expressions(stage)?;
        aggregation_refs(stage)?;
        let aliases: Option<Vec<&str>> = stage.joins.iter().map(|j| j.alias.as_deref()).collect();
        if let Some(aliases) = aliases {
            check_join_aliases(stage, &aliases)?;
        }
    }
    Ok(())
}

fn unique_join_aliases(stage: &Stage) -> Result<(), MbqlError> {
    let mut seen = HashSet::new();
    for alias in stage.joins.iter().filter_map(|j| j.alias.as_deref()) {
        if !seen.insert(alias) {
            return Err(MbqlError::JoinAliasUsedTwice {
                alias: alias.to_string(),
            });
        }
    }
    Ok(())
}

/// Refuses a reference to an expression not among `defined`.
fn expression_defined(node: Node<'_>, defined: &[&str]) -> Result<(), MbqlError> {
    match node {
        Node::Ref(Ref::Expression(e)) if !defined.contains(&e.name.as_str()) => {
            Err(MbqlError::ExpressionNotDefined {
                name: e.name.clone(),
            })
        }
        _ => Ok(()),
    }
}

/// Names unique; an expression refers only to expressions defined before it, the rest of the
/// stage to any of them.
fn expressions(stage: &Stage) -> Result<(), MbqlError> {
    let names: Vec<&str> = stage.expressions.iter().map(|e| e.name.as_str()).collect();
    for (i, named) in stage.expressions.iter().enumerate() {
        if names[..i].contains(&named.name.as_str()) {
            return Err(MbqlError::ExpressionDefinedTwice {
                name: named.name.clone(),
            });
        }
        walk_expr(&named.expr, &mut |n| expression_defined(n, &names[..i]))?;
    }
    walk_clauses(stage, &mut |n| expression_defined(n, &names))
}

fn aggregation_refs(stage: &Stage) -> Result<(), MbqlError> {
    for order in &stage.order_by {
        match &order.target {
            OrderTarget::Aggregation(index) if *index >= stage.aggregations.len() => {
                return Err(MbqlError::NoAggregationAtIndex { index: *index })
            }
            OrderTarget::AggregationUuid(uuid) => {
                return Err(MbqlError::NoAggregationWithUuid { uuid: uuid.clone() })
            }
            _ => {}
        }
    }
    Ok(())
}

/// Every `join-alias` and `source-field-join-alias` of the stage names one of `aliases`.
pub fn check_join_aliases(stage: &Stage, aliases: &[&str]) -> Result<(), MbqlError> {
    walk_stage(stage, &mut |node| {
        let Node::Ref(Ref::Field(field)) = node else {
            return Ok(());
        };
        let named = [&field.join_alias, &field.source_field_join_alias];
        match named
            .into_iter()
            .flatten()
            .find(|a| !aliases.contains(&a.as_str()))
        {
            Some(alias) => Err(MbqlError::NoJoinNamed {
                alias: alias.clone(),
            }),
            None => Ok(()),
        }
    })
}

fn refuse(u: &Unsupported) -> Result<(), MbqlError> {
    Err(MbqlError::Unsupported {
        thing: u.thing.clone(),
    })
}

fn unit(unit: TemporalUnit) -> Result<(), MbqlError> {
    if unit.is_supported() {
        return Ok(());
    }
    Err(MbqlError::Unsupported {
        thing: format!("Temporal unit \"{}\"", unit.as_str()),
    })
}

/// The temporal units a node names.
fn units(node: Node<'_>) -> Vec<TemporalUnit> {
    let bucket = |b: &Option<Bucket>| match b {
        Some(Bucket::Temporal(u)) => vec![*u],
        _ => Vec::new(),
    };
    let interval = |units: &[_]| units.iter().copied().map(TemporalUnit::Truncate).collect();
    match node {
        Node::Ref(Ref::Field(f)) => bucket(&f.bucket),
        Node::Ref(Ref::Expression(e)) => bucket(&e.bucket),
        Node::Filter(Filter::TimeInterval { unit, .. } | Filter::During { unit, .. }) => {
            interval(&[*unit])
        }
        Node::Filter(Filter::RelativeTimeInterval {
            unit, offset_unit, ..
        }) => interval(&[*unit, *offset_unit]),
        Node::Expr(Expr::RelativeDateTime { unit: Some(u), .. })
        | Node::Expr(Expr::DateTimeAdd { unit: u, .. }) => interval(&[*u]),
        Node::Expr(Expr::AbsoluteDateTime { unit, .. }) => vec![*unit],
        _ => Vec::new(),
    }
}

/// Refuses the first clause, function, aggregation or temporal unit ferrobase does not run
/// (§8), in query order.
pub fn check_supported(query: &Query) -> Result<(), MbqlError> {
    for stage in &query.stages {
        walk_stage(stage, &mut |node| {
            match node {
                Node::Filter(Filter::Unsupported(u))
                | Node::Expr(Expr::Unsupported(u))
                | Node::Join(super::model::Join {
                    source: JoinSource::Unsupported(u),
                    ..
                }) => refuse(u)?,
                Node::Aggregation(a) => {
                    if let AggregationKind::Unsupported(u) = &a.kind {
                        refuse(u)?
                    }
                }
                _ => {}
            }
            units(node).into_iter().try_for_each(unit)
        })?;
    }
    Ok(())
}

/// Refuses the aggregations the SQLite engine lacks: `stddev`, `var`, `median`, `percentile`
/// (§2.5, §8).
pub fn check_sqlite(query: &Query) -> Result<(), MbqlError> {
    for stage in &query.stages {
        walk_stage(stage, &mut |node| match node {
            Node::Aggregation(a)
                if matches!(
                    a.kind,
                    AggregationKind::StdDev(_)
                        | AggregationKind::Var(_)
                        | AggregationKind::Median(_)
                        | AggregationKind::Percentile { .. }
                ) =>
            {
                Err(MbqlError::Unsupported {
                    thing: format!("Aggregation \"{}\" on SQLite", a.kind.clause_name()),
                })
            }
            _ => Ok(()),
        })?;
    }
    Ok(())
}
