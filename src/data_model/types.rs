//! Metabase's type vocabulary as the data model uses it (data-model.md §1.5, §2.4): base types
//! from a column's declared or catalogue type, the semantic and entity types an edit may set,
//! coercion strategies and the effective type they give, and the visibility enumerations.

/// Base type of a PostgreSQL column from its catalogue type (§2.4): `typname`, `typtype`
/// (`e` for enums) and `typcategory` (`A` for arrays).
pub fn pg_base_type(typname: &str, typtype: &str, typcategory: &str) -> &'static str {
    if typcategory == "A" {
        return "type/Array";
    }
    if typtype == "e" {
        return "type/PostgresEnum";
    }
    match typname {
        "bool" => "type/Boolean",
        "int8" => "type/BigInteger",
        "int2" | "int4" => "type/Integer",
        "float4" | "float8" => "type/Float",
        "numeric" | "money" => "type/Decimal",
        "text" | "varchar" | "bpchar" | "char" | "name" | "citext" => "type/Text",
        "uuid" => "type/UUID",
        "date" => "type/Date",
        "time" => "type/Time",
        "timetz" => "type/TimeWithLocalTZ",
        "timestamp" => "type/DateTime",
        "timestamptz" => "type/DateTimeWithLocalTZ",
        "json" | "jsonb" => "type/JSON",
        "inet" | "cidr" => "type/IPAddress",
        _ => "type/*",
    }
}

/// Base type of a SQLite column from its declared type: the rules that type query results.
pub fn sqlite_base_type(declared: &str) -> &'static str {
    crate::warehouse::sqlite::declared_base_type(declared)
}

pub fn is_temporal(base: &str) -> bool {
    matches!(
        base,
        "type/Date"
            | "type/Time"
            | "type/TimeWithLocalTZ"
            | "type/DateTime"
            | "type/DateTimeWithLocalTZ"
            | "type/Instant"
    )
}

/// `date`, `time` or `datetime` for the name rules with temporal variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporal {
    Date,
    Time,
    DateTime,
}

pub fn temporal_kind(base: &str) -> Option<Temporal> {
    match base {
        "type/Date" => Some(Temporal::Date),
        "type/Time" | "type/TimeWithLocalTZ" => Some(Temporal::Time),
        "type/DateTime" | "type/DateTimeWithLocalTZ" | "type/Instant" => Some(Temporal::DateTime),
        _ => None,
    }
}

pub fn is_integer(base: &str) -> bool {
    matches!(base, "type/Integer" | "type/BigInteger")
}

pub fn is_float(base: &str) -> bool {
    matches!(base, "type/Float" | "type/Decimal")
}

pub fn is_number(base: &str) -> bool {
    is_integer(base) || is_float(base)
}

/// `type/Text` and its descendants.
pub fn is_text(base: &str) -> bool {
    matches!(base, "type/Text" | "type/UUID")
}

/// Base types without a fingerprint and without cached values.
pub fn is_opaque(base: &str) -> bool {
    matches!(
        base,
        "type/*" | "type/JSON" | "type/Array" | "type/Structured"
    )
}

/// Semantic types accepted by `PUT /api/field/:id` and produced by sync (§1.5).
pub const SEMANTIC_TYPES: &[&str] = &[
    "type/PK",
    "type/FK",
    "type/Quantity",
    "type/Share",
    "type/Percentage",
    "type/Currency",
    "type/Income",
    "type/Discount",
    "type/Price",
    "type/GrossMargin",
    "type/Cost",
    "type/Score",
    "type/Duration",
    "type/Location",
    "type/Coordinate",
    "type/Latitude",
    "type/Longitude",
    "type/Address",
    "type/City",
    "type/State",
    "type/Country",
    "type/ZipCode",
    "type/URL",
    "type/ImageURL",
    "type/AvatarURL",
    "type/Email",
    "type/IPAddress",
    "type/Category",
    "type/Enum",
    "type/Name",
    "type/Title",
    "type/Description",
    "type/Comment",
    "type/Product",
    "type/Company",
    "type/Subscription",
    "type/Source",
    "type/User",
    "type/Author",
    "type/Owner",
    "type/CreationTemporal",
    "type/CreationTimestamp",
    "type/CreationDate",
    "type/CreationTime",
    "type/JoinTemporal",
    "type/JoinTimestamp",
    "type/JoinDate",
    "type/JoinTime",
    "type/CancelationTemporal",
    "type/CancelationTimestamp",
    "type/CancelationDate",
    "type/CancelationTime",
    "type/DeletionTemporal",
    "type/DeletionTimestamp",
    "type/DeletionDate",
    "type/DeletionTime",
    "type/UpdatedTemporal",
    "type/UpdatedTimestamp",
    "type/UpdatedDate",
    "type/UpdatedTime",
    "type/Birthdate",
    "type/Structured",
    "type/SerializedJSON",
    "type/XML",
    "type/JSON",
    "type/DruidJSON",
    "Semantic/*",
    "Relation/*",
];

