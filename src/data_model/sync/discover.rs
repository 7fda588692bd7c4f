//! What a warehouse holds (data-model.md §2.3): relations, their columns, primary keys and
//! single-column foreign keys, read through the warehouse driver (read-only, sandboxed, under
//! the query timeout). PostgreSQL is read from the catalogue in three set-based statements;
//! SQLite from `sqlite_master` and one pair of pragma functions per relation.
use std::collections::BTreeMap;

use crate::warehouse::cell::Cell;
use crate::warehouse::error::QueryError;

use super::Runner;
use crate::data_model::types;

#[derive(Debug, Clone, Default)]
pub struct Relation {
    /// `""` without schemas.
    pub schema: String,
    pub name: String,
    pub comment: Option<String>,
    pub columns: Vec<ColumnInfo>,
    /// Primary-key columns in key order.
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    /// The catalogue's estimate of the relation's row count (PostgreSQL's `reltuples`), when
    /// it has one: only to choose how to read the sample (analyze), never stored.
    pub estimated_rows: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    /// 0-based rank in the warehouse's column order.
    pub position: i64,
    pub database_type: String,
    pub base_type: &'static str,
    pub nullable: bool,
    pub default: Option<String>,
    pub auto_increment: bool,
    pub generated: bool,
    pub comment: Option<String>,
}

impl ColumnInfo {
    /// NOT NULL, no default, not auto-increment, not generated.
    pub fn required(&self) -> bool {
        !self.nullable && self.default.is_none() && !self.auto_increment && !self.generated
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    pub column: String,
    pub target_schema: String,
    pub target_table: String,
    /// `None` (SQLite): the target table's primary key.
    pub target_column: Option<String>,
}

fn text(c: Option<&Cell>) -> Option<String> {
    match c {
        Some(Cell::Text(s)) => Some(s.clone()),
        Some(Cell::Int(i)) => Some(i.to_string()),
        _ => None,
    }
}

fn int(c: Option<&Cell>) -> i64 {
    match c {
        Some(Cell::Int(i)) => *i,
        Some(Cell::Text(s)) => s.parse().unwrap_or(0),
        Some(Cell::Bool(b)) => i64::from(*b),
        _ => 0,
    }
}

fn boolean(c: Option<&Cell>) -> bool {
    match c {
        Some(Cell::Bool(b)) => *b,
        Some(Cell::Int(i)) => *i != 0,
        _ => false,
    }
}

/// Double-quoted identifier (both engines).
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The relation as a `FROM` target.
pub fn relation_sql(schema: &str, name: &str) -> String {
    if schema.is_empty() {
        quote(name)
    } else {
        format!("{}.{}", quote(schema), quote(name))
    }
}

/// Escapes a text for a SQL string literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub async fn sqlite(runner: &Runner) -> Result<Vec<Relation>, QueryError> {
    let rows = runner
        .rows("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view')")
        .await?;
    let mut names: Vec<String> = rows
        .iter()
        .filter_map(|r| text(r.get(1)))
        .filter(|n| !n.starts_with("sqlite_"))
        .collect();
    names.sort();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        out.push(sqlite_relation(runner, name).await?);
    }
    Ok(out)
}

async fn sqlite_relation(runner: &Runner, name: String) -> Result<Relation, QueryError> {
    let cols = runner
        .rows(&format!(
            "SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden \
             FROM pragma_table_xinfo({}) ORDER BY cid",
            literal(&name)
        ))
        .await?;
    let mut pk: Vec<(i64, String)> = Vec::new();
    let mut columns = Vec::new();
    for r in cols.iter().filter(|r| int(r.get(6)) != 1) {
        let col_name = text(r.get(1)).unwrap_or_default();
        let declared = text(r.get(2))
            .unwrap_or_default()
            .trim()
            .to_ascii_uppercase();
        let database_type = if declared.is_empty() {
            "NULL".to_string()
        } else {
            declared
        };
        if int(r.get(5)) > 0 {
            pk.push((int(r.get(5)), col_name.clone()));
        }
        columns.push(ColumnInfo {
            position: columns.len() as i64,
            base_type: types::sqlite_base_type(&database_type),
            nullable: !boolean(r.get(3)),
            default: text(r.get(4)),
            auto_increment: false,
            generated: false,
            comment: None,
            name: col_name,
            database_type,
        });
    }
    pk.sort();
    let primary_key: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
    if let [only] = primary_key.as_slice() {
        if let Some(c) = columns.iter_mut().find(|c| &c.name == only) {
            c.auto_increment = c.database_type == "INTEGER";
        }
    }
    let fk_rows = runner
        .rows(&format!(
            "SELECT id, seq, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list({})",
            literal(&name)
        ))
        .await?;
    let mut by_id: BTreeMap<i64, Vec<&Vec<Cell>>> = BTreeMap::new();
    for r in &fk_rows {
        by_id.entry(int(r.first())).or_default().push(r);
    }
    let foreign_keys = by_id
        .values()
        .filter(|rows| rows.len() == 1)
        .map(|rows| ForeignKey {
            column: text(rows[0].get(3)).unwrap_or_default(),
            target_schema: String::new(),
            target_table: text(rows[0].get(2)).unwrap_or_default(),
            target_column: text(rows[0].get(4)),
        })
        .collect();
    Ok(Relation {
        schema: String::new(),
        name,
        comment: None,
        columns,
        primary_key,
        foreign_keys,
        estimated_rows: None,
    })
}

