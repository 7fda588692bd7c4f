//! UTC offsets of IANA time zones for `timestamptz` values rendered in the `report-timezone`
//! session zone (queries.md §4.1, §4.5): a thin adapter over `jiff` with its bundled copy of the
//! time-zone database, so offsets (including each zone's rule for instants after its last listed
//! transition) are the same on every machine and never depend on `/usr/share/zoneinfo`.
use jiff::tz::TimeZone;
use jiff::Timestamp;

#[derive(Debug, Clone)]
pub struct Zone(TimeZone);

impl Zone {
    /// The zone named `name`, or `None` when the bundled database has no such zone.
    pub fn named(name: &str) -> Option<Zone> {
        jiff::tz::db().get(name).ok().map(Zone)
    }

    /// Whether `name` is a zone of the bundled database (the check where the setting is written).
    pub fn exists(name: &str) -> bool {
        Zone::named(name).is_some()
    }

    /// The offset in seconds east of UTC at `utc_secs` (clamped to the years jiff covers,
    /// -9999 to 9999; beyond them the offset of the nearest end applies).
    pub fn offset_at(&self, utc_secs: i64) -> i32 {
        let clamped = utc_secs.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        let ts = Timestamp::from_second(clamped).unwrap_or(Timestamp::UNIX_EPOCH);
        self.0.to_offset(ts).seconds()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_offsets() {
        let z = Zone::named("Europe/Paris").expect("bundled");
        assert_eq!(z.offset_at(1_704_067_200), 3600); // 2024-01-01 winter
        assert_eq!(z.offset_at(1_719_792_000), 7200); // 2024-07-01 summer
        assert!(Zone::named("../../etc/passwd").is_none());
        assert!(Zone::named("Nowhere/Special").is_none());
        assert!(!Zone::exists(""));
    }

    #[test]
    fn offsets_after_2037_follow_the_zone_rule() {
        // 2040-07-01 and 2040-01-01: daylight saving time still alternates (the TZif footer
        // rule), where a reader of the listed transitions alone freezes the last offset.
        let ny = Zone::named("America/New_York").expect("bundled");
        assert_eq!(ny.offset_at(2_224_713_600), -4 * 3600);
        assert_eq!(ny.offset_at(2_209_017_600), -5 * 3600);
        let paris = Zone::named("Europe/Paris").expect("bundled");
        assert_eq!(paris.offset_at(4_102_444_800 + 182 * 86_400), 7200); // 2100-07-02
                                                                         // Far outside jiff's range: clamped, no panic.
        let _ = paris.offset_at(i64::MAX);
        let _ = paris.offset_at(i64::MIN);
    }

    #[test]
    fn a_recent_rule_change_is_known() {
        // Mexico City stopped observing daylight saving time in October 2022: July 2023 is
        // UTC-6, as is January, where July 2022 was still UTC-5.
        let mx = Zone::named("America/Mexico_City").expect("bundled");
        assert_eq!(mx.offset_at(1_656_633_600), -5 * 3600); // 2022-07-01
        assert_eq!(mx.offset_at(1_688_169_600), -6 * 3600); // 2023-07-01
    }
}
