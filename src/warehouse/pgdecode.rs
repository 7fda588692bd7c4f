//! Postgres values in the binary wire format, converted to [`Cell`]s, and Postgres types mapped
//! to Metabase base types (queries.md §4.5). Decoding by hand keeps sqlx's optional type
//! features (and their dependencies) out of the build.
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use sqlx::postgres::{PgTypeInfo, PgTypeKind, PgValueFormat};
use sqlx::TypeInfo;

use super::cell::{base64, Cell};
use super::tz::Zone;

/// How a column's values decode.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A built-in (or unknown) type, by OID.
    Oid(u32),
    Enum,
    /// Text-like extension types (`citext`).
    Text,
    Array(Box<Kind>),
}

/// `(database_type, base_type, kind)` of a column type.
pub fn describe(t: &PgTypeInfo) -> (String, &'static str, Kind) {
    match t.kind() {
        PgTypeKind::Enum(_) => return (t.name().to_string(), "type/PostgresEnum", Kind::Enum),
        PgTypeKind::Domain(inner) => return describe(inner),
        PgTypeKind::Array(elem) => {
            let (name, _, kind) = describe(elem);
            return (
                format!("_{name}"),
                "type/Array",
                Kind::Array(Box::new(kind)),
            );
        }
        _ => {}
    }
    let oid = t.oid().map(|o| o.0).unwrap_or(0);
    if let Some((name, base)) = builtin(oid) {
        return (name.to_string(), base, Kind::Oid(oid));
    }
    let name = t.name().to_ascii_lowercase();
    if name == "citext" {
        return (name, "type/Text", Kind::Text);
    }
    (name, "type/*", Kind::Oid(oid))
}

/// Built-in types with a name and a base type. Array types are described through their element.
fn builtin(oid: u32) -> Option<(&'static str, &'static str)> {
    Some(match oid {
        16 => ("bool", "type/Boolean"),
        17 => ("bytea", "type/*"),
        18 => ("char", "type/Text"),
        19 => ("name", "type/Text"),
        20 => ("int8", "type/BigInteger"),
        21 => ("int2", "type/Integer"),
        23 => ("int4", "type/Integer"),
        25 => ("text", "type/Text"),
        26 => ("oid", "type/*"),
        114 => ("json", "type/JSON"),
        142 => ("xml", "type/*"),
        650 => ("cidr", "type/IPAddress"),
        700 => ("float4", "type/Float"),
        701 => ("float8", "type/Float"),
        790 => ("money", "type/*"),
        829 => ("macaddr", "type/*"),
        869 => ("inet", "type/IPAddress"),
        1042 => ("bpchar", "type/Text"),
        1043 => ("varchar", "type/Text"),
        1082 => ("date", "type/Date"),
        1083 => ("time", "type/Time"),
        1114 => ("timestamp", "type/DateTime"),
        1184 => ("timestamptz", "type/DateTimeWithLocalTZ"),
        1186 => ("interval", "type/*"),
        1266 => ("timetz", "type/TimeWithLocalTZ"),
        1700 => ("numeric", "type/Decimal"),
        2950 => ("uuid", "type/UUID"),
        3802 => ("jsonb", "type/JSON"),
        _ => return None,
    })
}

/// Decodes one non-null value; `zone` is the session time zone (`None` = UTC).
pub fn decode(kind: &Kind, format: PgValueFormat, bytes: &[u8], zone: Option<&Zone>) -> Cell {
    if format == PgValueFormat::Text {
        return Cell::Text(String::from_utf8_lossy(bytes).into_owned());
    }
    match kind {
        Kind::Enum | Kind::Text => Cell::Text(String::from_utf8_lossy(bytes).into_owned()),
        Kind::Array(_) => decode_array(bytes, zone).unwrap_or_else(|| fallback(bytes)),
        Kind::Oid(oid) => decode_oid(*oid, bytes, zone).unwrap_or_else(|| fallback(bytes)),
    }
}

