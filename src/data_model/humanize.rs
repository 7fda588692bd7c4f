//! Display names computed from warehouse names (data-model.md §1.4), under the
//! `humanization-strategy` setting.

/// The `humanization-strategy` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// The name unchanged.
    None,
    /// Split on `-`, `_` and whitespace, capitalise, join with spaces.
    Simple,
}

impl Strategy {
    /// The setting's stored value; anything but `none` is the default, `simple`.
    pub fn from_setting(value: Option<&str>) -> Strategy {
        match value {
            Some("none") => Strategy::None,
            _ => Strategy::Simple,
        }
    }
}

/// Parts written in upper case whatever their spelling.
const ACRONYMS: &[&str] = &["id", "url", "ip", "uid", "uuid", "guid"];

pub fn humanize(name: &str, strategy: Strategy) -> String {
    match strategy {
        Strategy::None => name.to_string(),
        Strategy::Simple => {
            let parts: Vec<String> = name
                .split(|c: char| c == '-' || c == '_' || c.is_whitespace())
                .filter(|p| !p.is_empty())
                .map(part)
                .collect();
            if parts.is_empty() {
                name.to_string()
            } else {
                parts.join(" ")
            }
        }
    }
}

fn part(p: &str) -> String {
    let lower = p.to_lowercase();
    if ACRONYMS.contains(&lower.as_str()) {
        return p.to_uppercase();
    }
    let all_upper = p.chars().any(char::is_alphabetic) && !p.chars().any(char::is_lowercase);
    let mut chars = p.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let rest: String = chars.collect();
    let rest = if all_upper { rest.to_lowercase() } else { rest };
    first.to_uppercase().collect::<String>() + &rest
}

#[cfg(test)]
mod tests {
    use super::{humanize, Strategy};
    use proptest::prelude::{prop_assert, proptest};

    #[test]
    fn the_spec_examples() {
        for (name, want) in [
            ("CREATED_AT", "Created At"),
            ("USER_ID", "User ID"),
            ("EAN", "Ean"),
            ("customer_id", "Customer ID"),
            ("stg_customers", "Stg Customers"),
            ("firstName", "FirstName"),
            ("__", "__"),
            ("big_orders", "Big Orders"),
            ("ip-address  url", "IP Address URL"),
            ("Uuid", "UUID"),
            ("", ""),
        ] {
            assert_eq!(humanize(name, Strategy::Simple), want, "{name}");
        }
        assert_eq!(humanize("USER_ID", Strategy::None), "USER_ID");
    }

    #[test]
    fn setting_values() {
        assert_eq!(Strategy::from_setting(Some("none")), Strategy::None);
        assert_eq!(Strategy::from_setting(Some("simple")), Strategy::Simple);
        assert_eq!(Strategy::from_setting(None), Strategy::Simple);
    }

    proptest! {
        #[test]
        fn never_empty_for_a_non_empty_name(name in "\\PC{1,40}") {
            prop_assert!(!humanize(&name, Strategy::Simple).is_empty());
        }

        #[test]
        fn has_no_separators_unless_unchanged(name in "[a-zA-Z_ -]{1,30}") {
            let h = humanize(&name, Strategy::Simple);
            prop_assert!(h == name || !(h.contains('_') || h.contains('-') || h.contains("  ")));
        }
    }
}
