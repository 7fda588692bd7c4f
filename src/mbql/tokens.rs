//! The enumerated words of MBQL: temporal units, join strategies, week modes and the operator
//! families the model groups clauses by. Each is an enum with its canonical token (`as_str`)
//! and a parser that compares tokens the way §1.7 says (ASCII case-insensitive, `_` = `-`).
use std::borrow::Cow;

/// A clause name, map key or enumerated value in its canonical spelling: ASCII lower case with
/// `-` for `_` (mbql.md §1.7). Idempotent. User-chosen names never go through it.
pub fn token(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || b == b'_') {
        Cow::Owned(s.to_ascii_lowercase().replace('_', "-"))
    } else {
        Cow::Borrowed(s)
    }
}

/// An enum of tokens: `as_str` gives the canonical token, `parse` accepts any spelling that
/// normalises to it.
macro_rules! tokens {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match &*token(s) {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

tokens! {
    /// A length of time: the unit of relative windows (§2.4), of `datetime-add` and of truncation.
    IntervalUnit {
        /// Known to Metabase, refused by ferrobase (§8).
        Millisecond = "millisecond",
        /// Known to Metabase, refused by ferrobase (§8).
        Second = "second",
        Minute = "minute",
        Hour = "hour",
        Day = "day",
        Week = "week",
        Month = "month",
        Quarter = "quarter",
        Year = "year",
    }
}

impl IntervalUnit {
    pub fn is_supported(self) -> bool {
        !matches!(self, IntervalUnit::Millisecond | IntervalUnit::Second)
    }
}

tokens! {
    /// A part extracted from a temporal value as an integer (§2.6.2).
    Extraction {
        SecondOfMinute = "second-of-minute",
        MinuteOfHour = "minute-of-hour",
        HourOfDay = "hour-of-day",
        DayOfWeek = "day-of-week",
        DayOfWeekIso = "day-of-week-iso",
        DayOfMonth = "day-of-month",
        DayOfYear = "day-of-year",
        WeekOfYear = "week-of-year",
        WeekOfYearIso = "week-of-year-iso",
        WeekOfYearUs = "week-of-year-us",
        WeekOfYearInstance = "week-of-year-instance",
        MonthOfYear = "month-of-year",
        QuarterOfYear = "quarter-of-year",
        YearOfEra = "year-of-era",
    }
}

impl Extraction {
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            Extraction::MinuteOfHour
                | Extraction::HourOfDay
                | Extraction::DayOfWeek
                | Extraction::DayOfMonth
                | Extraction::DayOfYear
                | Extraction::MonthOfYear
                | Extraction::QuarterOfYear
        )
    }
}

/// The `temporal-unit` of a reference (§2.6.2): every unit Metabase knows, so that the model
/// says what was asked; [`TemporalUnit::is_supported`] is ferrobase's side of §8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemporalUnit {
    /// `"default"`: no bucketing, not even a breakout's default `day`.
    Default,
    Truncate(IntervalUnit),
    Extract(Extraction),
}

impl TemporalUnit {
    pub fn parse(s: &str) -> Option<Self> {
        if token(s) == "default" {
            return Some(TemporalUnit::Default);
        }
        IntervalUnit::parse(s)
            .map(TemporalUnit::Truncate)
            .or_else(|| Extraction::parse(s).map(TemporalUnit::Extract))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TemporalUnit::Default => "default",
            TemporalUnit::Truncate(u) => u.as_str(),
            TemporalUnit::Extract(u) => u.as_str(),
        }
    }

    pub fn is_supported(self) -> bool {
        match self {
            TemporalUnit::Default => true,
            TemporalUnit::Truncate(u) => u.is_supported(),
            TemporalUnit::Extract(u) => u.is_supported(),
        }
    }
}

tokens! {
    /// §2.9.
    JoinStrategy {
        LeftJoin = "left-join",
        InnerJoin = "inner-join",
        RightJoin = "right-join",
        FullJoin = "full-join",
    }
}

