//! Query failures (queries.md §4.8): one error type with Metabase's `error_type`s, the HTTP
//! status that names the failing party, and the query-failure body.
use serde_json::{json, Value};

use crate::error::{ApiError, Kind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    InvalidQuery,
    MissingRequiredParameter,
    InvalidParameter,
    UnsupportedFeature,
    MissingPermissions,
    TimedOut,
    Db,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::InvalidQuery => "invalid-query",
            ErrorType::MissingRequiredParameter => "missing-required-parameter",
            ErrorType::InvalidParameter => "invalid-parameter",
            ErrorType::UnsupportedFeature => "unsupported-feature",
            ErrorType::MissingPermissions => "missing-required-permissions",
            ErrorType::TimedOut => "timed-out",
            ErrorType::Db => "db",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            ErrorType::MissingPermissions => Kind::Forbidden,
            ErrorType::TimedOut => Kind::GatewayTimeout,
            ErrorType::Db => Kind::BadGateway,
            _ => Kind::BadRequest,
        }
    }
}

/// Which party reported the failure (`class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Postgres,
    Sqlite,
    Ferrobase,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Postgres => "postgres",
            Class::Sqlite => "sqlite",
            Class::Ferrobase => "ferrobase",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub error_type: ErrorType,
    pub message: String,
    pub class: Class,
    /// SQLSTATE or SQLite result code name.
    pub state: Option<String>,
}

pub const PERMISSION: &str = "You do not have permissions to run this query.";
pub const NATIVE_ONLY: &str = "ferrobase runs native SQL queries only.";
pub const ONE_STATEMENT: &str = "ferrobase runs exactly one SQL statement per query.";

impl QueryError {
    pub fn new(error_type: ErrorType, message: impl Into<String>) -> Self {
        QueryError {
            error_type,
            message: message.into(),
            class: Class::Ferrobase,
            state: None,
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorType::InvalidQuery, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorType::UnsupportedFeature, message)
    }
    pub fn permission() -> Self {
        Self::new(ErrorType::MissingPermissions, PERMISSION)
    }
    pub fn timed_out(seconds: u64) -> Self {
        Self::new(
            ErrorType::TimedOut,
            format!("Query timed out after {seconds} seconds."),
        )
    }
    pub fn db(class: Class, message: impl Into<String>) -> Self {
        QueryError {
            error_type: ErrorType::Db,
            message: message.into(),
            class,
            state: None,
        }
    }
}

/// What a failure body echoes about the request.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub json_query: Value,
    pub database_id: Option<i64>,
    /// `ad-hoc` or `question`.
    pub context: &'static str,
    pub started_at: crate::clock::Timestamp,
    pub started: std::time::Instant,
}

impl RunContext {
    pub fn running_time_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The query-failure body of §4.8.
    pub fn failure_body(&self, e: &QueryError) -> Value {
        json!({
            "status": "failed",
            "error": e.message,
            "error_type": e.error_type.as_str(),
            "class": e.class.as_str(),
            "state": e.state,
            "row_count": 0,
            "data": {"rows": [], "cols": []},
            "json_query": self.json_query,
            "database_id": self.database_id,
            "context": self.context,
            "started_at": self.started_at.to_rfc3339(),
            "running_time": self.running_time_ms(),
            "stacktrace": [],
            "via": [],
        })
    }

    pub fn failure(&self, e: &QueryError) -> ApiError {
        ApiError::JsonBody(e.error_type.kind(), self.failure_body(e))
    }
}