/// Text when the bytes are UTF-8, else base64.
fn fallback(bytes: &[u8]) -> Cell {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cell::Text(s.to_string()),
        Err(_) => Cell::Text(base64(bytes)),
    }
}

fn be<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at + N)?.try_into().ok()
}

fn i16_at(b: &[u8], at: usize) -> Option<i16> {
    be::<2>(b, at).map(i16::from_be_bytes)
}
fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    be::<4>(b, at).map(i32::from_be_bytes)
}
fn i64_at(b: &[u8], at: usize) -> Option<i64> {
    be::<8>(b, at).map(i64::from_be_bytes)
}

fn decode_oid(oid: u32, b: &[u8], zone: Option<&Zone>) -> Option<Cell> {
    Some(match oid {
        16 => Cell::Bool(*b.first()? != 0),
        20 => Cell::Int(i64_at(b, 0)?),
        21 => Cell::Int(i64::from(i16_at(b, 0)?)),
        23 => Cell::Int(i64::from(i32_at(b, 0)?)),
        26 => Cell::Int(i64::from(u32::from_be_bytes(be::<4>(b, 0)?))),
        700 => Cell::Float(f64::from(f32::from_be_bytes(be::<4>(b, 0)?))),
        701 => Cell::Float(f64::from_be_bytes(be::<8>(b, 0)?)),
        17 => Cell::Text(base64(b)),
        3802 => Cell::Text(String::from_utf8_lossy(b.get(1..)?).into_owned()),
        2950 => Cell::Text(uuid::Uuid::from_slice(b).ok()?.hyphenated().to_string()),
        1700 => numeric(b)?,
        1082 => Cell::Text(date(i32_at(b, 0)?)),
        1083 => Cell::Text(time(i64_at(b, 0)?)?),
        1114 => Cell::Text(timestamp(i64_at(b, 0)?)?),
        1184 => Cell::Text(match i64_at(b, 0)? {
            i64::MAX => "infinity".into(),
            i64::MIN => "-infinity".into(),
            t => timestamptz(t, zone)?,
        }),
        1266 => {
            let t = time(i64_at(b, 0)?)?;
            // The zone is stored in seconds west of UTC.
            let west = i32_at(b, 8)?;
            Cell::Text(format!("{t}{}", offset(-west)))
        }
        1186 => Cell::Text(interval(i64_at(b, 0)?, i32_at(b, 8)?, i32_at(b, 12)?)),
        650 | 869 => Cell::Text(inet(b, oid == 650)?),
        829 => Cell::Text(
            b.iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        ),
        _ => fallback(b),
    })
}

/// The binary `numeric`: digit groups of base 10 000, written with the value's scale.
fn numeric(b: &[u8]) -> Option<Cell> {
    let ndigits = usize::try_from(i16_at(b, 0)?).ok()?;
    let weight = i32::from(i16_at(b, 2)?);
    let sign = u16::from_be_bytes(be::<2>(b, 4)?);
    let dscale = usize::from(u16::from_be_bytes(be::<2>(b, 6)?));
    match sign {
        0xC000 => return Some(Cell::Text("NaN".into())),
        0xD000 => return Some(Cell::Text("Infinity".into())),
        0xF000 => return Some(Cell::Text("-Infinity".into())),
        _ => {}
    }
    let mut digits = Vec::with_capacity(ndigits);
    for i in 0..ndigits {
        digits.push(i16_at(b, 8 + 2 * i)?);
    }
    let digit = |k: i32| -> i16 {
        usize::try_from(k)
            .ok()
            .and_then(|k| digits.get(k).copied())
            .unwrap_or(0)
    };
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for k in 0..=weight {
            if k == 0 {
                s.push_str(&digit(k).to_string());
            } else {
                s.push_str(&format!("{:04}", digit(k)));
            }
        }
    }
    if dscale > 0 {
        let mut frac = String::new();
        let mut k = weight + 1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", digit(k)));
            k += 1;
        }
        frac.truncate(dscale);
        s.push('.');
        s.push_str(&frac);
    }
    Some(Cell::Decimal(s))
}

fn epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

