//! Which attributes of a table or field were set by an edit (data-model.md §2.9), stored as a
//! comma-separated list of attribute names that sync never overwrites.

pub fn is_edited(edited: &str, attribute: &str) -> bool {
    edited.split(',').any(|a| !a.is_empty() && a == attribute)
}

/// `edited` with `attribute` added (kept sorted, so equal sets store equal text).
pub fn mark_edited(edited: &str, attribute: &str) -> String {
    let mut set: Vec<&str> = edited.split(',').filter(|a| !a.is_empty()).collect();
    if !set.contains(&attribute) {
        set.push(attribute);
    }
    set.sort_unstable();
    set.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edited_sets() {
        let e = mark_edited("", "description");
        assert_eq!(e, "description");
        let e = mark_edited(&e, "display_name");
        assert_eq!(e, "description,display_name");
        assert_eq!(mark_edited(&e, "description"), e);
        assert!(is_edited(&e, "display_name"));
        assert!(!is_edited(&e, "display"));
        assert!(!is_edited("", ""));
    }
}
