//! The refusals of MBQL parsing and of the checks that need no metadata (mbql.md §5), with the
//! spec's exact messages as their `Display`, and the JSON paths (`query.aggregation[0]`,
//! `stages[0].filters[1]`) that malformed-query messages name.
use crate::warehouse::error::{ErrorType, QueryError};

/// Why an MBQL query is refused. `Display` is the `error` text of the query-failure body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MbqlError {
    /// Malformed MBQL: `path` is the JSON path of the offending value (keys as normalised, §1.7),
    /// `what` says what is wrong, without a final period.
    #[error("Invalid query: {path}: {what}.")]
    Malformed { path: String, what: String },
    /// A clause, option, function, unit or aggregation ferrobase does not run (§8); `thing` is
    /// the clause as written, e.g. `Filter "segment"`.
    #[error("{thing} is not supported by ferrobase.")]
    Unsupported { thing: String },
    /// A string compared with a temporal column that is not a temporal literal (§1.5).
    #[error("Invalid date or datetime value: \"{value}\".")]
    InvalidTemporal { value: String },
    #[error("Expression \"{name}\" is not defined.")]
    ExpressionNotDefined { name: String },
    #[error("Expression \"{name}\" is defined twice.")]
    ExpressionDefinedTwice { name: String },
    #[error("No aggregation at index {index}.")]
    NoAggregationAtIndex { index: usize },
    #[error("No aggregation with uuid {uuid}.")]
    NoAggregationWithUuid { uuid: String },
    #[error("No join named \"{alias}\" in this query.")]
    NoJoinNamed { alias: String },
    #[error("Join alias \"{alias}\" is used twice.")]
    JoinAliasUsedTwice { alias: String },
    // --- against the metadata (the resolver) -----------------------------------------------
    #[error("Table {0} does not exist.")]
    TableNotFound(i64),
    #[error("Field {0} does not exist.")]
    FieldNotFound(i64),
    #[error("Table {0} belongs to a different database.")]
    TableOfOtherDatabase(i64),
    #[error("Field {0} belongs to a different database.")]
    FieldOfOtherDatabase(i64),
    #[error("Field {0} is not available in this query.")]
    FieldNotAvailable(i64),
    #[error("Column \"{0}\" is not available in this query.")]
    ColumnNotAvailable(String),
    #[error("Field {target} cannot be reached through field {fk}.")]
    CannotReach { target: i64, fk: i64 },
    #[error("Card {0} not found.")]
    CardNotFound(i64),
    #[error("Card {0} uses a different database.")]
    CardOfOtherDatabase(i64),
    #[error("Circular or too deeply nested source cards.")]
    CardsTooDeep,
    /// A temporal unit that does not fit the field (§2.6.2, ferrobase rule).
    #[error("Temporal unit {unit} is not valid for field {field}.")]
    UnitNotValid { unit: String, field: String },
    /// Binning on a column that is not a number (§2.6.3, ferrobase rule).
    #[error("Binning is not valid for field {field}.")]
    BinningNotValid { field: String },
    /// What the compiler cannot express for another reason (a card whose stored query is
    /// unreadable, a type mismatch the checks let through); the text says which.
    #[error("{0}")]
    Invalid(String),
}

impl MbqlError {
    /// The `error_type` of the query-failure body.
    pub fn error_type(&self) -> ErrorType {
        match self {
            MbqlError::Unsupported { .. } => ErrorType::UnsupportedFeature,
            _ => ErrorType::InvalidQuery,
        }
    }
}

impl From<MbqlError> for QueryError {
    fn from(e: MbqlError) -> Self {
        QueryError::new(e.error_type(), e.to_string())
    }
}

/// One step of a JSON path.
#[derive(Debug, Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// A JSON path kept as a chain of borrowed steps on the stack: nothing is allocated unless an
/// error renders it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    segment: Segment<'a>,
}

impl<'a> Path<'a> {
    pub(crate) fn root(key: &'a str) -> Self {
        Path {
            parent: None,
            segment: Segment::Key(key),
        }
    }

    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            segment: Segment::Key(key),
        }
    }

    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }

    /// `query.aggregation[0]`.
    pub(crate) fn render(&self) -> String {
        let mut segments = vec![self.segment];
        let mut at = self.parent;
        while let Some(p) = at {
            segments.push(p.segment);
            at = p.parent;
        }
        let mut out = String::new();
        for segment in segments.iter().rev() {
            match segment {
                Segment::Key(k) if out.is_empty() => out.push_str(k),
                Segment::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    /// A malformed-query error at this path.
    pub(crate) fn malformed(&self, what: impl Into<String>) -> MbqlError {
        MbqlError::Malformed {
            path: self.render(),
            what: what.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_the_spec() {
        let query = Path::root("query");
        let aggregation = query.key("aggregation");
        assert_eq!(aggregation.index(0).render(), "query.aggregation[0]");
        let stages = Path::root("stages");
        let stage = stages.index(1);
        let filters = stage.key("filters");
        let filter = filters.index(2);
        assert_eq!(filter.index(3).render(), "stages[1].filters[2][3]");
    }

    #[test]
    fn messages_are_the_spec_texts() {
        let e = Path::root("query")
            .key("aggregation")
            .index(0)
            .malformed("unknown aggregation \"cnt\"");
        assert_eq!(
            e.to_string(),
            "Invalid query: query.aggregation[0]: unknown aggregation \"cnt\"."
        );
        let cases = [
            (
                MbqlError::Unsupported {
                    thing: "Filter \"segment\"".into(),
                },
                "Filter \"segment\" is not supported by ferrobase.",
            ),
            (
                MbqlError::InvalidTemporal { value: "x".into() },
                "Invalid date or datetime value: \"x\".",
            ),
            (
                MbqlError::ExpressionNotDefined {
                    name: "Nope".into(),
                },
                "Expression \"Nope\" is not defined.",
            ),
            (
                MbqlError::ExpressionDefinedTwice { name: "Net".into() },
                "Expression \"Net\" is defined twice.",
            ),
            (
                MbqlError::NoAggregationAtIndex { index: 3 },
                "No aggregation at index 3.",
            ),
            (
                MbqlError::NoAggregationWithUuid { uuid: "c0".into() },
                "No aggregation with uuid c0.",
            ),
            (
                MbqlError::NoJoinNamed { alias: "X".into() },
                "No join named \"X\" in this query.",
            ),
            (
                MbqlError::JoinAliasUsedTwice { alias: "P".into() },
                "Join alias \"P\" is used twice.",
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
        }
    }

    #[test]
    fn error_types() {
        let unsupported = MbqlError::Unsupported {
            thing: "Filter \"segment\"".into(),
        };
        assert_eq!(unsupported.error_type(), ErrorType::UnsupportedFeature);
        let q: QueryError = unsupported.into();
        assert_eq!(
            q.message,
            "Filter \"segment\" is not supported by ferrobase."
        );
        let malformed = Path::root("query").malformed("x");
        assert_eq!(malformed.error_type(), ErrorType::InvalidQuery);
    }
}
