//! The MBQL compiler (mbql.md §2–§4): a parsed [`Query`] and the [`Metadata`] the service
//! loaded become one `SELECT` statement for the engine, with the metadata of every result
//! column.
//!
//! The compiler is pure: it reads no database. What it needs from the warehouse — the columns
//! of a native source, the `MIN`/`MAX` bounds of a binned column (§2.6.3) — it asks for with
//! [`CompileError::Probe`]; the service runs the probe, records the answer in
//! [`Metadata::probes`] and compiles again (a query needs at most a few). Existence checks
//! ([`check_exists`]) and what permissions must cover ([`reads`]) are separate steps, so the
//! service runs them in the order §5 gives.
mod binning;
mod column;
mod expr;
#[doc(hidden)]
pub mod fixture;
mod meta;
mod needs;
mod scope;
mod stage;
mod window;

pub use column::{Col, Origin};
pub use meta::{
    CardBody, CardMeta, FieldMeta, Metadata, NativeColumn, NativeSql, ProbeAnswers, Relation,
    Settings, TableMeta,
};
pub use needs::{check_exists, needs, reads, Needs, Reads, MAX_CARD_DEPTH};

use serde_json::{Map, Value};

use super::model::Query;
use super::sql::{for_engine, DialectError, Fragment};
use super::MbqlError;
use crate::warehouse::bound::Bound;
use crate::warehouse::sqltext::Dialect;

/// A preliminary query the compiler needs answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// The result columns of native SQL (prepared, not run).
    Columns(Fragment),
    /// `SELECT MIN(x), MAX(x) FROM …`: one row of two numbers (or nulls).
    Bounds(Fragment),
}

impl Probe {
    pub fn sql(&self) -> &Fragment {
        match self {
            Probe::Columns(f) | Probe::Bounds(f) => f,
        }
    }

    /// The key its answer is recorded under in [`ProbeAnswers`].
    pub fn key(&self, engine: Dialect) -> String {
        probe_key(self.sql(), engine)
    }
}

pub(crate) fn probe_key(sql: &Fragment, engine: Dialect) -> String {
    let (text, params) = sql.render(engine);
    format!("{text}\u{0}{params:?}")
}

#[derive(Debug, Clone, PartialEq)]
pub enum CompileError {
    /// A refusal of §5 (invalid query or unsupported feature).
    Query(MbqlError),
    Probe(Probe),
}

impl From<MbqlError> for CompileError {
    fn from(e: MbqlError) -> Self {
        CompileError::Query(e)
    }
}

impl From<DialectError> for CompileError {
    fn from(e: DialectError) -> Self {
        CompileError::Query(match e {
            DialectError::Unsupported { thing } => MbqlError::Unsupported { thing },
            other => MbqlError::Invalid(other.to_string()),
        })
    }
}

pub(crate) type R<T> = Result<T, CompileError>;

/// A compiled query.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The statement's clauses in order (`SELECT …`, `FROM …`, each join, `WHERE …`, …).
    pub clauses: Vec<Fragment>,
    /// The result columns, names de-duplicated.
    pub cols: Vec<Col>,
    /// The last stage aggregates or breaks out (§4.5).
    pub aggregated: bool,
    pub engine: Dialect,
}

impl Compiled {
    fn statement(&self, pretty: bool) -> Fragment {
        Fragment::join(
            self.clauses.iter().cloned(),
            if pretty { "\n" } else { " " },
        )
    }

    /// The statement to run, with its values.
    pub fn render(&self) -> (String, Vec<Bound>) {
        self.statement(false).render_shared(self.engine)
    }

    /// The statement with its values written inline, for display (§4.7).
    pub fn inline(&self, pretty: bool) -> String {
        self.statement(pretty).inline(self.engine)
    }

    /// The `cols` entries (§4.2).
    pub fn cols_json(&self) -> Vec<Map<String, Value>> {
        self.cols.iter().map(|c| c.to_json(&c.name)).collect()
    }
}

/// Compiles `query` (parsed, [`check_exists`]-ed and permission-checked) for the metadata's
/// engine.
pub fn compile(query: &Query, meta: &Metadata) -> Result<Compiled, CompileError> {
    if meta.engine == Dialect::Sqlite {
        super::check_sqlite(query)?;
    }
    super::check(query)?;
    let cx = scope::Cx {
        meta,
        d: for_engine(meta.engine),
    };
    let out = stage::query(&cx, query, 0)?;
    Ok(Compiled {
        clauses: out.clauses,
        cols: out.rel.cols,
        aggregated: out.aggregated,
        engine: meta.engine,
    })
}

#[cfg(test)]
mod tests;
