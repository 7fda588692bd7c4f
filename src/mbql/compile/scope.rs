//! The columns a stage can see (mbql.md §1.6, §2.9, §2.10): its source (a table, or a
//! subquery aliased `source`), its explicit joins, the implicit joins its references add, and
//! its expressions; how each reference becomes SQL and result metadata, with temporal units
//! and binning applied (§2.6).
use std::cell::RefCell;

use serde_json::json;

use super::binning::{self, Strategy};
use super::column::{binning_display, binning_json, fk_display, unit_display, Col};
use super::meta::{FieldMeta, Metadata, Relation, TableMeta};
use super::{probe_key, CompileError, Probe, R};
use crate::mbql::model::{
    Binning, Bucket, CompareOp, Expr, FieldId, FieldRef, FieldTarget, Filter, JoinStrategy,
    Literal, Ref, TemporalUnit,
};
use crate::mbql::sql::{Fragment, SqlDialect, TemporalKind};
use crate::mbql::{IntervalUnit, MbqlError};

/// The compilation context shared by every stage of a query.
pub(super) struct Cx<'a> {
    pub meta: &'a Metadata,
    pub d: &'static dyn SqlDialect,
}

/// What a stage or a join reads.
pub(super) enum Base<'a> {
    Table(&'a TableMeta),
    Rel(Relation),
}

pub(super) struct JoinScope<'a> {
    pub alias: String,
    pub strategy: JoinStrategy,
    pub source: Base<'a>,
    pub on: Fragment,
}

struct Implicit<'a> {
    fk: FieldId,
    via: Option<String>,
    alias: String,
    table: &'a TableMeta,
    on: Fragment,
}

/// A compiled value: its SQL and its column metadata.
#[derive(Debug, Clone)]
pub(super) struct Typed {
    pub sql: Fragment,
    pub col: Col,
}

/// The SQL alias of a stage's subquery source.
pub(super) const SOURCE: &str = "source";

pub(super) struct Scope<'a> {
    pub cx: &'a Cx<'a>,
    pub base: Base<'a>,
    pub joins: Vec<JoinScope<'a>>,
    implicit: RefCell<Vec<Implicit<'a>>>,
    /// Compiled in definition order.
    pub expressions: Vec<(String, Typed)>,
    /// The stage's filters, which narrow binning bounds (§2.6.3).
    pub filters: &'a [Filter],
}

