//! The samples analysis fingerprints (data-model.md §2.5): the first 10,000 rows of each table
//! with new fields or fields whose base type changed, one statement per table, or on PostgreSQL
//! several small tables per statement (a `UNION ALL` of the tables' own statements): a
//! warehouse statement costs several round trips, which a thousand small tables pay a thousand
//! times otherwise.
use std::collections::{HashMap, HashSet};

use super::discover::{quote, relation_sql, Relation};
use super::{Runner, SyncError};
use crate::data_model::fingerprint::{self, Fingerprint, SAMPLE_ROWS};
use crate::data_model::types;
use crate::warehouse::cell::Cell;
use crate::warehouse::sqltext::Dialect;

/// A field to fingerprint: what the sample statement needs of it.
pub struct Sampled {
    pub id: i64,
    pub name: String,
    pub base_type: String,
    pub database_type: String,
}

/// One table's analysis: its fields to fingerprint (new ones and those whose base type
/// changed).
pub struct Job<'a> {
    pub table_id: i64,
    pub rel: &'a Relation,
    pub fields: Vec<Sampled>,
}

/// The fields of `fields` that have a fingerprint (§2.5).
fn analysable(fields: &[Sampled]) -> Vec<&Sampled> {
    fields
        .iter()
        .filter(|f| !types::is_opaque(&f.base_type))
        .collect()
}

/// The sample statement of one table: its `columns` (quoted), the first [`SAMPLE_ROWS`] rows.
fn sample_sql(rel: &Relation, columns: &[&Sampled]) -> String {
    let columns: Vec<String> = columns.iter().map(|f| quote(&f.name)).collect();
    format!(
        "SELECT {} FROM {} LIMIT {SAMPLE_ROWS}",
        columns.join(", "),
        relation_sql(&rel.schema, &rel.name)
    )
}

/// The fingerprints of `fields` from the sample rows, field `i` being cell `offset + i`.
fn fingerprints(fields: &[&Sampled], rows: &[&[Cell]], offset: usize) -> HashMap<i64, Fingerprint> {
    let mut out = HashMap::new();
    let mut seen = HashSet::new();
    for (i, f) in fields.iter().enumerate() {
        if !seen.insert(f.id) {
            continue;
        }
        let values: Vec<&Cell> = rows
            .iter()
            .map(|r| r.get(offset + i).unwrap_or(&Cell::Null))
            .collect();
        out.insert(f.id, fingerprint::compute(&f.base_type, &values));
    }
    out
}

/// Fingerprints of the analysable fields of `rel`, from one sample of the table.
pub async fn sample(
    runner: &Runner,
    rel: &Relation,
    fields: &[Sampled],
) -> Result<HashMap<i64, Fingerprint>, SyncError> {
    let analysable = analysable(fields);
    if analysable.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = runner
        .rows_capped(&sample_sql(rel, &analysable), SAMPLE_ROWS)
        .await
        .map_err(|e| SyncError(e.message))?;
    let rows: Vec<&[Cell]> = rows.iter().map(Vec::as_slice).collect();
    Ok(fingerprints(&analysable, &rows, 0))
}

/// Most tables whose samples one statement reads ([`sample_batch`]).
const BATCH_TABLES: usize = 8;
/// Most columns of such a statement (each branch carries every column: the statement grows
/// with the square of its tables).
const BATCH_COLUMNS: usize = 160;
/// Most rows of such a statement: more, and its tables are sampled one by one.
const BATCH_ROWS: usize = 4_000;
/// Tables the catalogue estimates at more rows than this are sampled alone.
const SMALL_TABLE: f64 = 100.0;

/// PostgreSQL built-in column types, named without their schema in `database_type`: a batch
/// writes a typed `NULL` of each (`NULL::pg_catalog."int4"`).
const BATCHED_TYPES: &[&str] = &[
    "bool",
    "int2",
    "int4",
    "int8",
    "float4",
    "float8",
    "numeric",
    "money",
    "text",
    "varchar",
    "bpchar",
    "uuid",
    "date",
    "time",
    "timetz",
    "timestamp",
    "timestamptz",
    "inet",
    "cidr",
];