fn date(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        d => epoch()
            .date()
            .checked_add_signed(Duration::days(i64::from(d)))
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| d.to_string()),
    }
}

fn fraction(micros: i64) -> String {
    let f = micros.rem_euclid(1_000_000);
    if f == 0 {
        String::new()
    } else {
        format!(".{f:06}")
    }
}

fn time(micros: i64) -> Option<String> {
    let secs = u32::try_from(micros.div_euclid(1_000_000)).ok()?;
    if secs == 86_400 {
        return Some(format!("24:00:00{}", fraction(micros)));
    }
    let t = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)?;
    Some(format!("{}{}", t.format("%H:%M:%S"), fraction(micros)))
}

fn timestamp(micros: i64) -> Option<String> {
    match micros {
        i64::MAX => return Some("infinity".into()),
        i64::MIN => return Some("-infinity".into()),
        _ => {}
    }
    let dt = epoch().checked_add_signed(Duration::microseconds(micros))?;
    Some(format!(
        "{}{}",
        dt.format("%Y-%m-%dT%H:%M:%S"),
        fraction(micros)
    ))
}

/// Seconds from the Unix epoch to Postgres' epoch (2000-01-01).
const PG_EPOCH_SECS: i64 = 946_684_800;

/// A `timestamptz` in the session zone: RFC 3339 with its offset (`Z` for UTC).
fn timestamptz(micros: i64, zone: Option<&Zone>) -> Option<String> {
    let east = zone.map_or(0, |z| {
        z.offset_at(micros.div_euclid(1_000_000) + PG_EPOCH_SECS)
    });
    let local = micros.checked_add(i64::from(east) * 1_000_000)?;
    Some(format!("{}{}", timestamp(local)?, offset(east)))
}

/// `Z`, or `±HH:MM[:SS]` for an offset in seconds east of UTC.
fn offset(east: i32) -> String {
    if east == 0 {
        return "Z".into();
    }
    let sign = if east < 0 { '-' } else { '+' };
    let a = east.unsigned_abs();
    let (h, m, s) = (a / 3600, (a / 60) % 60, a % 60);
    if s == 0 {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}:{m:02}:{s:02}")
    }
}

