//! The storage side of `GET /api/api-key`, which must answer in under a second with 100,000
//! keys stored (README §Benchmarks).
//!
//! Measured on SQLite, sqlx hands each value of each row from its worker thread to the async
//! side with an allocation or two: ten columns of 100,000 rows took 250–450 ms to fetch and
//! decode, while the database packs the same data into **one text value** in 100–150 ms, and
//! reading that back is a few milliseconds (on a loaded 2-core machine). So
//! [`KEY_LIST_SQL`] has the database write one record per key, records joined by a line feed
//! (`string_agg`, on SQLite ≥ 3.44 and PostgreSQL), and [`unpack`] reads them back and sorts
//! them by id (an `ORDER BY` inside the aggregate doubled SQLite's time). A record is
//!
//! ```text
//! id,previous_key_valid_until,expires_at,last_used_at,created_at,updated_at,updated_by_id,group_id,key_prefix,name
//! ```
//!
//! with empty fields for `NULL`. Every field but the last is an integer or a base62 prefix, so
//! the name (last; it may hold commas) is the rest of the record, with `\` written `\\` and a
//! line feed written `\n`. Group names and editors' names are read once per distinct id
//! ([`KEY_LIST_GROUPS_SQL`], [`KEY_LIST_UPDATERS_SQL`]) instead of on every row.

/// One key of the list: only what the list shows, with its reported group and last editor as
/// ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyListRow {
    pub id: i64,
    pub name: String,
    pub key_prefix: String,
    pub previous_key_valid_until: Option<i64>,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by_id: i64,
    pub group_id: i64,
}

/// Every key, ordered by id, and the names its rows refer to.
#[derive(Debug, Clone, Default)]
pub struct KeyList {
    pub rows: Vec<KeyListRow>,
    /// (id, name) of every group.
    pub groups: Vec<(i64, String)>,
    /// (id, email, first name, last name) of every user who last changed a key.
    pub updaters: Vec<(i64, String, Option<String>, Option<String>)>,
    /// `(key id, stored restrictions)` of the keys that have some (few: read apart from the
    /// packed rows, whose last column is the free-text name).
    pub restrictions: Vec<(i64, String)>,
}

/// Every key as one text value (`NULL` when there are none). The reported group is the key
/// user's membership other than All Users, or All Users (api-keys.md 2.3).
pub const KEY_LIST_SQL: &str = "SELECT string_agg(
        k.id || ',' || coalesce(k.previous_key_valid_until || '', '') || ','
        || coalesce(k.expires_at || '', '') || ',' || coalesce(k.last_used_at || '', '') || ','
        || k.created_at || ',' || k.updated_at || ',' || k.updated_by_id || ','
        || coalesce(m.group_id, 1) || ',' || k.key_prefix || ','
        || replace(replace(k.name, '\\', '\\\\'), '\n', '\\n'),
        '\n')
    FROM api_key k
    LEFT JOIN permissions_group_membership m ON m.user_id = k.user_id AND m.group_id <> 1";

/// Read after the keys, so every editor a row names is there (users are never deleted); a
/// group deleted in between is missing, and its keys are then shown in All Users, where the
/// deletion put them.
pub const KEY_LIST_RESTRICTIONS_SQL: &str =
    "SELECT id, restrictions FROM api_key WHERE restrictions IS NOT NULL";
pub const KEY_LIST_GROUPS_SQL: &str = "SELECT id, name FROM permissions_group";
pub const KEY_LIST_UPDATERS_SQL: &str = "SELECT u.id, u.email, u.first_name, u.last_name
    FROM core_user u WHERE u.id IN (SELECT updated_by_id FROM api_key)";

/// The rows of [`KEY_LIST_SQL`]'s value (`""` for none), ordered by id; `None` if it is not in
/// that format.
pub fn unpack(packed: &str) -> Option<Vec<KeyListRow>> {
    if packed.is_empty() {
        return Some(Vec::new());
    }
    let mut rows = packed
        .split('\n')
        .map(record)
        .collect::<Option<Vec<KeyListRow>>>()?;
    rows.sort_unstable_by_key(|r| r.id);
    Some(rows)
}

fn record(line: &str) -> Option<KeyListRow> {
    let mut f = line.splitn(10, ',');
    let id = int(f.next()?)?;
    let previous_key_valid_until = nullable(f.next()?)?;
    let expires_at = nullable(f.next()?)?;
    let last_used_at = nullable(f.next()?)?;
    let created_at = int(f.next()?)?;
    let updated_at = int(f.next()?)?;
    let updated_by_id = int(f.next()?)?;
    let group_id = int(f.next()?)?;
    let key_prefix = f.next()?.to_string();
    let name = unescape(f.next()?)?;
    Some(KeyListRow {
        id,
        name,
        key_prefix,
        previous_key_valid_until,
        expires_at,
        last_used_at,
        created_at,
        updated_at,
        updated_by_id,
        group_id,
    })
}

fn int(s: &str) -> Option<i64> {
    s.parse().ok()
}

/// `Some(None)` for an empty field (`NULL`).
fn nullable(s: &str) -> Option<Option<i64>> {
    if s.is_empty() {
        Some(None)
    } else {
        int(s).map(Some)
    }
}

/// Undoes `\\` → `\` and `\n` → line feed; any other escape is not ours.
fn unescape(s: &str) -> Option<String> {
    if !s.contains('\\') {
        return Some(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_records() {
        assert_eq!(unpack(""), Some(vec![]));
        let rows = unpack(
            "7,20,30,40,10,12,3,5,mb_BBBB,a, b\\\\c\\nd,é\n\
             1,,,,10,11,1,1,mb_AAAA,plain",
        )
        .expect("unpack");
        assert_eq!(
            rows[0],
            KeyListRow {
                id: 1,
                name: "plain".into(),
                key_prefix: "mb_AAAA".into(),
                previous_key_valid_until: None,
                expires_at: None,
                last_used_at: None,
                created_at: 10,
                updated_at: 11,
                updated_by_id: 1,
                group_id: 1,
            }
        );
        assert_eq!(rows[1].name, "a, b\\c\nd,é");
        assert_eq!(
            (
                rows[1].previous_key_valid_until,
                rows[1].expires_at,
                rows[1].last_used_at,
                rows[1].group_id
            ),
            (Some(20), Some(30), Some(40), 5)
        );
    }

    #[test]
    fn refuses_what_it_did_not_write() {
        for bad in [
            "x,,,,1,1,1,1,mb_A,n",
            "1,,,,1,1,1,1,mb_A",
            "1,,,,1,1,1,mb_A,n",
            "1,,,,1,1,1,1,mb_A,bad\\escape",
            "1,,,,1,1,1,1,mb_A,trailing\\",
            "1,,,,1,1,1,1,mb_A,n\n",
        ] {
            assert_eq!(unpack(bad), None, "{bad:?}");
        }
    }
}