/// Whether `job`'s sample may be read by [`sample_batch`]: a small table (by the catalogue's
/// estimate) of columns of built-in types.
fn batchable(job: &Job<'_>) -> bool {
    job.rel.estimated_rows.is_some_and(|n| n <= SMALL_TABLE)
        && analysable(&job.fields)
            .iter()
            .all(|f| BATCHED_TYPES.contains(&f.database_type.as_str()))
}

/// How many of the first `jobs` one statement samples: the batchable ones in a row, within
/// [`BATCH_TABLES`] and [`BATCH_COLUMNS`]; at least one.
pub fn batch_len(jobs: &[Job<'_>], dialect: Dialect) -> usize {
    if dialect != Dialect::Postgres {
        return 1;
    }
    let mut columns = 0;
    let mut n = 0;
    for job in jobs.iter().take(BATCH_TABLES) {
        columns += analysable(&job.fields).len();
        if !batchable(job) || (n > 0 && columns > BATCH_COLUMNS) {
            break;
        }
        n += 1;
    }
    n.max(1)
}

/// The samples of several small tables read by one statement (PostgreSQL): each table's own
/// sample statement ([`sample_sql`]) is a branch of a `UNION ALL`, led by the table's index
/// and padded with typed `NULL`s in the other tables' columns, so every column keeps its type
/// and decodes as it does alone. `None` when the statement fails or returns more than
/// [`BATCH_ROWS`] rows: the caller then samples each table alone, so a failing table is
/// skipped alone, as before.
pub async fn sample_batch(
    runner: &Runner,
    jobs: &[Job<'_>],
) -> Option<Vec<HashMap<i64, Fingerprint>>> {
    let fields: Vec<Vec<&Sampled>> = jobs.iter().map(|j| analysable(&j.fields)).collect();
    let mut offsets = Vec::with_capacity(jobs.len());
    let mut width = 1;
    for f in &fields {
        offsets.push(width);
        width += f.len();
    }
    let nulls: Vec<String> = fields
        .iter()
        .flatten()
        .map(|f| format!("NULL::pg_catalog.{}", quote(&f.database_type)))
        .collect();
    let branches: Vec<String> = jobs
        .iter()
        .zip(&fields)
        .enumerate()
        .filter(|(_, (_, f))| !f.is_empty())
        .map(|(k, (job, f))| {
            let own: Vec<String> = (0..f.len()).map(|i| format!("s.c{i}")).collect();
            let aliased: Vec<String> = f
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{} AS c{i}", quote(&c.name)))
                .collect();
            let start = offsets[k] - 1;
            let cells: Vec<&str> = nulls[..start]
                .iter()
                .map(String::as_str)
                .chain(own.iter().map(String::as_str))
                .chain(nulls[start + f.len()..].iter().map(String::as_str))
                .collect();
            format!(
                "SELECT {k}, {} FROM (SELECT {} FROM {} LIMIT {SAMPLE_ROWS}) AS s",
                cells.join(", "),
                aliased.join(", "),
                relation_sql(&job.rel.schema, &job.rel.name)
            )
        })
        .collect();
    if branches.is_empty() {
        return Some(jobs.iter().map(|_| HashMap::new()).collect());
    }
    let sql = branches.join(" UNION ALL ");
    let rows = match runner.rows_capped(&sql, BATCH_ROWS + 1).await {
        Ok(rows) if rows.len() <= BATCH_ROWS => rows,
        Ok(_) => return None,
        Err(e) => {
            tracing::debug!(tables = jobs.len(), error = %e.message, "sync: batched samples failed");
            return None;
        }
    };
    let mut by_table: Vec<Vec<&[Cell]>> = vec![Vec::new(); jobs.len()];
    for row in &rows {
        let k = match row.first() {
            Some(Cell::Int(k)) => usize::try_from(*k).ok()?,
            _ => return None,
        };
        by_table.get_mut(k)?.push(row.as_slice());
    }
    Some(
        fields
            .iter()
            .zip(&offsets)
            .zip(&by_table)
            .map(|((f, offset), rows)| fingerprints(f, rows, *offset))
            .collect(),
    )
}