/// The relations sync reads: tables, views, materialized views, partitioned and foreign tables
/// (not partitions), outside the system schemas, that the connecting role may select from.
const PG_RELATIONS: &str = "c.relkind IN ('r', 'v', 'm', 'p', 'f') AND NOT c.relispartition \
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
    AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%' \
    AND has_table_privilege(c.oid, 'SELECT')";

pub async fn postgres(runner: &Runner) -> Result<Vec<Relation>, QueryError> {
    let mut rels: BTreeMap<(String, String), Relation> = BTreeMap::new();
    let relations = runner
        .rows(&format!(
            "SELECT n.nspname::text, c.relname::text, obj_description(c.oid, 'pg_class'), \
             c.reltuples::float8 \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {PG_RELATIONS}"
        ))
        .await?;
    for r in &relations {
        let (schema, name) = (
            text(r.first()).unwrap_or_default(),
            text(r.get(1)).unwrap_or_default(),
        );
        rels.insert(
            (schema.clone(), name.clone()),
            Relation {
                schema,
                name,
                comment: text(r.get(2)),
                // -1: never analysed (PostgreSQL 14 and later).
                estimated_rows: match r.get(3) {
                    Some(Cell::Float(n)) if *n >= 0.0 => Some(*n),
                    _ => None,
                },
                ..Relation::default()
            },
        );
    }
    drop(relations);
    // Column comments through a join rather than `col_description` (a function call per
    // column), and ordered by relation oid: only each relation's column order matters here.
    // Both cost most of this statement's time on 20,000 columns.
    let columns = runner
        .rows(&format!(
            "SELECT n.nspname::text, c.relname::text, a.attname::text, t.typname::text, \
             t.typtype::text, t.typcategory::text, a.attnotnull, \
             pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, \
             ds.description \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             LEFT JOIN pg_description ds ON ds.objoid = a.attrelid \
               AND ds.classoid = 'pg_catalog.pg_class'::regclass AND ds.objsubid = a.attnum \
             WHERE a.attnum > 0 AND NOT a.attisdropped AND {PG_RELATIONS} \
             ORDER BY a.attrelid, a.attnum"
        ))
        .await?;
    for r in &columns {
        let key = (
            text(r.first()).unwrap_or_default(),
            text(r.get(1)).unwrap_or_default(),
        );
        let Some(rel) = rels.get_mut(&key) else {
            continue;
        };
        let typname = text(r.get(3)).unwrap_or_default();
        let default = text(r.get(7));
        let identity = text(r.get(8)).is_some_and(|s| !s.is_empty());
        let generated = text(r.get(9)).is_some_and(|s| !s.is_empty());
        let serial = default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("));
        rel.columns.push(ColumnInfo {
            name: text(r.get(2)).unwrap_or_default(),
            position: rel.columns.len() as i64,
            base_type: types::pg_base_type(
                &typname,
                &text(r.get(4)).unwrap_or_default(),
                &text(r.get(5)).unwrap_or_default(),
            ),
            database_type: typname,
            nullable: !boolean(r.get(6)),
            auto_increment: identity || serial,
            default: if generated { None } else { default },
            generated,
            comment: text(r.get(10)),
        });
    }
    // The catalogue rows of a large warehouse are tens of megabytes: gone before the next.
    drop(columns);
    let constraints = runner
        .rows(&format!(
            "SELECT n.nspname::text, c.relname::text, con.conname::text, con.contype::text, \
             a.attname::text, fn.nspname::text, fc.relname::text, fa.attname::text, \
             cardinality(con.conkey) \
             FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum \
             LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
             LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
             LEFT JOIN pg_attribute fa ON fa.attrelid = con.confrelid \
               AND fa.attnum = con.confkey[k.ord] \
             WHERE con.contype IN ('p', 'f') AND {PG_RELATIONS} \
             ORDER BY n.nspname, c.relname, con.conname, k.ord"
        ))
        .await?;
    for r in &constraints {
        let key = (
            text(r.first()).unwrap_or_default(),
            text(r.get(1)).unwrap_or_default(),
        );
        let Some(rel) = rels.get_mut(&key) else {
            continue;
        };
        let column = text(r.get(4)).unwrap_or_default();
        match text(r.get(3)).as_deref() {
            Some("p") => rel.primary_key.push(column),
            Some("f") if int(r.get(8)) == 1 => rel.foreign_keys.push(ForeignKey {
                column,
                target_schema: text(r.get(5)).unwrap_or_default(),
                target_table: text(r.get(6)).unwrap_or_default(),
                target_column: text(r.get(7)),
            }),
            _ => {}
        }
    }
    Ok(rels.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(relation_sql("", "T"), "\"T\"");
        assert_eq!(relation_sql("shop", "orders"), "\"shop\".\"orders\"");
        assert_eq!(literal("it's"), "'it''s'");
    }

    #[test]
    fn required_columns() {
        let c = ColumnInfo {
            nullable: false,
            ..ColumnInfo::default()
        };
        assert!(c.required());
        let with_default = ColumnInfo {
            default: Some("now()".into()),
            ..c.clone()
        };
        assert!(!with_default.required());
    }
}
