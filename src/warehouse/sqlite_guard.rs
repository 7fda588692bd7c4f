//! The SQLite sandbox (docs/security.md): which files a warehouse may name (checked when the
//! details are saved *and* at every open, on the canonical path, so a symlink swapped later is
//! caught), the identity marker that gives away ferrobase's own application database whatever
//! its path, and the authorizer every warehouse statement is compiled under: reading actions and
//! allow-listed functions only — no temp objects, no transaction control, no `ATTACH`, no
//! writable or file-revealing `PRAGMA`, no `load_extension`. A denial is by design (nothing
//! outside the list can run), not a blocklist of known attacks.
use std::path::{Path, PathBuf};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

/// The table every ferrobase application database holds (migration 0006): its presence in a
/// warehouse means the warehouse *is* an application database, however it was reached.
pub const IDENTITY_TABLE: &str = "ferrobase_identity";
pub const OWN_DATABASE: &str = "This is ferrobase's own application database.";

pub const NOT_ABSOLUTE: &str = "The SQLite file path must be absolute.";
pub const NOT_A_FILE: &str = "No readable SQLite file exists at this path.";
pub const IN_DATA_DIR: &str =
    "The file must not be ferrobase's application database or lie in its data directory.";
pub const NOT_ALLOWED: &str = "The file must lie in a directory allowed by --sqlite-allowed-dir.";

/// Where SQLite warehouse files may lie (queries.md §1.1). The paths are kept as configured and
/// resolved by [`PathPolicy::check`], at the moment a file is checked: building a policy (once
/// per query plan) costs nothing, and a directory swapped since start-up is seen as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPolicy {
    /// The data directory (nothing inside it is a warehouse).
    pub data_dir: PathBuf,
    /// The application database file, when it is a SQLite file.
    pub app_db: Option<PathBuf>,
    /// Allowed directories; empty = anywhere.
    pub allowed: Vec<PathBuf>,
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| absolute(p))
}

impl PathPolicy {
    pub fn new(data_dir: &Path, app_db: Option<&Path>, allowed: &[PathBuf]) -> PathPolicy {
        PathPolicy {
            data_dir: data_dir.to_path_buf(),
            app_db: app_db.map(Path::to_path_buf),
            allowed: allowed.to_vec(),
        }
    }

    /// The canonical file `raw` names, when the rules allow it; otherwise the `errors.db`
    /// message. Symlinks are resolved first, so the rules apply to the file really opened.
    pub fn check(&self, raw: &Path) -> Result<PathBuf, &'static str> {
        if !raw.is_absolute() {
            return Err(NOT_ABSOLUTE);
        }
        let real = std::fs::canonicalize(raw).map_err(|_| NOT_A_FILE)?;
        if !real.is_file() {
            return Err(NOT_A_FILE);
        }
        let is_app_db = self.app_db.as_deref().is_some_and(|a| canonical(a) == real);
        if is_app_db || real.starts_with(canonical(&self.data_dir)) {
            return Err(IN_DATA_DIR);
        }
        if !self.allowed.is_empty() && !self.allowed.iter().any(|d| real.starts_with(canonical(d)))
        {
            return Err(NOT_ALLOWED);
        }
        Ok(real)
    }
}

/// Functions a warehouse statement may call: SQLite's core scalar, aggregate, window, date,
/// math and JSON functions, and FTS5's auxiliary functions. Anything else (`load_extension`,
/// `fts3_tokenizer`, functions added by a future SQLite) is refused until it is reviewed.
const FUNCTIONS: &[&str] = &[
    // core scalar
    "abs",
    "char",
    "coalesce",
    "concat",
    "concat_ws",
    "format",
    "glob",
    "hex",
    "if",
    "ifnull",
    "iif",
    "instr",
    "length",
    "like",
    "likelihood",
    "likely",
    "lower",
    "ltrim",
    "max",
    "min",
    "nullif",
    "octet_length",
    "printf",
    "quote",
    "random",
    "randomblob",
    "replace",
    "round",
    "rtrim",
    "sign",
    "soundex",
    "sqlite_version",
    "substr",
    "substring",
    "trim",
    "typeof",
    "unhex",
    "unicode",
    "unistr",
    "unlikely",
    "upper",
    "zeroblob",
    "changes",
    "total_changes",
    "last_insert_rowid",
    // aggregate
    "avg",
    "count",
    "group_concat",
    "string_agg",
    "sum",
    "total",
    "median",
    "percentile",
    "percentile_cont",
    "percentile_disc",
    // window
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
    // date and time
    "date",
    "time",
    "datetime",
    "julianday",
    "unixepoch",
    "strftime",
    "timediff",
    "current_date",
    "current_time",
    "current_timestamp",
    // math
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "ceil",
    "ceiling",
    "cos",
    "cosh",
    "degrees",
    "exp",
    "floor",
    "ln",
    "log",
    "log10",
    "log2",
    "mod",
    "pi",
    "pow",
    "power",
    "radians",
    "sin",
    "sinh",
    "sqrt",
    "tan",
    "tanh",
    "trunc",
    // JSON
    "json",
    "jsonb",
    "json_array",
    "jsonb_array",
    "json_array_length",
    "json_error_position",
    "json_extract",
    "jsonb_extract",
    "json_insert",
    "jsonb_insert",
    "json_object",
    "jsonb_object",
    "json_patch",
    "jsonb_patch",
    "json_pretty",
    "json_remove",
    "jsonb_remove",
    "json_replace",
    "jsonb_replace",
    "json_set",
    "jsonb_set",
    "json_type",
    "json_valid",
    "json_quote",
    "json_group_array",
    "jsonb_group_array",
    "json_group_object",
    "jsonb_group_object",
    "json_each",
    "json_tree",
    // full-text search auxiliary functions
    "match",
    "highlight",
    "snippet",
    "bm25",
    "offsets",
    "matchinfo",
];