pub const ENTITY_TYPES: &[&str] = &[
    "entity/GenericTable",
    "entity/UserTable",
    "entity/CompanyTable",
    "entity/TransactionTable",
    "entity/ProductTable",
    "entity/SubscriptionTable",
    "entity/EventTable",
    "entity/*",
];

pub const TABLE_VISIBILITY: &[&str] = &["hidden", "technical", "cruft"];
pub const FIELD_VISIBILITY: &[&str] = &["normal", "details-only", "hidden", "sensitive", "retired"];
pub const FIELD_ORDERS: &[&str] = &["database", "alphabetical", "custom", "smart"];
pub const HAS_FIELD_VALUES: &[&str] = &["list", "auto-list", "search", "none"];

/// The coercion strategies that apply to some base type, with the base types they accept
/// (`exact`: only that type, not its descendants) and the effective type they give.
struct Coercion {
    name: &'static str,
    from: &'static [&'static str],
    exact: bool,
    to: &'static str,
}

const APPLICABLE: &[Coercion] = &[
    Coercion {
        name: "Coercion/ISO8601->DateTime",
        from: &["type/Text"],
        exact: false,
        to: "type/DateTime",
    },
    Coercion {
        name: "Coercion/ISO8601->Date",
        from: &["type/Text"],
        exact: false,
        to: "type/Date",
    },
    Coercion {
        name: "Coercion/ISO8601->Time",
        from: &["type/Text"],
        exact: false,
        to: "type/Time",
    },
    Coercion {
        name: "Coercion/YYYYMMDDHHMMSSString->Temporal",
        from: &["type/Text"],
        exact: false,
        to: "type/DateTime",
    },
    Coercion {
        name: "Coercion/UNIXSeconds->DateTime",
        from: &["type/Integer", "type/Decimal"],
        exact: false,
        to: "type/Instant",
    },
    Coercion {
        name: "Coercion/UNIXMilliSeconds->DateTime",
        from: &["type/Integer", "type/Decimal"],
        exact: false,
        to: "type/Instant",
    },
    Coercion {
        name: "Coercion/UNIXMicroSeconds->DateTime",
        from: &["type/Integer", "type/Decimal"],
        exact: false,
        to: "type/Instant",
    },
    Coercion {
        name: "Coercion/UNIXNanoSeconds->DateTime",
        from: &["type/Integer", "type/Decimal"],
        exact: false,
        to: "type/Instant",
    },
    Coercion {
        name: "Coercion/DateTime->Date",
        from: &["type/DateTime"],
        exact: false,
        to: "type/Date",
    },
    Coercion {
        name: "Coercion/String->Float",
        from: &["type/Text"],
        exact: true,
        to: "type/Float",
    },
    Coercion {
        name: "Coercion/String->Integer",
        from: &["type/Text"],
        exact: true,
        to: "type/Integer",
    },
    Coercion {
        name: "Coercion/Float->Integer",
        from: &["type/Float"],
        exact: true,
        to: "type/Integer",
    },
    Coercion {
        name: "Coercion/YYYYMMDDHHMMSSBytes->Temporal",
        from: &["type/*"],
        exact: true,
        to: "type/DateTime",
    },
    Coercion {
        name: "Coercion/ISO8601Bytes->Temporal",
        from: &["type/*"],
        exact: true,
        to: "type/DateTime",
    },
];

