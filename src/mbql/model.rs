//! The typed MBQL query (mbql.md §1–§2): what the parser builds from either form and what the
//! resolver and compiler `match` on. A legacy query and its MBQL 5 twin give equal values.
//!
//! The model holds well-formed queries, not only valid ones: clauses ferrobase refuses
//! (`Unsupported` variants, unsupported temporal units) and references that name nothing
//! (`OrderTarget::AggregationUuid`, an aggregation index out of range, an undefined expression)
//! are kept so that the refusal comes after the existence and permission checks, in the order
//! §5 gives. [`super::check`] reports them; the compiler may assume a checked query.
use serde_json::{Map, Value};

use super::temporal::TemporalLiteral;
pub use super::tokens::{
    ArithOp, CompareOp, DatePart, Direction, Extraction, IntervalUnit, JoinStrategy, MathFn,
    TemporalUnit, TextFn, TextMatch, WeekMode,
};

pub type DatabaseId = i64;
pub type TableId = i64;
pub type FieldId = i64;
pub type CardId = i64;

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub database: DatabaseId,
    /// Innermost first; never empty. Stage `i > 0` reads stage `i − 1` (§1.6, §2.11).
    pub stages: Vec<Stage>,
}

/// One level of a query, evaluated like one `SELECT` (§2.1).
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub source: Source,
    pub joins: Vec<Join>,
    /// In definition order; names as written.
    pub expressions: Vec<NamedExpression>,
    /// AND-ed; a top-level `and` is split into its parts.
    pub filters: Vec<Filter>,
    /// As written; ignored when the stage has an aggregation or a breakout (§2.1).
    pub fields: Vec<Ref>,
    pub aggregations: Vec<Aggregation>,
    pub breakouts: Vec<Ref>,
    pub order_by: Vec<OrderBy>,
    pub limit: Option<u64>,
    pub page: Option<Page>,
}

/// What a stage reads (§1.6).
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Table(TableId),
    /// `"card__N"` or `source-card`.
    Card(CardId),
    /// A legacy native `source-query` or a first `mbql.stage/native` stage.
    Native(NativeSource),
    /// The result of the stage before.
    PreviousStage,
}

/// Native SQL read as a source; the template tags are kept as sent for the native machinery
/// (`cards::template`), which owns their meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeSource {
    pub sql: String,
    pub template_tags: Map<String, Value>,
}

/// An explicit join (§2.9).
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    /// `None`: the resolver names it after the joined table or card.
    pub alias: Option<String>,
    pub strategy: JoinStrategy,
    pub source: JoinSource,
    /// AND-ed; a top-level `and` is split into its parts.
    pub conditions: Vec<Filter>,
    pub fields: JoinFields,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JoinSource {
    Table(TableId),
    Card(CardId),
    /// A join whose `stages` or `source-query` hold more than a source (§1.3).
    Unsupported(Unsupported),
}

