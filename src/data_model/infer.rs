//! What sync infers from names and fingerprints (data-model.md §2.6 steps 3–6, §2.7): the
//! semantic type of a column from its name, `type/Category` and the text semantic types from its
//! fingerprint, list eligibility, and a table's entity type.
use std::sync::LazyLock;

use regex::Regex;

use super::fingerprint::Fingerprint;
use super::types::{self, Temporal};

/// Which base types a name rule accepts.
#[derive(Clone, Copy)]
enum Accepts {
    Any,
    Float,
    Text,
    Integer,
    Number,
    IntegerOrText,
    DateOrDateTime,
    /// Temporal: the semantic type depends on date / time / datetime.
    Temporal,
}

impl Accepts {
    fn admits(self, base: &str) -> bool {
        match self {
            Accepts::Any => true,
            Accepts::Float => types::is_float(base),
            Accepts::Text => types::is_text(base),
            Accepts::Integer => types::is_integer(base),
            Accepts::Number => types::is_number(base),
            Accepts::IntegerOrText => types::is_integer(base) || types::is_text(base),
            Accepts::DateOrDateTime => matches!(
                types::temporal_kind(base),
                Some(Temporal::Date | Temporal::DateTime)
            ),
            Accepts::Temporal => types::temporal_kind(base).is_some(),
        }
    }
}

struct NameRule {
    pattern: Regex,
    accepts: Accepts,
    /// The semantic type; for [`Accepts::Temporal`] the stem (`Creation`) of
    /// `type/<stem>Date|Time|Timestamp`.
    semantic: &'static str,
}

/// The name rules of §2.6 step 3, tried top to bottom.
const RULES: &[(&str, Accepts, &str)] = &[
    (r"^id$", Accepts::Any, "type/PK"),
    (
        r"^lon$|^lng$|^long$|^longitude$|_lon$|_lng$|_long$|_longitude$",
        Accepts::Float,
        "type/Longitude",
    ),
    (
        r"^lat$|^latitude$|_lat$|_latitude$",
        Accepts::Float,
        "type/Latitude",
    ),
    (
        r"_type$|^type$|^currency$|^gender$|^role$|^sex$|^status$",
        Accepts::Text,
        "type/Category",
    ),
    (r"_url$|^url$", Accepts::Text, "type/URL"),
    (r"^city$", Accepts::Text, "type/City"),
    (r"^country|_country$", Accepts::Text, "type/Country"),
    (
        r"^first_?name$|^last_?name$|^full_?name$|^name$",
        Accepts::Text,
        "type/Name",
    ),
    (
        r"^postal_?code$|^zip_?code$",
        Accepts::IntegerOrText,
        "type/ZipCode",
    ),
    (r"discount", Accepts::Number, "type/Discount"),
    (r"income", Accepts::Number, "type/Income"),
    (
        r"quantity|count$|number|^num_",
        Accepts::Integer,
        "type/Quantity",
    ),
    (r"join", Accepts::Temporal, "Join"),
    (r"create|start", Accepts::Temporal, "Creation"),
    (r"cancel", Accepts::Temporal, "Cancelation"),
    (r"delete|deleti", Accepts::Temporal, "Deletion"),
    (r"update", Accepts::Temporal, "Updated"),
    (r"source|channel", Accepts::IntegerOrText, "type/Source"),
    (r"share|percent|rate$", Accepts::Float, "type/Share"),
    (r"margin", Accepts::Number, "type/GrossMargin"),
    (r"cost", Accepts::Number, "type/Cost"),
    (r"duration", Accepts::Number, "type/Duration"),
    (
        r"author|creator|created_?by",
        Accepts::IntegerOrText,
        "type/Author",
    ),
    (r"owner", Accepts::IntegerOrText, "type/Owner"),
    (r"company|vendor", Accepts::IntegerOrText, "type/Company"),
    (r"subscription", Accepts::IntegerOrText, "type/Subscription"),
    (r"score|rating|stars", Accepts::Number, "type/Score"),
    (r"description", Accepts::Text, "type/Description"),
    (r"title", Accepts::Text, "type/Title"),
    (r"comment", Accepts::Text, "type/Comment"),
    (
        r"birthdate|birthday|date_?of_?birth|day_?of_?birth",
        Accepts::DateOrDateTime,
        "type/Birthdate",
    ),
];

static NAME_RULES: LazyLock<Vec<NameRule>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|(p, accepts, semantic)| NameRule {
            // Constant patterns, compiled by the tests of this module: cannot fail at run time.
            pattern: Regex::new(p).expect("name rule pattern"),
            accepts: *accepts,
            semantic,
        })
        .collect()
});

/// The semantic type a column's name suggests for its base type (§2.6 step 3).
pub fn semantic_from_name(name: &str, base: &str) -> Option<String> {
    let lower = name.to_lowercase();
    NAME_RULES
        .iter()
        .find(|r| r.accepts.admits(base) && r.pattern.is_match(&lower))
        .map(|r| match r.accepts {
            Accepts::Temporal => {
                let suffix = match types::temporal_kind(base) {
                    Some(Temporal::Date) => "Date",
                    Some(Temporal::Time) => "Time",
                    _ => "Timestamp",
                };
                format!("type/{}{suffix}", r.semantic)
            }
            _ => r.semantic.to_string(),
        })
}

