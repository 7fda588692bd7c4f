//! A pre-order walk over the clauses of a stage, for the checks here and for the resolver
//! (which collects the field ids, tables and cards a query touches). The visitor returns a
//! `Result` so the first failure stops the walk.
use super::model::{
    Aggregation, AggregationKind, Expr, Filter, Join, JoinFields, OrderTarget, Ref, Stage,
};

/// A clause met by the walk.
#[derive(Debug, Clone, Copy)]
pub enum Node<'a> {
    Join(&'a Join),
    Filter(&'a Filter),
    Expr(&'a Expr),
    Aggregation(&'a Aggregation),
    Ref(&'a Ref),
    /// An order-by target that is an aggregation (by index or unresolved uuid).
    AggregationRef(&'a OrderTarget),
}

/// Everything in a stage: expressions, joins (conditions, then listed fields), filters, fields,
/// aggregations, breakouts, order-by.
pub fn walk_stage<'a, E>(
    stage: &'a Stage,
    visit: &mut impl FnMut(Node<'a>) -> Result<(), E>,
) -> Result<(), E> {
    for named in &stage.expressions {
        walk_expr(&named.expr, visit)?;
    }
    walk_clauses(stage, visit)
}

/// Everything in a stage but its expression definitions.
pub fn walk_clauses<'a, E>(
    stage: &'a Stage,
    visit: &mut impl FnMut(Node<'a>) -> Result<(), E>,
) -> Result<(), E> {
    for join in &stage.joins {
        walk_join(join, visit)?;
    }
    for f in &stage.filters {
        walk_filter(f, visit)?;
    }
    for r in stage.fields.iter().chain(&stage.breakouts) {
        visit(Node::Ref(r))?;
    }
    for a in &stage.aggregations {
        walk_aggregation(a, visit)?;
    }
    for o in &stage.order_by {
        match &o.target {
            OrderTarget::Ref(r) => visit(Node::Ref(r))?,
            target => visit(Node::AggregationRef(target))?,
        }
    }
    Ok(())
}

fn walk_join<'a, E>(
    join: &'a Join,
    visit: &mut impl FnMut(Node<'a>) -> Result<(), E>,
) -> Result<(), E> {
    visit(Node::Join(join))?;
    for f in &join.conditions {
        walk_filter(f, visit)?;
    }
    if let JoinFields::List(refs) = &join.fields {
        for r in refs {
            visit(Node::Ref(r))?;
        }
    }
    Ok(())
}

pub fn walk_aggregation<'a, E>(
    aggregation: &'a Aggregation,
    visit: &mut impl FnMut(Node<'a>) -> Result<(), E>,
) -> Result<(), E> {
    visit(Node::Aggregation(aggregation))?;
    match &aggregation.kind {
        AggregationKind::Count(x) | AggregationKind::CumCount(x) => {
            x.iter().try_for_each(|x| walk_expr(x, visit))
        }
        AggregationKind::Distinct(x)
        | AggregationKind::Sum(x)
        | AggregationKind::Avg(x)
        | AggregationKind::Min(x)
        | AggregationKind::Max(x)
        | AggregationKind::CumSum(x)
        | AggregationKind::StdDev(x)
        | AggregationKind::Var(x)
        | AggregationKind::Median(x)
        | AggregationKind::Percentile { expr: x, .. } => walk_expr(x, visit),
        AggregationKind::CountWhere(f) | AggregationKind::Share(f) => walk_filter(f, visit),
        AggregationKind::SumWhere { expr, predicate } => {
            walk_expr(expr, visit)?;
            walk_filter(predicate, visit)
        }
        AggregationKind::Unsupported(_) => Ok(()),
    }
}

pub fn walk_filter<'a, E>(
    filter: &'a Filter,
    visit: &mut impl FnMut(Node<'a>) -> Result<(), E>,
) -> Result<(), E> {
    visit(Node::Filter(filter))?;
    let exprs: Vec<&Expr> = match filter {
        Filter::And(parts) | Filter::Or(parts) => {
            return parts.iter().try_for_each(|f| walk_filter(f, visit))
        }
        Filter::Not(f) => return walk_filter(f, visit),
        Filter::Truthy(r) => return visit(Node::Ref(r)),
        Filter::Unsupported(_) => return Ok(()),
        Filter::Equal { expr, values } | Filter::NotEqual { expr, values } => {
            std::iter::once(expr).chain(values).collect()
        }
        Filter::Compare { left, right, .. } => vec![left, right],
        Filter::Between { expr, low, high } => vec![expr, low, high],
        Filter::IsNull(x) | Filter::NotNull(x) | Filter::IsEmpty(x) | Filter::NotEmpty(x) => {
            vec![x]
        }
        Filter::Text { expr, .. }
        | Filter::TimeInterval { expr, .. }
        | Filter::RelativeTimeInterval { expr, .. }
        | Filter::During { expr, .. } => vec![expr],
        Filter::Inside(b) => vec![&b.lat, &b.lon, &b.north, &b.west, &b.south, &b.east],
    };
    exprs.into_iter().try_for_each(|x| walk_expr(x, visit))
}

pub fn walk_expr<'a, E>(
    expr: &'a Expr,
    visit: &mut impl FnMut(Node<'a>) -> Result<(), E>,
) -> Result<(), E> {
    visit(Node::Expr(expr))?;
    let children: Vec<&Expr> = match expr {
        Expr::Ref(r) => return visit(Node::Ref(r)),
        Expr::Predicate(f) => return walk_filter(f, visit),
        Expr::Case { branches, default } => {
            for b in branches {
                walk_filter(&b.when, visit)?;
                walk_expr(&b.then, visit)?;
            }
            return default.iter().try_for_each(|d| walk_expr(d, visit));
        }
        Expr::Literal(_)
        | Expr::RelativeDateTime { .. }
        | Expr::AbsoluteDateTime { .. }
        | Expr::Now
        | Expr::Unsupported(_) => Vec::new(),
        Expr::Arithmetic { args, .. } => args.iter().collect(),
        Expr::Coalesce(args) | Expr::Concat(args) => args.iter().collect(),
        Expr::Math { arg, .. }
        | Expr::Text { arg, .. }
        | Expr::Extract { arg, .. }
        | Expr::DayOfWeek { arg, .. } => vec![arg],
        Expr::DateTimeAdd { expr, .. } => vec![expr],
        Expr::Power { base, exponent } => vec![base, exponent],
        Expr::Substring {
            text,
            start,
            length,
        } => std::iter::once(&**text)
            .chain(std::iter::once(&**start))
            .chain(length.as_deref())
            .collect(),
        Expr::Replace {
            text,
            find,
            replacement,
        } => vec![text, find, replacement],
    };
    children.into_iter().try_for_each(|x| walk_expr(x, visit))
}
