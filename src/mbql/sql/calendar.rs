//! The calendar of MBQL's temporal units computed in Rust (`jiff`): the meaning the SQL of
//! §3.3/§3.4 must have, used by the tests as their reference on both engines, and by the
//! compiler for what it computes before the query runs (relative-window bounds of §2.4 start
//! from `now` truncated to a unit, weeks starting on `start-of-week`).
use jiff::civil::{Date, DateTime, Weekday};
use jiff::Span;

use crate::mbql::{token, Extraction, IntervalUnit};

/// The `start-of-week` setting (§0; default `sunday`), or `None` for another word.
pub fn start_of_week(setting: &str) -> Option<Weekday> {
    Some(match &*token(setting) {
        "sunday" => Weekday::Sunday,
        "monday" => Weekday::Monday,
        "tuesday" => Weekday::Tuesday,
        "wednesday" => Weekday::Wednesday,
        "thursday" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        _ => return None,
    })
}

/// The latest `start_of_week` day on or before `d`.
pub fn week_start(d: Date, start_of_week: Weekday) -> Date {
    let back =
        (d.weekday().to_sunday_zero_offset() + 7 - start_of_week.to_sunday_zero_offset()) % 7;
    d - Span::new().days(i64::from(back))
}

/// The start of the `unit` bucket holding `dt`; `None` for the units ferrobase refuses.
pub fn truncate(dt: DateTime, unit: IntervalUnit, start_of_week: Weekday) -> Option<DateTime> {
    let d = dt.date();
    let midnight = |d: Date| d.to_datetime(jiff::civil::Time::midnight());
    Some(match unit {
        IntervalUnit::Minute => d.at(dt.hour(), dt.minute(), 0, 0),
        IntervalUnit::Hour => d.at(dt.hour(), 0, 0, 0),
        IntervalUnit::Day => midnight(d),
        IntervalUnit::Week => midnight(week_start(d, start_of_week)),
        IntervalUnit::Month => midnight(d.first_of_month()),
        IntervalUnit::Quarter => {
            let month = (d.month() - 1) / 3 * 3 + 1;
            midnight(Date::new(d.year(), month, 1).ok()?)
        }
        IntervalUnit::Year => midnight(d.first_of_year()),
        IntervalUnit::Second | IntervalUnit::Millisecond => return None,
    })
}

/// An integer part of `dt` (§2.6.2); `None` for the parts ferrobase refuses.
pub fn extract(dt: DateTime, part: Extraction, start_of_week: Weekday) -> Option<i64> {
    Some(i64::from(match part {
        Extraction::MinuteOfHour => dt.minute(),
        Extraction::HourOfDay => dt.hour(),
        Extraction::DayOfMonth => dt.day(),
        Extraction::DayOfYear => return Some(i64::from(dt.day_of_year())),
        Extraction::MonthOfYear => dt.month(),
        Extraction::QuarterOfYear => (dt.month() + 2) / 3,
        Extraction::DayOfWeek => {
            let w = dt.weekday().to_sunday_zero_offset();
            (w + 7 - start_of_week.to_sunday_zero_offset()) % 7 + 1
        }
        _ => return None,
    }))
}

/// `amount` units after `dt` in civil time; a day past the end of a shorter month is its last
/// day (31 January + 1 month = 29 February 2024), as on both engines.
pub fn add(dt: DateTime, amount: i64, unit: IntervalUnit) -> Option<DateTime> {
    let span = match unit {
        IntervalUnit::Minute => Span::new().try_minutes(amount),
        IntervalUnit::Hour => Span::new().try_hours(amount),
        IntervalUnit::Day => Span::new().try_days(amount),
        IntervalUnit::Week => Span::new().try_weeks(amount),
        IntervalUnit::Month => Span::new().try_months(amount),
        IntervalUnit::Quarter => Span::new().try_months(amount.checked_mul(3)?),
        IntervalUnit::Year => Span::new().try_years(amount),
        IntervalUnit::Second | IntervalUnit::Millisecond => return None,
    }
    .ok()?;
    dt.checked_add(span).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn known_buckets() {
        let wed = date(2024, 2, 28).at(13, 45, 10, 0);
        let t = |u| truncate(wed, u, Weekday::Sunday).unwrap();
        assert_eq!(t(IntervalUnit::Minute), date(2024, 2, 28).at(13, 45, 0, 0));
        assert_eq!(t(IntervalUnit::Hour), date(2024, 2, 28).at(13, 0, 0, 0));
        assert_eq!(t(IntervalUnit::Day), date(2024, 2, 28).at(0, 0, 0, 0));
        assert_eq!(t(IntervalUnit::Week), date(2024, 2, 25).at(0, 0, 0, 0));
        assert_eq!(t(IntervalUnit::Month), date(2024, 2, 1).at(0, 0, 0, 0));
        assert_eq!(t(IntervalUnit::Quarter), date(2024, 1, 1).at(0, 0, 0, 0));
        assert_eq!(t(IntervalUnit::Year), date(2024, 1, 1).at(0, 0, 0, 0));
        assert_eq!(
            week_start(date(2024, 2, 28), Weekday::Monday),
            date(2024, 2, 26)
        );
        assert_eq!(
            week_start(date(2024, 2, 26), Weekday::Monday),
            date(2024, 2, 26)
        );
        assert_eq!(
            week_start(date(2024, 2, 28), Weekday::Saturday),
            date(2024, 2, 24)
        );
        assert_eq!(
            week_start(date(2024, 3, 2), Weekday::Saturday),
            date(2024, 3, 2)
        );
        assert_eq!(
            extract(wed, Extraction::DayOfWeek, Weekday::Sunday),
            Some(4)
        );
        assert_eq!(
            extract(wed, Extraction::DayOfWeek, Weekday::Monday),
            Some(3)
        );
        assert_eq!(
            extract(wed, Extraction::DayOfWeek, Weekday::Wednesday),
            Some(1)
        );
        assert_eq!(
            extract(wed, Extraction::DayOfWeek, Weekday::Thursday),
            Some(7)
        );
        assert_eq!(
            extract(wed, Extraction::DayOfYear, Weekday::Sunday),
            Some(59)
        );
        assert_eq!(
            extract(wed, Extraction::QuarterOfYear, Weekday::Sunday),
            Some(1)
        );
        assert_eq!(
            add(date(2024, 1, 31).at(0, 0, 0, 0), 1, IntervalUnit::Month),
            Some(date(2024, 2, 29).at(0, 0, 0, 0))
        );
        assert_eq!(
            add(date(2024, 2, 29).at(0, 0, 0, 0), -1, IntervalUnit::Year),
            Some(date(2023, 2, 28).at(0, 0, 0, 0))
        );
        assert_eq!(start_of_week("Monday"), Some(Weekday::Monday));
        assert_eq!(start_of_week("someday"), None);
    }
}
