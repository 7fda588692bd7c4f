//! A small snapshot shaped like the Sample Database (`ORDERS`, `PRODUCTS`, `PEOPLE`), with the
//! DDL of the same tables for both engines: what the compiler's tests, property tests and
//! benchmark compile against without a server.
use super::meta::{FieldMeta, Metadata, TableMeta};
use crate::warehouse::sqltext::Dialect;

pub const ORDERS: i64 = 1;
pub const PRODUCTS: i64 = 2;
pub const PEOPLE: i64 = 3;

/// `(table, id, name, base type, semantic type, fk target, database type)`.
type FieldSpec = (
    i64,
    i64,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<i64>,
    &'static str,
);

const FIELDS: &[FieldSpec] = &[
    (
        ORDERS,
        10,
        "ID",
        "type/BigInteger",
        Some("type/PK"),
        None,
        "BIGINT",
    ),
    (
        ORDERS,
        11,
        "USER_ID",
        "type/Integer",
        Some("type/FK"),
        Some(30),
        "INTEGER",
    ),
    (
        ORDERS,
        12,
        "PRODUCT_ID",
        "type/Integer",
        Some("type/FK"),
        Some(20),
        "INTEGER",
    ),
    (
        ORDERS,
        13,
        "QUANTITY",
        "type/Integer",
        Some("type/Quantity"),
        None,
        "INTEGER",
    ),
    (
        ORDERS,
        14,
        "TOTAL",
        "type/Float",
        None,
        None,
        "DOUBLE PRECISION",
    ),
    (
        ORDERS,
        15,
        "DISCOUNT",
        "type/Float",
        Some("type/Discount"),
        None,
        "DOUBLE PRECISION",
    ),
    (
        ORDERS,
        16,
        "CREATED_AT",
        "type/DateTime",
        Some("type/CreationTimestamp"),
        None,
        "TIMESTAMP",
    ),
    (
        PRODUCTS,
        20,
        "ID",
        "type/BigInteger",
        Some("type/PK"),
        None,
        "BIGINT",
    ),
    (
        PRODUCTS,
        21,
        "TITLE",
        "type/Text",
        Some("type/Title"),
        None,
        "TEXT",
    ),
    (
        PRODUCTS,
        22,
        "CATEGORY",
        "type/Text",
        Some("type/Category"),
        None,
        "TEXT",
    ),
    (
        PRODUCTS,
        23,
        "PRICE",
        "type/Float",
        None,
        None,
        "DOUBLE PRECISION",
    ),
    (
        PRODUCTS,
        24,
        "CREATED_AT",
        "type/DateTime",
        Some("type/CreationTimestamp"),
        None,
        "TIMESTAMP",
    ),
    (
        PEOPLE,
        30,
        "ID",
        "type/BigInteger",
        Some("type/PK"),
        None,
        "BIGINT",
    ),
    (
        PEOPLE,
        31,
        "NAME",
        "type/Text",
        Some("type/Name"),
        None,
        "TEXT",
    ),
    (
        PEOPLE,
        32,
        "STATE",
        "type/Text",
        Some("type/State"),
        None,
        "TEXT",
    ),
    (PEOPLE, 33, "BIRTH_DATE", "type/Date", None, None, "DATE"),
    (
        PEOPLE,
        34,
        "LATITUDE",
        "type/Float",
        Some("type/Latitude"),
        None,
        "DOUBLE PRECISION",
    ),
    (PEOPLE, 35, "ACTIVE", "type/Boolean", None, None, "BOOLEAN"),
];

/// The snapshot on `engine` (database 1; PostgreSQL tables in schema `public`).
pub fn metadata(engine: Dialect) -> Metadata {
    let mut meta = Metadata::new(1, engine);
    for (t, name, display) in [
        (ORDERS, "ORDERS", "Orders"),
        (PRODUCTS, "PRODUCTS", "Products"),
        (PEOPLE, "PEOPLE", "People"),
    ] {
        meta.tables.insert(
            t,
            TableMeta {
                id: t,
                db_id: 1,
                schema: (engine == Dialect::Postgres).then(|| "public".to_string()),
                name: name.into(),
                display_name: display.into(),
                active: true,
                fields: FIELDS.iter().filter(|f| f.0 == t).map(|f| f.1).collect(),
            },
        );
    }
    for &(table_id, id, name, base, semantic, fk, db_type) in FIELDS {
        meta.fields.insert(
            id,
            FieldMeta {
                id,
                table_id,
                name: name.into(),
                display_name: display(name),
                base_type: base.into(),
                effective_type: base.into(),
                semantic_type: semantic.map(str::to_string),
                fk_target_field_id: fk,
                visibility_type: "normal".into(),
                description: None,
                database_type: db_type.into(),
                active: true,
                has_parent: false,
            },
        );
    }
    meta
}

/// `USER_ID` → `User ID` (the data model's humanisation, enough for these names).
fn display(name: &str) -> String {
    name.split('_')
        .map(|w| {
            if w == "ID" {
                w.to_string()
            } else {
                let lower = w.to_lowercase();
                let mut c = lower.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

/// The tables of the snapshot, empty, for `engine`.
pub fn ddl(engine: Dialect) -> String {
    let mut out = String::new();
    for (t, name) in [
        (ORDERS, "ORDERS"),
        (PRODUCTS, "PRODUCTS"),
        (PEOPLE, "PEOPLE"),
    ] {
        let cols: Vec<String> = FIELDS
            .iter()
            .filter(|f| f.0 == t)
            .map(|f| {
                let ty = match (engine, f.6) {
                    (Dialect::Sqlite, "BOOLEAN") => "INTEGER",
                    (_, ty) => ty,
                };
                format!("\"{}\" {ty}", f.2)
            })
            .collect();
        out.push_str(&format!("CREATE TABLE \"{name}\" ({});\n", cols.join(", ")));
    }
    out
}
