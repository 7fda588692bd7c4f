//! Display positions of a table's fields under each `field_order` (data-model.md §5.12).
use std::cmp::Ordering;

use super::types;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOrder {
    Database,
    Alphabetical,
    Custom,
    Smart,
}

impl FieldOrder {
    pub fn parse(s: &str) -> Option<FieldOrder> {
        Some(match s {
            "database" => FieldOrder::Database,
            "alphabetical" => FieldOrder::Alphabetical,
            "custom" => FieldOrder::Custom,
            "smart" => FieldOrder::Smart,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FieldOrder::Database => "database",
            FieldOrder::Alphabetical => "alphabetical",
            FieldOrder::Custom => "custom",
            FieldOrder::Smart => "smart",
        }
    }
}

/// What ordering needs to know of a field.
#[derive(Debug, Clone)]
pub struct Orderable<'a> {
    pub id: i64,
    pub name: &'a str,
    pub database_position: i64,
    pub custom_position: i64,
    /// `false` for a field added after the custom order was set: it goes last.
    pub has_custom_position: bool,
    pub semantic_type: Option<&'a str>,
    pub base_type: &'a str,
}

fn smart_group(f: &Orderable<'_>) -> u8 {
    match f.semantic_type {
        Some("type/PK") => 0,
        Some("type/Name") => 1,
        _ if types::is_temporal(f.base_type) => 2,
        _ => 3,
    }
}

fn compare(order: FieldOrder, a: &Orderable<'_>, b: &Orderable<'_>) -> Ordering {
    let by_name = || a.name.to_lowercase().cmp(&b.name.to_lowercase());
    let primary = match order {
        FieldOrder::Database => a.database_position.cmp(&b.database_position),
        FieldOrder::Alphabetical => by_name(),
        FieldOrder::Smart => smart_group(a).cmp(&smart_group(b)).then_with(by_name),
        FieldOrder::Custom => a.custom_key().cmp(&b.custom_key()),
    };
    primary.then(a.id.cmp(&b.id))
}

impl Orderable<'_> {
    /// Fields with a custom position first, by it; fields added later after them, in database
    /// order.
    fn custom_key(&self) -> (bool, i64) {
        if self.has_custom_position {
            (false, self.custom_position)
        } else {
            (true, self.database_position)
        }
    }
}

/// `(field id, position)` for every field, positions 0-based in the order's sequence.
pub fn positions(order: FieldOrder, fields: &[Orderable<'_>]) -> Vec<(i64, i64)> {
    let mut sorted: Vec<&Orderable<'_>> = fields.iter().collect();
    sorted.sort_by(|a, b| compare(order, a, b));
    sorted
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id, i as i64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn products() -> Vec<Orderable<'static>> {
        let cols: [(&str, Option<&str>, &str); 8] = [
            ("ID", Some("type/PK"), "type/Integer"),
            ("EAN", None, "type/Text"),
            ("TITLE", Some("type/Title"), "type/Text"),
            ("CATEGORY", Some("type/Category"), "type/Text"),
            ("VENDOR", Some("type/Company"), "type/Text"),
            ("PRICE", None, "type/Float"),
            ("RATING", Some("type/Score"), "type/Float"),
            (
                "CREATED_AT",
                Some("type/CreationTimestamp"),
                "type/DateTime",
            ),
        ];
        cols.iter()
            .enumerate()
            .map(|(i, (name, semantic, base))| Orderable {
                id: 22 + i as i64,
                name,
                database_position: i as i64,
                custom_position: 0,
                has_custom_position: false,
                semantic_type: *semantic,
                base_type: base,
            })
            .collect()
    }

    fn names(order: FieldOrder, fields: &[Orderable<'_>]) -> Vec<String> {
        let pos = positions(order, fields);
        pos.iter()
            .map(|(id, _)| {
                fields
                    .iter()
                    .find(|f| f.id == *id)
                    .unwrap()
                    .name
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn the_spec_orders_of_products() {
        let f = products();
        assert_eq!(
            names(FieldOrder::Alphabetical, &f),
            [
                "CATEGORY",
                "CREATED_AT",
                "EAN",
                "ID",
                "PRICE",
                "RATING",
                "TITLE",
                "VENDOR"
            ]
        );
        assert_eq!(
            names(FieldOrder::Smart, &f),
            [
                "ID",
                "CREATED_AT",
                "CATEGORY",
                "EAN",
                "PRICE",
                "RATING",
                "TITLE",
                "VENDOR"
            ]
        );
        assert_eq!(names(FieldOrder::Database, &f)[0], "ID");
    }

    #[test]
    fn custom_order_puts_new_fields_last_in_database_order() {
        let mut f = products();
        for (i, field) in f.iter_mut().enumerate().take(6) {
            field.has_custom_position = true;
            field.custom_position = 5 - i as i64;
        }
        assert_eq!(
            names(FieldOrder::Custom, &f),
            [
                "PRICE",
                "VENDOR",
                "CATEGORY",
                "TITLE",
                "EAN",
                "ID",
                "RATING",
                "CREATED_AT"
            ]
        );
    }
}
