//! Temporal literals (mbql.md §1.5): `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM[:SS[.fff…]]` with an
//! optional `Z` or `±HH:MM` offset, parsed into `jiff` civil values. The parser reads exactly
//! these shapes (ferrobase rule); `jiff` checks the calendar (no 30 February, no hour 24).
use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;

use super::error::MbqlError;

/// A date or datetime written in a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporalLiteral {
    /// `2024-03-05`: compared by whole days (§2.3).
    Date(Date),
    /// `2024-03-05T10:30:00`: a wall-clock time; on Postgres read in the session zone (§3.6).
    DateTime(DateTime),
    /// `2024-03-05T10:30:00+01:00` or `…Z`: an instant.
    Offset { datetime: DateTime, offset: Offset },
}

impl TemporalLiteral {
    /// Parses a literal; the error is the §1.5 message naming the value.
    pub fn parse(s: &str) -> Result<Self, MbqlError> {
        read(s.as_bytes()).ok_or_else(|| MbqlError::InvalidTemporal {
            value: s.to_string(),
        })
    }

    /// The calendar day of the literal (its own wall clock for datetimes).
    pub fn date(&self) -> Date {
        match self {
            TemporalLiteral::Date(d) => *d,
            TemporalLiteral::DateTime(dt) | TemporalLiteral::Offset { datetime: dt, .. } => {
                dt.date()
            }
        }
    }
}

/// A cursor over the ASCII bytes of a literal.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<i32> {
        let part = self.bytes.get(self.at..self.at + n)?;
        let mut value = 0i32;
        for b in part {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i32::from(b - b'0');
        }
        self.at += n;
        Some(value)
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.bytes.get(self.at) == Some(&b);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// `.f` with 1 to 9 digits, as nanoseconds.
    fn fraction(&mut self) -> Option<i32> {
        if !self.eat(b'.') {
            return Some(0);
        }
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let n = self.at - start;
        if !(1..=9).contains(&n) {
            return None;
        }
        self.at = start;
        let value = self.digits(n)?;
        Some(value * 10i32.pow(u32::try_from(9 - n).ok()?))
    }

    /// `Z`, `±HH:MM` or nothing.
    fn offset(&mut self) -> Option<Option<Offset>> {
        if self.eat(b'Z') {
            return Some(Some(Offset::UTC));
        }
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return Some(None);
        };
        let hours = self.digits(2)?;
        if !self.eat(b':') {
            return None;
        }
        let minutes = self.digits(2)?;
        if hours > 23 || minutes > 59 {
            return None;
        }
        Offset::from_seconds(sign * (hours * 3600 + minutes * 60))
            .ok()
            .map(Some)
    }
}

fn small(v: i32) -> Option<i8> {
    i8::try_from(v).ok()
}

fn read(bytes: &[u8]) -> Option<TemporalLiteral> {
    let mut c = Cursor { bytes, at: 0 };
    let year = i16::try_from(c.digits(4)?).ok()?;
    let month = (c.eat(b'-')).then(|| c.digits(2)).flatten()?;
    let day = (c.eat(b'-')).then(|| c.digits(2)).flatten()?;
    let date = Date::new(year, small(month)?, small(day)?).ok()?;
    if c.done() {
        return Some(TemporalLiteral::Date(date));
    }
    let hour = c.eat(b'T').then(|| c.digits(2)).flatten()?;
    let minute = c.eat(b':').then(|| c.digits(2)).flatten()?;
    let (second, nanos) = if c.eat(b':') {
        (c.digits(2)?, c.fraction()?)
    } else {
        (0, 0)
    };
    let offset = c.offset()?;
    if !c.done() {
        return None;
    }
    let time = jiff::civil::Time::new(small(hour)?, small(minute)?, small(second)?, nanos).ok()?;
    let datetime = date.to_datetime(time);
    Some(match offset {
        None => TemporalLiteral::DateTime(datetime),
        Some(offset) => TemporalLiteral::Offset { datetime, offset },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn accepts_the_spec_shapes() {
        assert_eq!(
            TemporalLiteral::parse("2024-03-05"),
            Ok(TemporalLiteral::Date(date(2024, 3, 5)))
        );
        assert_eq!(
            TemporalLiteral::parse("2024-03-05T10:30"),
            Ok(TemporalLiteral::DateTime(date(2024, 3, 5).at(10, 30, 0, 0)))
        );
        assert_eq!(
            TemporalLiteral::parse("2024-03-05T10:30:15.25"),
            Ok(TemporalLiteral::DateTime(date(2024, 3, 5).at(
                10,
                30,
                15,
                250_000_000
            )))
        );
        assert_eq!(
            TemporalLiteral::parse("2024-03-05T10:30:15Z"),
            Ok(TemporalLiteral::Offset {
                datetime: date(2024, 3, 5).at(10, 30, 15, 0),
                offset: Offset::UTC
            })
        );
        let minus = TemporalLiteral::parse("2024-03-05T10:30:15.123456-05:30").unwrap();
        assert_eq!(
            minus,
            TemporalLiteral::Offset {
                datetime: date(2024, 3, 5).at(10, 30, 15, 123_456_000),
                offset: Offset::from_seconds(-(5 * 3600 + 30 * 60)).unwrap()
            }
        );
        assert_eq!(minus.date(), date(2024, 3, 5));
    }

    #[test]
    fn refuses_everything_else_with_the_spec_message() {
        for bad in [
            "",
            "2024",
            "2024-3-05",
            "2024-02-30",
            "2024-03-05 10:30",
            "2024-03-05T10",
            "2024-03-05T24:00",
            "2024-03-05T10:30:60",
            "2024-03-05T10:30:00.",
            "2024-03-05T10:30:00.1234567890",
            "2024-03-05T10:30+0100",
            "2024-03-05T10:30+24:00",
            "2024-03-05Z",
            "2024-03-05T10:30Zx",
            "yesterday",
            "２０２４-03-05",
        ] {
            let e = TemporalLiteral::parse(bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("Invalid date or datetime value: \"{bad}\".")
            );
        }
    }
}
