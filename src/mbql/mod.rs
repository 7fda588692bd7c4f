//! MBQL, the structured queries of Metabase's query builder (mbql.md): the typed model of a
//! query and the parser that builds it from either accepted form, legacy MBQL 4
//! (`"type": "query"`) or MBQL 5 stages (`"lib/type": "mbql/query"`), with the normalisation
//! of §1.7 and the spec's error messages (§5).
//!
//! Pipeline: [`parse`] (normalise, then build [`Query`]; malformed input is refused here) →
//! the resolver (tables, fields, cards and permissions against the metadata) → [`check`] (the
//! metadata-free semantic checks and the refusals of §8) → the compiler (SQL per engine). This
//! module holds only the first and third steps and knows nothing of HTTP or databases; the
//! original JSON, which results echo as `json_query`, is kept by the caller.
mod aggregation;
mod check;
mod clause;
pub mod compile;
mod error;
mod expr;
mod filter;
mod join;
mod legacy;
pub mod model;
mod normalize;
mod parse;
mod refs;
pub mod sql;
mod stage;
mod temporal;
mod to_v5;
mod tokens;
mod v5;
mod walk;

pub use check::{check, check_join_aliases, check_references, check_sqlite, check_supported};
pub use error::MbqlError;
pub use model::*;
pub use normalize::{normalize, MAX_DEPTH};
pub use parse::{is_mbql_query, parse, MAX_STAGES};
pub use temporal::TemporalLiteral;
pub use to_v5::legacy_to_v5;
pub use tokens::token;
pub use walk::{walk_aggregation, walk_clauses, walk_expr, walk_filter, walk_stage, Node};

#[cfg(test)]
mod tests;