/// Fields that are neither categories nor lists: temporal, float, JSON, array or untyped.
fn is_continuous_or_opaque(base: &str) -> bool {
    types::is_temporal(base) || types::is_float(base) || types::is_opaque(base)
}

/// §2.6 step 4: `type/Category` for a low-cardinality column without a semantic type.
pub fn is_category(base: &str, is_key: bool, fp: &Fingerprint) -> bool {
    !is_key
        && !is_continuous_or_opaque(base)
        && (fp.nil_fraction < 1.0 || base == "type/Boolean")
        && fp.distinct_count <= 30
}

/// §2.6 step 5: a text semantic type from the text fingerprint.
pub fn semantic_from_text(fp: &Fingerprint) -> Option<&'static str> {
    let t = fp.text.as_ref()?;
    if t.percent_json >= 0.95 {
        Some("type/SerializedJSON")
    } else if t.percent_url >= 0.95 {
        Some("type/URL")
    } else if t.percent_email >= 0.95 {
        Some("type/Email")
    } else if t.percent_state >= 0.7 {
        Some("type/State")
    } else {
        None
    }
}

/// §2.6 step 6: whether a column gets the stored `has_field_values: auto-list`.
pub fn is_list(base: &str, semantic: Option<&str>, fp: &Fingerprint) -> bool {
    !is_continuous_or_opaque(base)
        && !matches!(semantic, Some("type/PK" | "type/FK"))
        && fp.distinct_count <= 1000
}

static ENTITY_RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let words: &[(&[&str], &str)] = &[
        (&["order", "transaction", "sale"], "entity/TransactionTable"),
        (&["product"], "entity/ProductTable"),
        (
            &["user", "account", "people", "person", "employee"],
            "entity/UserTable",
        ),
        (&["event", "checkin", "log"], "entity/EventTable"),
        (&["subscription"], "entity/SubscriptionTable"),
        (&["company", "companies", "vendor"], "entity/CompanyTable"),
    ];
    words
        .iter()
        .map(|(ws, entity)| {
            let alternatives: Vec<String> = ws.iter().map(|w| format!("^{w}|{w}s?$")).collect();
            (
                // Built from constant words only (see the tests below): cannot fail.
                Regex::new(&alternatives.join("|")).expect("entity rule pattern"),
                *entity,
            )
        })
        .collect()
});

/// A table's entity type from its name (§2.7).
pub fn entity_type(table_name: &str) -> &'static str {
    let lower = table_name.to_lowercase();
    ENTITY_RULES
        .iter()
        .find(|(re, _)| re.is_match(&lower))
        .map(|(_, e)| *e)
        .unwrap_or("entity/GenericTable")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_types_of_the_sample_and_fixture_tables() {
        assert_eq!(entity_type("ORDERS"), "entity/TransactionTable");
        assert_eq!(entity_type("PEOPLE"), "entity/UserTable");
        assert_eq!(entity_type("PRODUCTS"), "entity/ProductTable");
        assert_eq!(entity_type("REVIEWS"), "entity/GenericTable");
        assert_eq!(entity_type("big_orders"), "entity/TransactionTable");
        assert_eq!(entity_type("customers"), "entity/GenericTable");
        assert_eq!(entity_type("companies"), "entity/CompanyTable");
        assert_eq!(entity_type("order_items"), "entity/TransactionTable");
    }

    #[test]
    fn name_rules_in_order() {
        let s = |n: &str, b: &str| semantic_from_name(n, b);
        assert_eq!(s("ID", "type/Integer").as_deref(), Some("type/PK"));
        assert_eq!(
            s("LATITUDE", "type/Float").as_deref(),
            Some("type/Latitude")
        );
        assert_eq!(s("LATITUDE", "type/Text"), None);
        assert_eq!(s("status", "type/Text").as_deref(), Some("type/Category"));
        assert_eq!(s("full_name", "type/Text").as_deref(), Some("type/Name"));
        assert_eq!(
            s("QUANTITY", "type/Integer").as_deref(),
            Some("type/Quantity")
        );
        assert_eq!(s("quantity", "type/Text"), None);
        assert_eq!(
            s("number_of_orders", "type/BigInteger").as_deref(),
            Some("type/Quantity")
        );
        assert_eq!(
            s("CREATED_AT", "type/DateTime").as_deref(),
            Some("type/CreationTimestamp")
        );
        assert_eq!(
            s("created_at", "type/DateTimeWithLocalTZ").as_deref(),
            Some("type/CreationTimestamp")
        );
        assert_eq!(
            s("start_date", "type/Date").as_deref(),
            Some("type/CreationDate")
        );
        assert_eq!(s("BIRTH_DATE", "type/Date"), None);
        assert_eq!(
            s("birthdate", "type/Date").as_deref(),
            Some("type/Birthdate")
        );
        assert_eq!(s("RATING", "type/Float").as_deref(), Some("type/Score"));
        assert_eq!(s("VENDOR", "type/Text").as_deref(), Some("type/Company"));
        assert_eq!(
            s("DISCOUNT", "type/Float").as_deref(),
            Some("type/Discount")
        );
        assert_eq!(s("SOURCE", "type/Text").as_deref(), Some("type/Source"));
        assert_eq!(s("TITLE", "type/Text").as_deref(), Some("type/Title"));
        assert_eq!(s("placed_on", "type/Date"), None);
        assert_eq!(s("total", "type/Decimal"), None);
    }
}