/// Pragmas that only describe the schema (no argument changes anything). `database_list`,
/// `compile_options` and the like stay out: they reveal server paths and build details.
const SCHEMA_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
];
/// Pragmas allowed without a value only (`PRAGMA user_version = 5` would set it).
const READ_PRAGMAS: &[&str] = &["user_version", "application_id", "encoding"];

/// The decision for one action (unit-tested below; installed by [`install`]).
pub fn authorize(action: &AuthAction<'_>) -> Authorization {
    let allowed = match action {
        AuthAction::Select | AuthAction::Read { .. } | AuthAction::Recursive => true,
        AuthAction::Function { function_name } => {
            let f = function_name.to_ascii_lowercase();
            FUNCTIONS.contains(&f.as_str())
        }
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => {
            let p = pragma_name.to_ascii_lowercase();
            SCHEMA_PRAGMAS.contains(&p.as_str())
                || (READ_PRAGMAS.contains(&p.as_str()) && pragma_value.is_none())
        }
        _ => false,
    };
    if allowed {
        Authorization::Allow
    } else {
        Authorization::Deny
    }
}

/// Compiles every later statement of `conn` under [`authorize`].
pub fn install(conn: &rusqlite::Connection) {
    conn.authorizer(Some(|ctx: AuthContext<'_>| authorize(&ctx.action)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::hooks::TransactionOperation;

    #[test]
    fn only_reading_actions_pass() {
        assert_eq!(authorize(&AuthAction::Select), Authorization::Allow);
        assert_eq!(
            authorize(&AuthAction::Read {
                table_name: "t",
                column_name: "c"
            }),
            Authorization::Allow
        );
        for denied in [
            AuthAction::CreateTempTable { table_name: "t" },
            AuthAction::CreateTempView { view_name: "v" },
            AuthAction::Attach { filename: "/x" },
            AuthAction::Transaction {
                operation: TransactionOperation::Begin,
            },
            AuthAction::Savepoint {
                operation: TransactionOperation::Begin,
                savepoint_name: "s",
            },
            AuthAction::Function {
                function_name: "load_extension",
            },
            AuthAction::Function {
                function_name: "fts3_tokenizer",
            },
            AuthAction::Pragma {
                pragma_name: "database_list",
                pragma_value: None,
            },
            AuthAction::Pragma {
                pragma_name: "user_version",
                pragma_value: Some("5"),
            },
            AuthAction::Insert { table_name: "t" },
        ] {
            assert_eq!(authorize(&denied), Authorization::Deny, "{denied:?}");
        }
        assert_eq!(
            authorize(&AuthAction::Function {
                function_name: "UPPER"
            }),
            Authorization::Allow
        );
        assert_eq!(
            authorize(&AuthAction::Pragma {
                pragma_name: "table_info",
                pragma_value: Some("ORDERS")
            }),
            Authorization::Allow
        );
    }

    #[test]
    fn paths_resolve_through_symlinks_before_the_rules_apply() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        let allowed = root.path().join("allowed");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::create_dir_all(&allowed).unwrap();
        let secret = data.join("ferrobase.db");
        std::fs::write(&secret, b"x").unwrap();
        let fine = allowed.join("w.sqlite");
        std::fs::write(&fine, b"x").unwrap();
        let link = allowed.join("link.sqlite");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let p = PathPolicy::new(&data, Some(&secret), std::slice::from_ref(&allowed));
        assert_eq!(p.check(&fine), Ok(std::fs::canonicalize(&fine).unwrap()));
        assert_eq!(p.check(&link), Err(IN_DATA_DIR));
        assert_eq!(p.check(Path::new("relative.sqlite")), Err(NOT_ABSOLUTE));
        assert_eq!(p.check(&root.path().join("missing")), Err(NOT_A_FILE));
        let outside = root.path().join("o.sqlite");
        std::fs::write(&outside, b"x").unwrap();
        assert_eq!(p.check(&outside), Err(NOT_ALLOWED));
    }
}
