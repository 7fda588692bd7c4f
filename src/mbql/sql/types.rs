//! The vocabulary of the dialect contract: temporal column kinds and which units fit them
//! (§2.6.2), the errors a dialect reports, substring operators, aggregations with compiled
//! arguments and the window of cumulative ones.
use jiff::civil::Weekday;

use super::fragment::Fragment;
use crate::mbql::{Extraction, IntervalUnit, TemporalUnit};

/// How a temporal column holds its values; it decides formats (SQLite) and casts (PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemporalKind {
    /// `DATE` (`type/Date`).
    Date,
    /// SQLite `DATETIME`/`TIMESTAMP` text, PostgreSQL `timestamp` (`type/DateTime`).
    DateTime,
    /// PostgreSQL `timestamptz` (`type/DateTimeWithLocalTZ` and the other zoned types): an
    /// instant, truncated and extracted in the session time zone (§3.6). SQLite has none; its
    /// dialect treats it as `DateTime` (stored text is UTC).
    DateTimeTz,
    /// `TIME` (`type/Time`): only the time-of-day units apply.
    Time,
}

impl TemporalKind {
    /// The kind of a column from its effective (or base) type, `None` when not temporal.
    pub fn of_type(ty: &str) -> Option<TemporalKind> {
        match ty {
            "type/Date" => Some(TemporalKind::Date),
            "type/DateTime" => Some(TemporalKind::DateTime),
            "type/DateTimeWithTZ"
            | "type/DateTimeWithLocalTZ"
            | "type/DateTimeWithZoneOffset"
            | "type/DateTimeWithZoneID"
            | "type/Instant" => Some(TemporalKind::DateTimeTz),
            "type/Time"
            | "type/TimeWithTZ"
            | "type/TimeWithLocalTZ"
            | "type/TimeWithZoneOffset" => Some(TemporalKind::Time),
            _ => None,
        }
    }

    fn has_date(self) -> bool {
        self != TemporalKind::Time
    }

    fn has_time(self) -> bool {
        self != TemporalKind::Date
    }

    /// Whether `unit` applies to a column of this kind (§2.6.2: no time unit on a date, no
    /// date unit on a time). Units ferrobase refuses (§8) fit nothing.
    pub fn fits(self, unit: TemporalUnit) -> bool {
        match unit {
            TemporalUnit::Default => true,
            TemporalUnit::Truncate(u) => self.fits_interval(u),
            TemporalUnit::Extract(e) => {
                e.is_supported()
                    && match e {
                        Extraction::MinuteOfHour | Extraction::HourOfDay => self.has_time(),
                        _ => self.has_date(),
                    }
            }
        }
    }

    /// Whether `unit` applies to truncation and `datetime-add` on this kind.
    pub fn fits_interval(self, unit: IntervalUnit) -> bool {
        unit.is_supported()
            && match unit {
                IntervalUnit::Minute | IntervalUnit::Hour => self.has_time(),
                _ => self.has_date(),
            }
    }
}

/// Why a dialect cannot write what was asked. The resolver and `check` refuse all of these
/// first with the spec's messages; reaching one is a compiler bug, reported, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialectError {
    #[error("Temporal unit {unit} does not apply to a {kind:?} column.")]
    UnitNotForKind {
        unit: &'static str,
        kind: TemporalKind,
    },
    #[error("A time column cannot be compared with a date or datetime literal.")]
    LiteralForTime,
    #[error("{thing} is not supported by ferrobase.")]
    Unsupported { thing: String },
}

pub type Result<T> = std::result::Result<T, DialectError>;

pub(super) fn check_interval(kind: TemporalKind, unit: IntervalUnit) -> Result<()> {
    if kind.fits_interval(unit) {
        Ok(())
    } else {
        Err(DialectError::UnitNotForKind {
            unit: unit.as_str(),
            kind,
        })
    }
}

pub(super) fn check_extraction(kind: TemporalKind, part: Extraction) -> Result<()> {
    if kind.fits(TemporalUnit::Extract(part)) {
        Ok(())
    } else {
        Err(DialectError::UnitNotForKind {
            unit: part.as_str(),
            kind,
        })
    }
}

/// The substring filters of §3.5 before their NULL rule (`does-not-contain` is built from
/// `Contains` by [`SqlDialect::text_filter`](super::SqlDialect::text_filter)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

/// The aggregations of §2.5, with compiled arguments. `cum-sum`/`cum-count` are their plain
/// aggregation wrapped by [`SqlDialect::cumulative`](super::SqlDialect::cumulative).
#[derive(Debug, Clone, PartialEq)]
pub enum Aggregate {
    CountAll,
    Count(Fragment),
    Distinct(Fragment),
    Sum(Fragment),
    Avg(Fragment),
    Min(Fragment),
    Max(Fragment),
    CountWhere(Fragment),
    SumWhere {
        expr: Fragment,
        predicate: Fragment,
    },
    Share(Fragment),
    /// PostgreSQL only (§2.5; `check_sqlite` refuses them on SQLite first).
    StdDev(Fragment),
    Var(Fragment),
    Median(Fragment),
    /// `p` in 0 – 1, inlined as §3.1 allows.
    Percentile {
        expr: Fragment,
        p: f64,
    },
}

/// The window of a cumulative aggregation (§2.5): ordered by the first breakout, partitioned
/// by the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Running {
    pub order_by: Fragment,
    pub partition_by: Vec<Fragment>,
}
/// `'weekday N'`-style numbering: Sunday 0 … Saturday 6 (§3.3).
pub(super) fn sunday_zero(day: Weekday) -> i64 {
    i64::from(day.to_sunday_zero_offset())
}