/// Postgres' default interval style (`IntervalStyle = postgres`), as Postgres writes it:
/// `1 year 2 mons 3 days 04:05:06`, `-1 years +2 mons`, `-00:00:01.5`. A field after a negative
/// one carries an explicit `+`; units are singular only for exactly 1; hours do not roll over
/// into days; trailing zeros of the fraction are dropped.
fn interval(micros: i64, days: i32, months: i32) -> String {
    let mut out = String::new();
    let mut is_zero = true;
    let mut is_before = false;
    let mut part = |value: i64, unit: &str, out: &mut String| {
        if value == 0 {
            return;
        }
        let space = if is_zero { "" } else { " " };
        let plus = if is_before && value > 0 { "+" } else { "" };
        let s = if value != 1 { "s" } else { "" };
        out.push_str(&format!("{space}{plus}{value} {unit}{s}"));
        is_before = value < 0;
        is_zero = false;
    };
    part(i64::from(months / 12), "year", &mut out);
    part(i64::from(months % 12), "mon", &mut out);
    part(i64::from(days), "day", &mut out);
    if is_zero || micros != 0 {
        let sign = if micros < 0 {
            "-"
        } else if is_before {
            "+"
        } else {
            ""
        };
        let a = micros.unsigned_abs();
        let secs = a / 1_000_000;
        let space = if is_zero { "" } else { " " };
        out.push_str(&format!(
            "{space}{sign}{:02}:{:02}:{:02}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        ));
        let frac = a % 1_000_000;
        if frac != 0 {
            let f = format!("{frac:06}");
            out.push('.');
            out.push_str(f.trim_end_matches('0'));
        }
    }
    out
}

fn inet(b: &[u8], is_cidr: bool) -> Option<String> {
    let family = *b.first()?;
    let bits = *b.get(1)?;
    let len = usize::from(*b.get(3)?);
    let addr = b.get(4..4 + len)?;
    let (text, full) = match family {
        2 => {
            let a: [u8; 4] = addr.try_into().ok()?;
            (std::net::Ipv4Addr::from(a).to_string(), 32)
        }
        _ => {
            let a: [u8; 16] = addr.try_into().ok()?;
            (std::net::Ipv6Addr::from(a).to_string(), 128)
        }
    };
    Some(if is_cidr || bits != full {
        format!("{text}/{bits}")
    } else {
        text
    })
}

/// The binary array format: dimensions, element OID, then the elements.
fn decode_array(b: &[u8], zone: Option<&Zone>) -> Option<Cell> {
    let ndim = usize::try_from(i32_at(b, 0)?).ok()?;
    let elem = u32::from_be_bytes(be::<4>(b, 8)?);
    if ndim == 0 {
        return Some(Cell::Array(Vec::new()));
    }
    let mut dims = Vec::with_capacity(ndim);
    for d in 0..ndim {
        dims.push(usize::try_from(i32_at(b, 12 + 8 * d)?).ok()?);
    }
    let mut at = 12 + 8 * ndim;
    let total: usize = dims.iter().product();
    let mut flat = Vec::with_capacity(total);
    for _ in 0..total {
        let len = i32_at(b, at)?;
        at += 4;
        if len < 0 {
            flat.push(Cell::Null);
        } else {
            let len = usize::try_from(len).ok()?;
            let v = b.get(at..at + len)?;
            at += len;
            flat.push(decode_oid(elem, v, zone).unwrap_or_else(|| fallback(v)));
        }
    }
    // Nest the flat elements by dimension, innermost first.
    for d in dims.iter().skip(1).rev() {
        let mut grouped = Vec::with_capacity(flat.len() / d.max(&1));
        let mut it = flat.into_iter();
        loop {
            let chunk: Vec<Cell> = it.by_ref().take(*d).collect();
            if chunk.is_empty() {
                break;
            }
            grouped.push(Cell::Array(chunk));
        }
        flat = grouped;
    }
    Some(Cell::Array(flat))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(ndigits: i16, weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Cell {
        let mut b = Vec::new();
        b.extend_from_slice(&ndigits.to_be_bytes());
        b.extend_from_slice(&weight.to_be_bytes());
        b.extend_from_slice(&sign.to_be_bytes());
        b.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        numeric(&b).unwrap()
    }

    #[test]
    fn numerics() {
        assert_eq!(num(2, 0, 0, 2, &[12, 5000]), Cell::Decimal("12.50".into()));
        assert_eq!(num(1, -2, 0, 8, &[1]), Cell::Decimal("0.00000001".into()));
        assert_eq!(
            num(2, 1, 0x4000, 0, &[1, 0]),
            Cell::Decimal("-10000".into())
        );
        assert_eq!(num(0, 0, 0, 0, &[]), Cell::Decimal("0".into()));
        assert_eq!(num(0, 0, 0xC000, 0, &[]), Cell::Text("NaN".into()));
    }

    #[test]
    fn times() {
        assert_eq!(timestamp(0).unwrap(), "2000-01-01T00:00:00");
        assert_eq!(timestamp(1_500_000).unwrap(), "2000-01-01T00:00:01.500000");
        assert_eq!(date(-1), "1999-12-31");
        assert_eq!(offset(3600), "+01:00");
        assert_eq!(
            interval(3_600_000_000, 3, 14),
            "1 year 2 mons 3 days 01:00:00"
        );
        assert_eq!(interval(0, 0, 0), "00:00:00");
        assert_eq!(interval(0, 0, -12), "-1 years");
        assert_eq!(interval(0, 0, -10), "-10 mons");
        assert_eq!(interval(1_500_000, -2, 3), "3 mons -2 days +00:00:01.5");
        assert_eq!(interval(-1_000, 1, 0), "1 day -00:00:00.001");
        assert_eq!(interval(360_000_000_000, 0, 0), "100:00:00");
    }
}
