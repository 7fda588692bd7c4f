//! A change of `humanization-strategy` (data-model.md §1.4): every table and field whose display
//! name is still the humanization of its name under the old strategy, and was never edited, gets
//! the new strategy's.
use super::edits::is_edited;
use super::humanize::{humanize, Strategy};
use crate::store::{StoreResult, Tx};

fn renamed(
    name: &str,
    display: &str,
    edited: &str,
    old: Strategy,
    new: Strategy,
) -> Option<String> {
    (!is_edited(edited, "display_name") && display == humanize(name, old))
        .then(|| humanize(name, new))
        .filter(|d| d != display)
}

/// Runs inside the transaction that writes the setting.
pub async fn rehumanize(
    tx: &mut dyn Tx,
    old: Option<&str>,
    new: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    let (old, new) = (Strategy::from_setting(old), Strategy::from_setting(new));
    if old == new {
        return Ok(());
    }
    for t in tx.dm_all_tables().await? {
        if let Some(display) = renamed(&t.name, &t.display_name, &t.edited, old, new) {
            let mut row = t.clone();
            row.display_name = display;
            row.updated_at = now;
            tx.dm_table_update(&row).await?;
        }
        for f in tx.dm_fields(t.id).await? {
            if let Some(display) = renamed(&f.name, &f.display_name, &f.edited, old, new) {
                let mut row = f.clone();
                row.display_name = display;
                row.updated_at = now;
                tx.dm_field_update(&row).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unedited_humanized_names_follow() {
        let (s, n) = (Strategy::Simple, Strategy::None);
        assert_eq!(
            renamed("USER_ID", "User ID", "", s, n).as_deref(),
            Some("USER_ID")
        );
        assert_eq!(renamed("USER_ID", "Buyer", "", s, n), None);
        assert_eq!(renamed("USER_ID", "User ID", "display_name", s, n), None);
        assert_eq!(
            renamed("USER_ID", "USER_ID", "", n, s).as_deref(),
            Some("User ID")
        );
        assert_eq!(renamed("x", "X", "", s, n).as_deref(), Some("x"));
    }
}
