//! Collections (content.md §1) and collection permissions (people-and-groups.md §8).
pub mod perms;
