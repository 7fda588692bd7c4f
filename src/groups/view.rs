//! The JSON shapes of groups and memberships (people-and-groups.md 5–6). Field order is the
//! wire order (serde_json keeps it).
use std::collections::HashMap;

use serde::{Serialize, Serializer};

use super::store::{GroupCountRow, GroupRow, MemberRow};
use crate::users::store::MembershipRow;
use crate::users::view::common_name;

/// A group: `POST` and `PUT /api/permissions/group`.
#[derive(Debug, Serialize)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub magic_group_type: Option<String>,
}

impl From<&GroupRow> for Group {
    fn from(g: &GroupRow) -> Self {
        Group {
            id: g.id,
            name: g.name.clone(),
            magic_group_type: g.magic_group_type.clone(),
        }
    }
}

/// A `GET /api/permissions/group` entry.
#[derive(Debug, Serialize)]
pub struct GroupCount {
    pub id: i64,
    pub name: String,
    pub magic_group_type: Option<String>,
    pub member_count: i64,
}

impl From<&GroupCountRow> for GroupCount {
    fn from(g: &GroupCountRow) -> Self {
        GroupCount {
            id: g.id,
            name: g.name.clone(),
            magic_group_type: g.magic_group_type.clone(),
            member_count: g.member_count,
        }
    }
}

/// `GET /api/permissions/group/:id`: the group and its members.
#[derive(Debug, Serialize)]
pub struct GroupDetail {
    pub id: i64,
    pub name: String,
    pub magic_group_type: Option<String>,
    pub members: Vec<Member>,
}

/// A member of a group.
#[derive(Debug, Serialize)]
pub struct Member {
    pub id: i64,
    pub user_id: i64,
    pub membership_id: i64,
    pub group_id: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub common_name: String,
    pub is_superuser: bool,
    pub is_group_manager: bool,
}

impl From<&MemberRow> for Member {
    fn from(m: &MemberRow) -> Self {
        Member {
            id: m.user_id,
            user_id: m.user_id,
            membership_id: m.membership_id,
            group_id: m.group_id,
            email: m.email.clone(),
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            common_name: common_name(&m.email, m.first_name.as_deref(), m.last_name.as_deref()),
            is_superuser: m.is_superuser,
            is_group_manager: false,
        }
    }
}

/// One membership of `GET /api/permissions/membership`.
#[derive(Debug, Serialize)]
pub struct Membership {
    pub membership_id: i64,
    pub group_id: i64,
    pub user_id: i64,
    pub is_group_manager: bool,
}

/// `GET /api/permissions/membership`: `{"<user id>": [membership, …], …}`, users in the order
/// their first membership was read.
#[derive(Debug, Default)]
pub struct MembershipMap(Vec<(i64, Vec<Membership>)>);

impl MembershipMap {
    pub fn from_rows(rows: &[MembershipRow]) -> Self {
        let mut out: Vec<(i64, Vec<Membership>)> = Vec::new();
        let mut index: HashMap<i64, usize> = HashMap::new();
        for m in rows {
            let view = Membership {
                membership_id: m.id,
                group_id: m.group_id,
                user_id: m.user_id,
                is_group_manager: false,
            };
            let i = *index.entry(m.user_id).or_insert_with(|| {
                out.push((m.user_id, Vec::new()));
                out.len() - 1
            });
            out[i].1.push(view);
        }
        MembershipMap(out)
    }
}

impl Serialize for MembershipMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(u, list)| (u.to_string(), list)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memberships_are_grouped_by_user_in_first_seen_order() {
        let row = |id, user_id, group_id| MembershipRow {
            id,
            user_id,
            group_id,
        };
        let map = MembershipMap::from_rows(&[row(1, 7, 1), row(2, 3, 1), row(3, 7, 2)]);
        assert_eq!(
            serde_json::to_string(&map).expect("json"),
            concat!(
                r#"{"7":[{"membership_id":1,"group_id":1,"user_id":7,"is_group_manager":false},"#,
                r#"{"membership_id":3,"group_id":2,"user_id":7,"is_group_manager":false}],"#,
                r#""3":[{"membership_id":2,"group_id":1,"user_id":3,"is_group_manager":false}]}"#
            )
        );
        assert_eq!(
            serde_json::to_string(&MembershipMap::default()).expect("json"),
            "{}"
        );
    }
}
