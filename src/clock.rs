//! Time: one representation (microseconds since the Unix epoch, UTC) and an injectable clock,
//! so expiry rules can be tested deterministically.
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A point in time, stored everywhere as microseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn plus_seconds(self, secs: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs.saturating_mul(1_000_000)))
    }

    /// RFC 3339, UTC, `Z`, exactly six fractional digits (spec README 4.4).
    pub fn to_rfc3339(self) -> String {
        let dt = Utc
            .timestamp_micros(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        dt.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// Parses an RFC 3339 timestamp that carries an offset; extra precision is truncated.
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        // chrono accepts a lower-case `t`/`z` and a space separator too; RFC 3339 allows both.
        let dt = DateTime::parse_from_rfc3339(s).ok()?;
        Some(Timestamp(dt.with_timezone(&Utc).timestamp_micros()))
    }
}

/// A stored column (microseconds) as the API renders it: shorthand for the views, which render
/// many timestamp columns per object.
pub fn rfc3339(micros: i64) -> String {
    Timestamp(micros).to_rfc3339()
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

/// The source of "now". Production uses [`SystemClock`]; tests may use [`ManualClock`].
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(Utc::now().timestamp_micros())
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: Timestamp) -> Arc<Self> {
        Arc::new(ManualClock(AtomicI64::new(start.0)))
    }
    pub fn advance_seconds(&self, secs: i64) {
        self.0.fetch_add(secs * 1_000_000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// The system clock shifted by an offset that only moves when told to: time flows normally (so
/// orderings and "changed since" checks behave as in production) and a test can jump forward
/// instead of sleeping through an expiry.
#[derive(Debug, Default)]
pub struct ShiftedClock(AtomicI64);

impl ShiftedClock {
    pub fn new() -> Arc<Self> {
        Arc::new(ShiftedClock(AtomicI64::new(0)))
    }
    pub fn advance_seconds(&self, secs: i64) {
        self.0.fetch_add(secs * 1_000_000, Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        Timestamp(Utc::now().timestamp_micros() + self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_jumps_and_keeps_flowing() {
        let c = ShiftedClock::new();
        let before = SystemClock.now().0;
        c.advance_seconds(3600);
        let shifted = c.now().0;
        assert!(shifted >= before + 3_600_000_000, "{shifted}");
        assert!(shifted < SystemClock.now().0 + 3_601_000_000);
    }

    #[test]
    fn renders_six_fraction_digits_and_z() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            Timestamp(1_740_824_130_123_456).to_rfc3339(),
            "2025-03-01T10:15:30.123456Z"
        );
    }

    #[test]
    fn parses_offsets_and_requires_one() {
        let t = Timestamp::parse_rfc3339("2030-01-01T02:00:00+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2030-01-01T00:00:00.000000Z");
        assert!(Timestamp::parse_rfc3339("2030-01-01T00:00:00").is_none());
        assert!(Timestamp::parse_rfc3339("tomorrow").is_none());
        let t = Timestamp::parse_rfc3339("2030-01-01T00:00:00.1234567Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2030-01-01T00:00:00.123456Z");
    }
}
