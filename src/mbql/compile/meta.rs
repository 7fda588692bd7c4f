//! What the compiler knows about the world, loaded by the service before compiling: the tables
//! and fields a query names (data-model.md), the cards it reads (their queries already parsed,
//! native ones already resolved to SQL with their parameters' defaults), the settings that
//! change results (mbql.md §0), and the answers of the preliminary queries the compiler asked
//! for (native sources' columns, binning bounds).
use std::collections::HashMap;

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::column::Col;
use crate::mbql::model::{CardId, DatabaseId, FieldId, NativeSource, Query, TableId};
use crate::mbql::sql::Fragment;
use crate::warehouse::sqltext::Dialect;

/// A synced table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableMeta {
    pub id: TableId,
    pub db_id: DatabaseId,
    /// `None` on engines without schemas.
    pub schema: Option<String>,
    pub name: String,
    pub display_name: String,
    pub active: bool,
    /// Its fields, in the implicit-field order of §2.2 (position, primary keys, `type/Name`
    /// fields, lower-cased name), every field including hidden and inactive ones.
    pub fields: Vec<FieldId>,
}

/// A synced field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMeta {
    pub id: FieldId,
    pub table_id: TableId,
    pub name: String,
    pub display_name: String,
    pub base_type: String,
    pub effective_type: String,
    pub semantic_type: Option<String>,
    pub fk_target_field_id: Option<FieldId>,
    pub visibility_type: String,
    pub description: Option<String>,
    pub database_type: String,
    pub active: bool,
    /// A nested field (JSON unfolding): never an implicit field.
    pub has_parent: bool,
}

impl FieldMeta {
    /// An implicit field of its table (§2.2): active, no parent, neither sensitive nor retired.
    pub fn is_implicit(&self) -> bool {
        self.active
            && !self.has_parent
            && self.visibility_type != "sensitive"
            && self.visibility_type != "retired"
    }
}

/// A card read as a source (§1.6) or joined (§2.9).
#[derive(Debug, Clone)]
pub struct CardMeta {
    pub id: CardId,
    pub database_id: Option<DatabaseId>,
    pub name: String,
    /// Where it is filed: reading it as a source needs read access there (§6).
    pub collection_id: Option<i64>,
    pub body: CardBody,
}

#[derive(Debug, Clone)]
pub enum CardBody {
    Mbql(Box<Query>),
    Native(NativeSql),
    /// A stored query that is neither (or does not parse): reading it is an error.
    Invalid(String),
}

/// Native SQL ready to be a subquery: the text after template-tag substitution, with its
/// values bound (never spliced).
#[derive(Debug, Clone, PartialEq)]
pub struct NativeSql {
    pub sql: Fragment,
}

/// The settings of mbql.md §0 and the clock.
#[derive(Debug, Clone)]
pub struct Settings {
    pub start_of_week: Weekday,
    pub breakout_bins_num: u32,
    pub breakout_bin_width: f64,
    /// The report time zone on PostgreSQL, UTC on SQLite (§3.6).
    pub timezone: TimeZone,
    pub now: Timestamp,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            start_of_week: Weekday::Sunday,
            breakout_bins_num: 8,
            breakout_bin_width: 10.0,
            timezone: TimeZone::UTC,
            now: Timestamp::now(),
        }
    }
}

/// A column a native source reports (name and types from the engine).
#[derive(Debug, Clone, PartialEq)]
pub struct NativeColumn {
    pub name: String,
    pub base_type: String,
    pub database_type: String,
}

/// Everything the compiler reads.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub database: DatabaseId,
    pub engine: Dialect,
    pub tables: HashMap<TableId, TableMeta>,
    pub fields: HashMap<FieldId, FieldMeta>,
    pub cards: HashMap<CardId, CardMeta>,
    /// Inline native sources of the query (legacy native `source-query`, MBQL 5 native stage),
    /// resolved by the service.
    pub natives: Vec<(NativeSource, NativeSql)>,
    pub settings: Settings,
    pub probes: ProbeAnswers,
}

/// The answers to [`super::Probe`]s, keyed by the probe's SQL text and values.
#[derive(Debug, Clone, Default)]
pub struct ProbeAnswers {
    pub columns: HashMap<String, Vec<NativeColumn>>,
    pub bounds: HashMap<String, (Option<f64>, Option<f64>)>,
}

impl Metadata {
    pub fn new(database: DatabaseId, engine: Dialect) -> Metadata {
        Metadata {
            database,
            engine,
            tables: HashMap::new(),
            fields: HashMap::new(),
            cards: HashMap::new(),
            natives: Vec::new(),
            settings: Settings::default(),
            probes: ProbeAnswers::default(),
        }
    }

    pub fn native(&self, source: &NativeSource) -> Option<&NativeSql> {
        self.natives
            .iter()
            .find(|(s, _)| s == source)
            .map(|(_, sql)| sql)
    }
}

/// A stage's or card's result: its SQL and columns.
#[derive(Debug, Clone)]
pub struct Relation {
    pub sql: Fragment,
    pub cols: Vec<Col>,
}
