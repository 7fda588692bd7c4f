//! `GET /api/api-key` (api-keys.md 5.2) rendered straight to bytes, because it must answer in
//! under a second with 100,000 keys stored. The rows carry ids only; group names and editors'
//! common names are looked up once per distinct id; each key object is serialised from borrowed
//! fields into one buffer, with no per-key `String` copies and no JSON tree. The bytes are the
//! same as serialising [`super::view::key_view`] for every row (a test checks it).
use std::collections::HashMap;

use serde::Serialize;

use super::format::masked;
use super::list_store::KeyList;
use super::view::{last_used, live_until};
use crate::auth::restrictions::Restrictions;
use crate::auth::ALL_USERS;
use crate::clock::Timestamp;
use crate::users::view::common_name;

/// Field for field, in order, [`super::view::KeyObject`] with borrowed strings.
#[derive(Serialize)]
struct Item<'a> {
    id: i64,
    name: &'a str,
    group: Group<'a>,
    masked_key: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    updated_by: UpdatedBy<'a>,
    expires_at: Option<Timestamp>,
    last_used_at: Option<Timestamp>,
    previous_key_valid_until: Option<Timestamp>,
    restrictions: Option<Restrictions>,
}

#[derive(Serialize)]
struct Group<'a> {
    id: i64,
    name: &'a str,
}

#[derive(Serialize)]
struct UpdatedBy<'a> {
    id: i64,
    common_name: &'a str,
}

/// The JSON array of key objects. `seen` gives the newest use this instance recorded of a key.
pub fn render(
    list: &KeyList,
    seen: impl Fn(i64) -> Option<i64>,
    now: Timestamp,
) -> serde_json::Result<Vec<u8>> {
    let groups: HashMap<i64, &str> = list
        .groups
        .iter()
        .map(|(id, name)| (*id, name.as_str()))
        .collect();
    let all_users = groups.get(&ALL_USERS).copied().unwrap_or("All Users");
    let editors: HashMap<i64, String> = list
        .updaters
        .iter()
        .map(|(id, email, first, last)| {
            (*id, common_name(email, first.as_deref(), last.as_deref()))
        })
        .collect();
    let mut restrictions: HashMap<i64, Restrictions> = list
        .restrictions
        .iter()
        .map(|(id, text)| (*id, Restrictions::from_db(text)))
        .collect();
    let mut out = Vec::with_capacity(2 + list.rows.len() * 380);
    out.push(b'[');
    for (i, r) in list.rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // A group deleted after the keys were read: the deletion moved its keys to All Users.
        let group = match groups.get(&r.group_id) {
            Some(name) => Group {
                id: r.group_id,
                name,
            },
            None => Group {
                id: ALL_USERS,
                name: all_users,
            },
        };
        let item = Item {
            id: r.id,
            name: &r.name,
            group,
            masked_key: masked(&r.key_prefix),
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
            updated_by: UpdatedBy {
                id: r.updated_by_id,
                common_name: editors
                    .get(&r.updated_by_id)
                    .map(String::as_str)
                    .unwrap_or(""),
            },
            expires_at: r.expires_at.map(Timestamp),
            last_used_at: last_used(r.last_used_at, seen(r.id)).map(Timestamp),
            previous_key_valid_until: live_until(r.previous_key_valid_until, now).map(Timestamp),
            restrictions: restrictions.remove(&r.id),
        };
        serde_json::to_writer(&mut out, &item)?;
    }
    out.push(b']');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_keys::list_store::KeyListRow;
    use crate::api_keys::store::ApiKeyRow;
    use crate::api_keys::view::key_view;

    fn api_key_row(i: i64) -> ApiKeyRow {
        ApiKeyRow {
            id: i,
            name: ["nightly \"export\"", "clé ünïcödé \\ ☃", "plain"][i as usize % 3].into(),
            user_id: 100 + i,
            key_prefix: format!("mb_{i:04}"),
            previous_key_prefix: None,
            previous_key_valid_until: [None, Some(2_000_000), Some(500)][i as usize % 3],
            expires_at: [None, Some(3_000_000_000_000)][i as usize % 2],
            last_used_at: [None, Some(700), Some(900)][i as usize % 3],
            created_at: 1_700_000_000_123_456 + i,
            updated_at: 1_700_000_000_999_999 + i,
            updated_by_id: [2, 1][i as usize % 2],
            updated_by_email: ["bob@example.com", "ada@example.com"][i as usize % 2].into(),
            updated_by_first_name: (i % 2 == 1).then(|| "Ada".into()),
            updated_by_last_name: (i % 2 == 1).then(|| "Lovelace".into()),
            group_id: [1, 2, 5][i as usize % 3],
            group_name: ["All Users", "Administrators", "Ops \"team\""][i as usize % 3].into(),
            restrictions: (i % 4 == 1)
                .then(|| r#"{"access":"read-only","allowed_ips":["10.0.0.0/8"]}"#.into()),
        }
    }

    fn as_list(rows: &[ApiKeyRow]) -> KeyList {
        KeyList {
            rows: rows
                .iter()
                .map(|r| KeyListRow {
                    id: r.id,
                    name: r.name.clone(),
                    key_prefix: r.key_prefix.clone(),
                    previous_key_valid_until: r.previous_key_valid_until,
                    expires_at: r.expires_at,
                    last_used_at: r.last_used_at,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                    updated_by_id: r.updated_by_id,
                    group_id: r.group_id,
                })
                .collect(),
            groups: vec![
                (1, "All Users".into()),
                (2, "Administrators".into()),
                (5, "Ops \"team\"".into()),
            ],
            updaters: vec![
                (
                    1,
                    "ada@example.com".into(),
                    Some("Ada".into()),
                    Some("Lovelace".into()),
                ),
                (2, "bob@example.com".into(), None, None),
            ],
            restrictions: rows
                .iter()
                .filter_map(|r| r.restrictions.clone().map(|t| (r.id, t)))
                .collect(),
        }
    }

    fn seen(id: i64) -> Option<i64> {
        (id % 4 == 0).then_some(800)
    }

    #[test]
    fn same_bytes_as_the_key_object() {
        let now = Timestamp(1_000_000);
        let rows: Vec<ApiKeyRow> = (1..=12).map(api_key_row).collect();
        let expected = serde_json::to_vec(
            &rows
                .iter()
                .map(|r| key_view(r, seen(r.id), now))
                .collect::<Vec<_>>(),
        )
        .expect("serialise");
        let got = render(&as_list(&rows), seen, now).expect("render");
        assert_eq!(
            String::from_utf8(got).expect("utf-8"),
            String::from_utf8(expected).expect("utf-8")
        );
        assert_eq!(
            render(&KeyList::default(), seen, now).expect("render"),
            b"[]"
        );
    }

    #[test]
    fn a_key_of_a_deleted_group_is_shown_in_all_users() {
        let mut list = as_list(&[api_key_row(3)]);
        list.rows[0].group_id = 9;
        let v: serde_json::Value =
            serde_json::from_slice(&render(&list, |_| None, Timestamp(0)).expect("render"))
                .expect("json");
        assert_eq!(
            v[0]["group"],
            serde_json::json!({"id": 1, "name": "All Users"})
        );
    }
}
