//! The bounds of relative and calendar windows (mbql.md §2.4) and of whole-unit comparisons
//! (§2.3), computed before the query runs and bound as values.
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::mbql::model::IntervalUnit;
use crate::mbql::sql::calendar;
use crate::mbql::{MbqlError, TemporalLiteral};

fn overflow() -> MbqlError {
    MbqlError::Invalid("The date window is out of range.".into())
}

pub fn add(dt: DateTime, amount: i64, unit: IntervalUnit) -> Result<DateTime, MbqlError> {
    calendar::add(dt, amount, unit).ok_or_else(overflow)
}

pub fn truncate(
    dt: DateTime,
    unit: IntervalUnit,
    sow: jiff::civil::Weekday,
) -> Result<DateTime, MbqlError> {
    calendar::truncate(dt, unit, sow).ok_or_else(overflow)
}

/// `now` as a wall clock in `tz`.
pub fn now_in(now: Timestamp, tz: &TimeZone) -> DateTime {
    now.to_zoned(tz.clone()).datetime()
}

/// `time-interval` (§2.4): `[start, end)` in civil time of the report zone.
pub fn time_interval(
    now: DateTime,
    amount: i64,
    unit: IntervalUnit,
    include_current: bool,
    sow: jiff::civil::Weekday,
) -> Result<(DateTime, DateTime), MbqlError> {
    let t0 = truncate(now, unit, sow)?;
    let at = |n: i64| add(t0, n, unit);
    Ok(match amount {
        n if n < 0 => (at(n)?, if include_current { at(1)? } else { t0 }),
        0 => (t0, at(1)?),
        n => (
            if include_current { t0 } else { at(1)? },
            at(n.checked_add(1).ok_or_else(overflow)?)?,
        ),
    })
}

/// The literal of a computed bound: an instant in `tz` for zoned columns, else a wall clock.
pub fn bound_literal(dt: DateTime, zoned: bool, tz: &TimeZone) -> TemporalLiteral {
    if zoned {
        if let Ok(z) = dt.to_zoned(tz.clone()) {
            return TemporalLiteral::Offset {
                datetime: dt,
                offset: z.offset(),
            };
        }
    }
    TemporalLiteral::DateTime(dt)
}

/// The wall clock a literal names (a date at midnight).
pub fn literal_datetime(l: &TemporalLiteral) -> DateTime {
    match l {
        TemporalLiteral::Date(d) => d.to_datetime(jiff::civil::Time::midnight()),
        TemporalLiteral::DateTime(dt) | TemporalLiteral::Offset { datetime: dt, .. } => *dt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, Weekday};

    #[test]
    fn windows_of_the_spec() {
        let now = date(2026, 12, 7).at(15, 30, 0, 0);
        let sun = Weekday::Sunday;
        let w = |n, u, inc| time_interval(now, n, u, inc, sun).unwrap();
        let y = |y| date(y, 1, 1).at(0, 0, 0, 0);
        assert_eq!(w(-3, IntervalUnit::Year, false), (y(2023), y(2026)));
        assert_eq!(w(-3, IntervalUnit::Year, true), (y(2023), y(2027)));
        assert_eq!(
            w(0, IntervalUnit::Month, false),
            (
                date(2026, 12, 1).at(0, 0, 0, 0),
                date(2027, 1, 1).at(0, 0, 0, 0)
            )
        );
        assert_eq!(
            w(2, IntervalUnit::Day, false),
            (
                date(2026, 12, 8).at(0, 0, 0, 0),
                date(2026, 12, 10).at(0, 0, 0, 0)
            )
        );
        assert_eq!(
            w(2, IntervalUnit::Day, true),
            (
                date(2026, 12, 7).at(0, 0, 0, 0),
                date(2026, 12, 10).at(0, 0, 0, 0)
            )
        );
        assert!(time_interval(now, i64::MAX, IntervalUnit::Year, false, sun).is_err());
    }
}