tokens! {
    /// Which day `get-day-of-week` numbers 1: the `start-of-week` setting (`instance`, the
    /// default), Monday (`iso`) or Sunday (`us`).
    WeekMode {
        Instance = "instance",
        Iso = "iso",
        Us = "us",
    }
}

tokens! {
    /// `asc` / `desc` (§2.8).
    Direction {
        Asc = "asc",
        Desc = "desc",
    }
}

tokens! {
    /// `<`, `<=`, `>`, `>=` (§2.3).
    CompareOp {
        Lt = "<",
        Le = "<=",
        Gt = ">",
        Ge = ">=",
    }
}

tokens! {
    /// The string filters (§2.3, §3.5).
    TextMatch {
        Contains = "contains",
        DoesNotContain = "does-not-contain",
        StartsWith = "starts-with",
        EndsWith = "ends-with",
    }
}

tokens! {
    /// `+`, `-`, `*`, `/` with two or more arguments (§2.7).
    ArithOp {
        Add = "+",
        Subtract = "-",
        Multiply = "*",
        Divide = "/",
    }
}

tokens! {
    /// One-argument numeric functions (§2.7); `log` is base 10, `round` rounds to an integer.
    MathFn {
        Abs = "abs",
        Ceil = "ceil",
        Floor = "floor",
        Round = "round",
        Sqrt = "sqrt",
        Exp = "exp",
        Log = "log",
    }
}

tokens! {
    /// One-argument text functions (§2.7); `length` counts characters.
    TextFn {
        Lower = "lower",
        Upper = "upper",
        Trim = "trim",
        Ltrim = "ltrim",
        Rtrim = "rtrim",
        Length = "length",
    }
}

tokens! {
    /// `get-*` extraction functions other than `get-day-of-week` (§2.7).
    DatePart {
        Year = "get-year",
        Quarter = "get-quarter",
        Month = "get-month",
        Day = "get-day",
        Hour = "get-hour",
        Minute = "get-minute",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_fold_case_and_underscores_only() {
        assert_eq!(token("Source_Table"), "source-table");
        assert_eq!(token("COUNT"), "count");
        assert_eq!(token("lib/uuid"), "lib/uuid");
        assert!(matches!(token("order-by"), Cow::Borrowed(_)));
        assert_eq!(token(&token("Day_Of_Week")), token("Day_Of_Week"));
    }

    #[test]
    fn every_token_round_trips() {
        for u in IntervalUnit::ALL {
            assert_eq!(IntervalUnit::parse(&u.as_str().to_uppercase()), Some(*u));
            let unit = TemporalUnit::Truncate(*u);
            assert_eq!(TemporalUnit::parse(unit.as_str()), Some(unit));
        }
        for u in Extraction::ALL {
            let unit = TemporalUnit::Extract(*u);
            assert_eq!(
                TemporalUnit::parse(&unit.as_str().replace('-', "_")),
                Some(unit)
            );
        }
        for s in JoinStrategy::ALL {
            assert_eq!(JoinStrategy::parse(s.as_str()), Some(*s));
        }
        assert_eq!(TemporalUnit::parse("DEFAULT"), Some(TemporalUnit::Default));
        assert_eq!(TemporalUnit::parse("fortnight"), None);
    }

    #[test]
    fn supported_units_are_those_of_the_spec() {
        let supported: Vec<&str> = IntervalUnit::ALL
            .iter()
            .map(|u| TemporalUnit::Truncate(*u))
            .chain(Extraction::ALL.iter().map(|u| TemporalUnit::Extract(*u)))
            .filter(|u| u.is_supported())
            .map(|u| u.as_str())
            .collect();
        assert_eq!(
            supported,
            [
                "minute",
                "hour",
                "day",
                "week",
                "month",
                "quarter",
                "year",
                "minute-of-hour",
                "hour-of-day",
                "day-of-week",
                "day-of-month",
                "day-of-year",
                "month-of-year",
                "quarter-of-year"
            ]
        );
    }
}