/// The abstract descendants of `Coercion/*`: valid values that apply to no base type.
const ABSTRACT_COERCIONS: &[&str] = &[
    "Coercion/String->Temporal",
    "Coercion/ISO8601->Temporal",
    "Coercion/Bytes->Temporal",
    "Coercion/Number->Temporal",
    "Coercion/UNIXTime->Temporal",
    "Coercion/String->Number",
    "Coercion/Temporal->Temporal",
];

pub fn is_coercion(s: &str) -> bool {
    APPLICABLE.iter().any(|c| c.name == s) || ABSTRACT_COERCIONS.contains(&s)
}

/// Is `base` the type `ancestor` or one of its descendants (for the types coercions name)?
fn isa(base: &str, ancestor: &str) -> bool {
    base == ancestor
        || match ancestor {
            "type/Text" => is_text(base),
            "type/Integer" => base == "type/BigInteger",
            "type/DateTime" => base == "type/DateTimeWithLocalTZ",
            "type/*" => true,
            _ => false,
        }
}

/// The effective type a coercion gives a field of `base` type, or `None` when the strategy
/// does not apply to it (it is then dropped, §1.5).
pub fn coerced_type(strategy: &str, base: &str) -> Option<&'static str> {
    let c = APPLICABLE.iter().find(|c| c.name == strategy)?;
    let applies = c
        .from
        .iter()
        .any(|t| if c.exact { base == *t } else { isa(base, t) });
    applies.then_some(c.to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_catalogue_types() {
        assert_eq!(pg_base_type("int8", "b", "N"), "type/BigInteger");
        assert_eq!(pg_base_type("numeric", "b", "N"), "type/Decimal");
        assert_eq!(pg_base_type("money", "b", "N"), "type/Decimal");
        assert_eq!(pg_base_type("interval", "b", "T"), "type/*");
        assert_eq!(pg_base_type("_int4", "b", "A"), "type/Array");
        assert_eq!(pg_base_type("mood", "e", "E"), "type/PostgresEnum");
        assert_eq!(
            pg_base_type("timestamptz", "b", "D"),
            "type/DateTimeWithLocalTZ"
        );
        assert_eq!(pg_base_type("jsonb", "b", "U"), "type/JSON");
    }

    #[test]
    fn sqlite_declared_types() {
        assert_eq!(sqlite_base_type("BIGINT"), "type/BigInteger");
        assert_eq!(sqlite_base_type("INTEGER"), "type/Integer");
        assert_eq!(sqlite_base_type("TIMESTAMP"), "type/DateTime");
        assert_eq!(sqlite_base_type("NULL"), "type/*");
        assert_eq!(sqlite_base_type(""), "type/*");
    }

    #[test]
    fn coercions_apply_per_base_type() {
        assert_eq!(
            coerced_type("Coercion/ISO8601->Date", "type/Text"),
            Some("type/Date")
        );
        assert_eq!(
            coerced_type("Coercion/UNIXSeconds->DateTime", "type/Text"),
            None
        );
        assert_eq!(
            coerced_type("Coercion/UNIXSeconds->DateTime", "type/BigInteger"),
            Some("type/Instant")
        );
        assert_eq!(coerced_type("Coercion/String->Float", "type/UUID"), None);
        assert_eq!(
            coerced_type("Coercion/ISO8601->Temporal", "type/Text"),
            None
        );
        assert!(is_coercion("Coercion/ISO8601->Temporal"));
        assert!(!is_coercion("Coercion/Nope"));
        assert!(!is_coercion("Coercion/*"));
    }

    #[test]
    fn semantic_types_are_the_spec_list() {
        assert!(SEMANTIC_TYPES.contains(&"type/Price"));
        assert!(!SEMANTIC_TYPES.contains(&"type/Integer"));
        assert!(!SEMANTIC_TYPES.contains(&"PK"));
        assert_eq!(SEMANTIC_TYPES.len(), 68);
    }
}