#[derive(Debug, Clone, PartialEq)]
pub enum JoinFields {
    All,
    /// The default; an empty list means this too.
    None,
    List(Vec<Ref>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct NamedExpression {
    pub name: String,
    pub expr: Expr,
}

/// A column reference usable in `fields`, `breakout`, `order-by` and expressions (§1.4).
#[derive(Debug, Clone, PartialEq)]
pub enum Ref {
    Field(FieldRef),
    Expression(ExpressionRef),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    pub target: FieldTarget,
    pub bucket: Option<Bucket>,
    pub join_alias: Option<String>,
    /// Implicit join through this foreign-key field (§2.10).
    pub source_field: Option<FieldId>,
    pub source_field_join_alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldTarget {
    /// A field of the metadata; `base-type` and `effective-type` options are informative and
    /// not kept.
    Id(FieldId),
    /// A column of a source query, source card or earlier stage, by result name.
    Name {
        name: String,
        base_type: String,
        effective_type: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpressionRef {
    pub name: String,
    pub bucket: Option<Bucket>,
}

/// Bucketing of a reference: a temporal unit or numeric binning, never both.
#[derive(Debug, Clone, PartialEq)]
pub enum Bucket {
    Temporal(TemporalUnit),
    Binning(Binning),
}

/// §2.6.3. Keys of the binning map other than the strategy's own are not kept: a `field_ref`
/// echoes the canonical map (`{"strategy": "num-bins", "num-bins": 10}`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Binning {
    /// 1 – 1,000 bins.
    NumBins(u32),
    /// A positive, finite width.
    BinWidth(f64),
    /// Resolved from the field's semantic type and settings.
    Default,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub direction: Direction,
    pub target: OrderTarget,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OrderTarget {
    Ref(Ref),
    /// An aggregation of the same stage by index (MBQL 5 uuids are resolved to it).
    Aggregation(usize),
    /// An MBQL 5 aggregation reference whose uuid names no aggregation of the stage.
    AggregationUuid(String),
}

/// `page` → `LIMIT items OFFSET items·(page − 1)`; both at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u64,
    pub items: u64,
}

/// A clause ferrobase does not run; `thing` is the §8 wording, e.g. `Expression "offset"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub thing: String,
}

/// A filter clause (§2.3, §2.4).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    /// `=` (and Metabase's `in`): one value is equality, several are `IN`; a `null` value means
    /// `IS NULL`.
    Equal {
        expr: Expr,
        values: Vec<Expr>,
    },
    /// `!=` (and `not-in`), NULL included.
    NotEqual {
        expr: Expr,
        values: Vec<Expr>,
    },
    Compare {
        op: CompareOp,
        left: Expr,
        right: Expr,
    },
    Between {
        expr: Expr,
        low: Expr,
        high: Expr,
    },
    IsNull(Expr),
    NotNull(Expr),
    IsEmpty(Expr),
    NotEmpty(Expr),
    /// One or more patterns, OR-ed (for `does-not-contain`: none of them).
    Text {
        op: TextMatch,
        expr: Expr,
        patterns: Vec<String>,
        case_sensitive: bool,
    },
    Inside(Box<InsideBox>),
    /// `current` = 0, `last` = −1, `next` = 1.
    TimeInterval {
        expr: Expr,
        amount: i64,
        unit: IntervalUnit,
        include_current: bool,
    },
    RelativeTimeInterval {
        expr: Expr,
        amount: i64,
        unit: IntervalUnit,
        offset: i64,
        offset_unit: IntervalUnit,
    },
    During {
        expr: Expr,
        value: TemporalLiteral,
        unit: IntervalUnit,
    },
    /// A boolean field or expression alone.
    Truthy(Ref),
    Unsupported(Unsupported),
}

/// `["inside", lat, lon, north, west, south, east]`: a point in a box.
#[derive(Debug, Clone, PartialEq)]
pub struct InsideBox {
    pub lat: Expr,
    pub lon: Expr,
    pub north: Expr,
    pub west: Expr,
    pub south: Expr,
    pub east: Expr,
}

/// A literal value (§1.5). Strings stay strings: whether one is a temporal literal depends on
/// the column it is compared with, which only the resolver knows ([`TemporalLiteral::parse`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

/// An expression (§2.7) or value.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Literal),
    Ref(Ref),
    /// `["relative-datetime", n, unit]`; `unit` `None` with `n` 0 is "now".
    RelativeDateTime {
        amount: i64,
        unit: Option<IntervalUnit>,
    },
    AbsoluteDateTime {
        value: TemporalLiteral,
        unit: TemporalUnit,
    },
    Arithmetic {
        op: ArithOp,
        args: Vec<Expr>,
    },
    Math {
        func: MathFn,
        arg: Box<Expr>,
    },
    Power {
        base: Box<Expr>,
        exponent: Box<Expr>,
    },
    Coalesce(Vec<Expr>),
    /// `case` and `if`.
    Case {
        branches: Vec<CaseBranch>,
        default: Option<Box<Expr>>,
    },
    Concat(Vec<Expr>),
    /// `start` is 1-based; a literal 0 is read as 1 [compat].
    Substring {
        text: Box<Expr>,
        start: Box<Expr>,
        length: Option<Box<Expr>>,
    },
    Text {
        func: TextFn,
        arg: Box<Expr>,
    },
    Replace {
        text: Box<Expr>,
        find: Box<Expr>,
        replacement: Box<Expr>,
    },
    /// `datetime-add`; `datetime-subtract` has the amount negated.
    DateTimeAdd {
        expr: Box<Expr>,
        amount: i64,
        unit: IntervalUnit,
    },
    Extract {
        part: DatePart,
        arg: Box<Expr>,
    },
    DayOfWeek {
        arg: Box<Expr>,
        mode: WeekMode,
    },
    Now,
    /// A filter used as a boolean value.
    Predicate(Box<Filter>),
    Unsupported(Unsupported),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseBranch {
    pub when: Filter,
    pub then: Expr,
}

/// An aggregation (§2.5) with the names of `aggregation-options` or MBQL 5 options.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregation {
    pub kind: AggregationKind,
    pub name: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AggregationKind {
    Count(Option<Expr>),
    CumCount(Option<Expr>),
    Distinct(Expr),
    Sum(Expr),
    Avg(Expr),
    Min(Expr),
    Max(Expr),
    CumSum(Expr),
    CountWhere(Filter),
    SumWhere {
        expr: Expr,
        predicate: Filter,
    },
    Share(Filter),
    /// Postgres only: the compiler refuses these on SQLite (§2.5).
    StdDev(Expr),
    Var(Expr),
    Median(Expr),
    /// `p` in 0 – 1.
    Percentile {
        expr: Expr,
        p: f64,
    },
    Unsupported(Unsupported),
}

impl AggregationKind {
    /// The clause name as Metabase writes it (`cum-sum`, `count-where`, …).
    pub fn clause_name(&self) -> &str {
        match self {
            AggregationKind::Count(_) => "count",
            AggregationKind::CumCount(_) => "cum-count",
            AggregationKind::Distinct(_) => "distinct",
            AggregationKind::Sum(_) => "sum",
            AggregationKind::Avg(_) => "avg",
            AggregationKind::Min(_) => "min",
            AggregationKind::Max(_) => "max",
            AggregationKind::CumSum(_) => "cum-sum",
            AggregationKind::CountWhere(_) => "count-where",
            AggregationKind::SumWhere { .. } => "sum-where",
            AggregationKind::Share(_) => "share",
            AggregationKind::StdDev(_) => "stddev",
            AggregationKind::Var(_) => "var",
            AggregationKind::Median(_) => "median",
            AggregationKind::Percentile { .. } => "percentile",
            AggregationKind::Unsupported(u) => &u.thing,
        }
    }
}

impl Stage {
    /// A stage reading `source` with no clauses.
    pub fn new(source: Source) -> Self {
        Stage {
            source,
            joins: Vec::new(),
            expressions: Vec::new(),
            filters: Vec::new(),
            fields: Vec::new(),
            aggregations: Vec::new(),
            breakouts: Vec::new(),
            order_by: Vec::new(),
            limit: None,
            page: None,
        }
    }

    /// Aggregated (§4.5): an aggregation or a breakout.
    pub fn is_aggregated(&self) -> bool {
        !self.aggregations.is_empty() || !self.breakouts.is_empty()
    }
}

impl Page {
    pub fn offset(&self) -> u64 {
        self.items.saturating_mul(self.page.saturating_sub(1))
    }
}

impl FieldRef {
    /// A reference by id without options.
    pub fn id(id: FieldId) -> Self {
        FieldRef {
            target: FieldTarget::Id(id),
            bucket: None,
            join_alias: None,
            source_field: None,
            source_field_join_alias: None,
        }
    }

    pub fn temporal_unit(&self) -> Option<TemporalUnit> {
        match self.bucket {
            Some(Bucket::Temporal(u)) => Some(u),
            _ => None,
        }
    }
}