impl<'a> Scope<'a> {
    pub fn new(cx: &'a Cx<'a>, base: Base<'a>, filters: &'a [Filter]) -> Scope<'a> {
        Scope {
            cx,
            base,
            joins: Vec::new(),
            implicit: RefCell::new(Vec::new()),
            expressions: Vec::new(),
            filters,
        }
    }

    pub fn d(&self) -> &'static dyn SqlDialect {
        self.cx.d
    }

    fn field_meta(&self, id: FieldId) -> R<&'a FieldMeta> {
        self.cx
            .meta
            .fields
            .get(&id)
            .ok_or(CompileError::Query(MbqlError::FieldNotFound(id)))
    }

    /// A reference to a field, an expression or a source column, bucketed as it asks.
    pub fn reference(&self, r: &Ref) -> R<Typed> {
        match r {
            Ref::Field(f) => self.field(f),
            Ref::Expression(e) => {
                let t = self.expression(&e.name)?;
                match &e.bucket {
                    Some(Bucket::Temporal(u)) => self.temporal(t, *u),
                    Some(Bucket::Binning(_)) => Err(MbqlError::BinningNotValid {
                        field: e.name.clone(),
                    }
                    .into()),
                    None => Ok(t),
                }
            }
        }
    }

    pub fn expression(&self, name: &str) -> R<Typed> {
        self.expressions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| {
                MbqlError::ExpressionNotDefined {
                    name: name.to_string(),
                }
                .into()
            })
    }

    /// A field reference with its bucket.
    pub fn field(&self, f: &FieldRef) -> R<Typed> {
        let t = self.field_unbucketed(f)?;
        match &f.bucket {
            None => Ok(t),
            Some(Bucket::Temporal(u)) => self.temporal(t, *u),
            Some(Bucket::Binning(b)) => self.binned(t, b, f),
        }
    }

    /// The column a field reference names, before any unit or binning.
    pub fn field_unbucketed(&self, f: &FieldRef) -> R<Typed> {
        if let Some(fk) = f.source_field {
            return self.implicit_field(f, fk);
        }
        match (&f.join_alias, &f.target) {
            (Some(alias), target) => self.join_field(alias, target),
            (None, FieldTarget::Id(id)) => self.base_field(*id),
            (None, FieldTarget::Name { name, .. }) => self.base_column(name),
        }
    }

    fn base_field(&self, id: FieldId) -> R<Typed> {
        let f = self.field_meta(id)?;
        match &self.base {
            Base::Table(t) if f.table_id == t.id => {
                return Ok(Typed {
                    sql: Fragment::column(&t.name, &f.name),
                    col: Col::of_field(f),
                })
            }
            Base::Rel(rel) => {
                if let Some(c) = only(rel.cols.iter().filter(|c| c.id == Some(id))) {
                    return Ok(Typed {
                        sql: Fragment::column(SOURCE, &c.name),
                        col: Col::of_source(c, &c.name),
                    });
                }
            }
            Base::Table(_) => {}
        }
        // A field of a joined table, referred to without its join alias.
        let joined = only(
            self.joins
                .iter()
                .filter(|j| matches!(j.source, Base::Table(t) if t.id == f.table_id)),
        );
        match joined {
            Some(j) => self.join_field(&j.alias, &FieldTarget::Id(id)),
            None => Err(MbqlError::FieldNotAvailable(id).into()),
        }
    }

    fn base_column(&self, name: &str) -> R<Typed> {
        let missing = || CompileError::Query(MbqlError::ColumnNotAvailable(name.to_string()));
        match &self.base {
            Base::Table(t) => {
                let f = self.table_field_named(t, name).ok_or_else(missing)?;
                Ok(Typed {
                    sql: Fragment::column(&t.name, &f.name),
                    col: Col::of_field(f),
                })
            }
            Base::Rel(rel) => {
                let c = rel
                    .cols
                    .iter()
                    .find(|c| c.name == name)
                    .ok_or_else(missing)?;
                Ok(Typed {
                    sql: Fragment::column(SOURCE, &c.name),
                    col: Col::of_source(c, &c.name),
                })
            }
        }
    }

    fn table_field_named(&self, t: &TableMeta, name: &str) -> Option<&'a FieldMeta> {
        t.fields
            .iter()
            .filter_map(|id| self.cx.meta.fields.get(id))
            .find(|f| f.active && f.name == name)
    }

    fn join_field(&self, alias: &str, target: &FieldTarget) -> R<Typed> {
        let j = self
            .joins
            .iter()
            .find(|j| j.alias == alias)
            .ok_or_else(|| MbqlError::NoJoinNamed {
                alias: alias.to_string(),
            })?;
        let (name, mut col) = match (&j.source, target) {
            (Base::Table(t), FieldTarget::Id(id)) => {
                let f = self.field_meta(*id)?;
                if f.table_id != t.id {
                    return Err(MbqlError::FieldNotAvailable(*id).into());
                }
                (f.name.clone(), Col::of_field(f))
            }
            (Base::Table(t), FieldTarget::Name { name, .. }) => {
                let f = self
                    .table_field_named(t, name)
                    .ok_or_else(|| MbqlError::ColumnNotAvailable(name.clone()))?;
                (f.name.clone(), Col::of_field(f))
            }
            (Base::Rel(rel), target) => {
                let c = match target {
                    FieldTarget::Id(id) => only(rel.cols.iter().filter(|c| c.id == Some(*id)))
                        .ok_or(MbqlError::FieldNotAvailable(*id))?,
                    FieldTarget::Name { name, .. } => rel
                        .cols
                        .iter()
                        .find(|c| &c.name == name)
                        .ok_or_else(|| MbqlError::ColumnNotAvailable(name.clone()))?,
                };
                (c.name.clone(), Col::of_source(c, &c.name))
            }
        };
        col.display_name = format!("{} → {}", j.alias, col.display_name);
        col.set_ref_option("join-alias", json!(j.alias));
        Ok(Typed {
            sql: Fragment::column(&j.alias, &name),
            col,
        })
    }

    /// `["field", target, {"source-field": fk}]` (§2.10): one `LEFT JOIN` per foreign key.
    fn implicit_field(&self, f: &FieldRef, fk: FieldId) -> R<Typed> {
        let FieldTarget::Id(target_id) = f.target else {
            return Err(MbqlError::Invalid(
                "A reference through \"source-field\" must name a field by id.".into(),
            )
            .into());
        };
        let fk_ref = FieldRef {
            join_alias: f.source_field_join_alias.clone(),
            ..FieldRef::id(fk)
        };
        let fk_col = self.field_unbucketed(&fk_ref)?;
        let unreachable = || {
            CompileError::Query(MbqlError::CannotReach {
                target: target_id,
                fk,
            })
        };
        let meta = self.cx.meta;
        let pk = fk_col
            .col
            .fk_target_field_id
            .and_then(|p| meta.fields.get(&p))
            .ok_or_else(unreachable)?;
        let target = self.field_meta(target_id)?;
        if target.table_id != pk.table_id {
            return Err(unreachable());
        }
        let table = meta.tables.get(&pk.table_id).ok_or_else(unreachable)?;
        let alias = self.implicit_join(fk, &fk_ref, &fk_col, table, pk);
        let mut col = Col::of_field(target);
        col.display_name = format!(
            "{} → {}",
            fk_display(&fk_col.col.display_name),
            target.display_name
        );
        col.set_ref_option("source-field", json!(fk));
        Ok(Typed {
            sql: Fragment::column(&alias, &target.name),
            col,
        })
    }

    /// The alias of the implicit join through `fk`, added on first use.
    fn implicit_join(
        &self,
        fk: FieldId,
        fk_ref: &FieldRef,
        fk_col: &Typed,
        table: &'a TableMeta,
        pk: &FieldMeta,
    ) -> String {
        let via = fk_ref.join_alias.clone();
        let mut joins = self.implicit.borrow_mut();
        if let Some(j) = joins.iter().find(|j| j.fk == fk && j.via == via) {
            return j.alias.clone();
        }
        let fk_name = fk_col.sql_column_name();
        let mut alias = format!("{}__via__{}", table.name, fk_name);
        if let Some(v) = &via {
            alias = format!("{alias}__via__{v}");
        }
        while joins.iter().any(|j| j.alias == alias) || self.joins.iter().any(|j| j.alias == alias)
        {
            alias.push('_');
        }
        let mut on = fk_col.sql.clone();
        on.push_sql(" = ").push(Fragment::column(&alias, &pk.name));
        joins.push(Implicit {
            fk,
            via,
            alias: alias.clone(),
            table,
            on,
        });
        alias
    }

    /// A temporal unit applied to a column (§2.6.2).
    pub fn temporal(&self, mut t: Typed, unit: TemporalUnit) -> R<Typed> {
        if unit == TemporalUnit::Default {
            return Ok(t);
        }
        let kind = t
            .col
            .temporal_kind()
            .filter(|k| k.fits(unit))
            .ok_or_else(|| MbqlError::UnitNotValid {
                unit: unit.as_str().to_string(),
                field: t.col.display_name.clone(),
            })?;
        let sow = self.cx.meta.settings.start_of_week;
        t.sql = match unit {
            TemporalUnit::Truncate(u) => self.d().truncate(t.sql, kind, u, sow)?,
            TemporalUnit::Extract(e) => {
                t.col.base_type = "type/Integer".into();
                t.col.effective_type = "type/Integer".into();
                t.col.semantic_type = None;
                self.d().extract(t.sql, kind, e, sow)?
            }
            TemporalUnit::Default => t.sql,
        };
        t.col.unit = Some(unit);
        t.col.display_name = format!("{}: {}", t.col.display_name, unit_display(unit));
        t.col.set_ref_option("temporal-unit", json!(unit.as_str()));
        Ok(t)
    }

    /// A breakout: a date or datetime field without a unit is bucketed by day (§2.6.1).
    pub fn breakout(&self, r: &Ref) -> R<Typed> {
        let mut t = match r {
            Ref::Field(f) if f.bucket.is_none() => {
                let t = self.field_unbucketed(f)?;
                let kind = TemporalKind::of_type(&t.col.effective_type);
                if kind.is_some_and(|k| k != TemporalKind::Time) {
                    self.temporal(t, TemporalUnit::Truncate(IntervalUnit::Day))?
                } else {
                    t
                }
            }
            r => self.reference(r)?,
        };
        t.col.source = "breakout";
        Ok(t)
    }

    /// Numeric binning (§2.6.3).
    fn binned(&self, mut t: Typed, b: &Binning, r: &FieldRef) -> R<Typed> {
        if !t.col.is_numeric() {
            return Err(MbqlError::BinningNotValid {
                field: t.col.display_name.clone(),
            }
            .into());
        }
        let settings = &self.cx.meta.settings;
        let coordinate = matches!(
            t.col.semantic_type.as_deref(),
            Some("type/Latitude" | "type/Longitude")
        );
        let strategy = match *b {
            Binning::NumBins(n) => Strategy::NumBins(n),
            Binning::BinWidth(w) => Strategy::BinWidth(w),
            Binning::Default if coordinate => Strategy::BinWidth(settings.breakout_bin_width),
            Binning::Default => Strategy::NumBins(settings.breakout_bins_num),
        };
        let (lo, hi) = self.bounds(&t.sql)?;
        let (lo, hi) = self.narrow(r, lo, hi);
        t.col.display_name = format!("{}: {}", t.col.display_name, binning_display(b, coordinate));
        t.col.semantic_type = None;
        t.col.set_ref_option("binning", binning_json(b));
        t.sql = match (lo, hi) {
            (Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() && lo <= hi => {
                let bins = binning::bins(strategy, lo, hi);
                t.col.binning_info = Some(bins.info());
                self.d().bin(t.sql, bins.min, bins.width)
            }
            _ => self.d().cast(Fragment::sql("NULL"), self.d().float_type()),
        };
        Ok(t)
    }

    /// `MIN` and `MAX` of `x` over the stage's source and joins, without filters: asked of
    /// the service as a [`Probe`] the first time.
    fn bounds(&self, x: &Fragment) -> R<(Option<f64>, Option<f64>)> {
        let mut q = Fragment::sql("SELECT MIN(");
        q.push(x.clone())
            .push_sql("), MAX(")
            .push(x.clone())
            .push_sql(") ")
            .push(Fragment::join(self.source_clauses(), " "));
        let key = probe_key(&q, self.cx.meta.engine);
        match self.cx.meta.probes.bounds.get(&key) {
            Some(b) => Ok(*b),
            None => Err(CompileError::Probe(Probe::Bounds(q))),
        }
    }

    /// The bounds narrowed by the stage's filters on the same reference (§2.6.3 step 1).
    fn narrow(&self, r: &FieldRef, lo: Option<f64>, hi: Option<f64>) -> (Option<f64>, Option<f64>) {
        let same = |e: &Expr| match e {
            Expr::Ref(Ref::Field(f)) => {
                f.target == r.target
                    && f.join_alias == r.join_alias
                    && f.source_field == r.source_field
            }
            _ => false,
        };
        let num = |e: &Expr| match e {
            Expr::Literal(Literal::Int(i)) => Some(*i as f64),
            Expr::Literal(Literal::Float(f)) => Some(*f),
            _ => None,
        };
        let (mut lo, mut hi) = (lo, hi);
        let mut raise = |v: f64| lo = lo.map(|l| l.max(v));
        let mut lower_hi = Vec::new();
        let mut stack: Vec<&Filter> = self.filters.iter().collect();
        while let Some(f) = stack.pop() {
            match f {
                Filter::And(parts) => stack.extend(parts),
                Filter::Compare { op, left, right } if same(left) => {
                    if let Some(v) = num(right) {
                        match op {
                            CompareOp::Gt | CompareOp::Ge => raise(v),
                            CompareOp::Lt | CompareOp::Le => lower_hi.push(v),
                        }
                    }
                }
                Filter::Between { expr, low, high } if same(expr) => {
                    if let Some(v) = num(low) {
                        raise(v);
                    }
                    if let Some(v) = num(high) {
                        lower_hi.push(v);
                    }
                }
                _ => {}
            }
        }
        for v in lower_hi {
            hi = hi.map(|h| h.min(v));
        }
        (lo, hi)
    }

    /// `FROM <source>`, then each explicit join, then each implicit join, one clause each.
    pub fn source_clauses(&self) -> Vec<Fragment> {
        let d = self.d();
        let mut out = Vec::new();
        let mut from = Fragment::sql("FROM ");
        from.push(self.relation_sql(&self.base, SOURCE));
        out.push(from);
        for j in &self.joins {
            let mut f = Fragment::sql(match j.strategy {
                JoinStrategy::LeftJoin => "LEFT JOIN ",
                JoinStrategy::InnerJoin => "INNER JOIN ",
                JoinStrategy::RightJoin => "RIGHT JOIN ",
                JoinStrategy::FullJoin => "FULL JOIN ",
            });
            f.push(self.relation_sql(&j.source, &j.alias));
            if let Base::Table(_) = j.source {
                f.push_sql(" AS ").push_ident(&j.alias);
            }
            f.push_sql(" ON ").push(j.on.clone());
            out.push(f);
        }
        for j in self.implicit.borrow().iter() {
            let mut f = Fragment::sql("LEFT JOIN ");
            f.push(d.table(j.table.schema.as_deref(), &j.table.name))
                .push_sql(" AS ")
                .push_ident(&j.alias)
                .push_sql(" ON ")
                .push(j.on.clone());
            out.push(f);
        }
        out
    }

    /// A table by its name, or a subquery with `alias`.
    fn relation_sql(&self, base: &Base<'_>, alias: &str) -> Fragment {
        match base {
            Base::Table(t) => self.d().table(t.schema.as_deref(), &t.name),
            Base::Rel(rel) => {
                let mut f = rel.sql.clone().parens();
                f.push_sql(" AS ").push_ident(alias);
                f
            }
        }
    }

    /// The implicit fields of a table (§2.2), qualified by `qualifier`.
    pub fn table_fields(&self, t: &TableMeta) -> Vec<&'a FieldMeta> {
        t.fields
            .iter()
            .filter_map(|id| self.cx.meta.fields.get(id))
            .filter(|f| f.is_implicit())
            .collect()
    }

    /// Every column the stage's source returns, as implicit fields (§2.2).
    pub fn base_columns(&self) -> Vec<Typed> {
        match &self.base {
            Base::Table(t) => self
                .table_fields(t)
                .into_iter()
                .map(|f| Typed {
                    sql: Fragment::column(&t.name, &f.name),
                    col: Col::of_field(f),
                })
                .collect(),
            Base::Rel(rel) => rel
                .cols
                .iter()
                .map(|c| Typed {
                    sql: Fragment::column(SOURCE, &c.name),
                    col: Col::of_source(c, &c.name),
                })
                .collect(),
        }
    }

    /// Every column of join `j`, as `"fields": "all"` returns them (§2.9).
    pub fn join_columns(&self, j: &JoinScope<'_>) -> R<Vec<Typed>> {
        let targets: Vec<FieldTarget> = match &j.source {
            Base::Table(t) => self
                .table_fields(t)
                .into_iter()
                .map(|f| FieldTarget::Id(f.id))
                .collect(),
            Base::Rel(rel) => rel
                .cols
                .iter()
                .map(|c| FieldTarget::Name {
                    name: c.name.clone(),
                    base_type: c.base_type.clone(),
                    effective_type: None,
                })
                .collect(),
        };
        targets
            .iter()
            .map(|t| self.join_field(&j.alias, t))
            .collect()
    }
}

impl Typed {
    /// The column name a qualified column reference ends with (for implicit-join aliases).
    fn sql_column_name(&self) -> String {
        self.col.name.clone()
    }
}

/// The one item, if there is exactly one.
fn only<T>(mut it: impl Iterator<Item = T>) -> Option<T> {
    let first = it.next()?;
    it.next().is_none().then_some(first)
}
