//! Keys narrower than their group (key-restrictions.md §1–§3): the `restrictions` object, its
//! validation with the exact messages of §3.2, its canonical stored and echoed form (arrays
//! sorted, without duplicates, addresses in canonical text), and the pure questions enforcement
//! asks of it. Nothing here grants anything: every answer only narrows what the group allows.
use std::net::IpAddr;

use ipnet::IpNet;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

pub const NOT_AN_OBJECT: &str = "value must be an object or null.";
pub const BAD_ACCESS: &str = "access must be \"read-write\" or \"read-only\".";
pub const BAD_COLLECTIONS: &str = "collections must be an array of collection ids.";
pub const BAD_DATABASES: &str = "databases must be an array of database ids.";
pub const BAD_IPS: &str = "allowed_ips must be an array of IP addresses or CIDR blocks.";
pub const BAD_RATE_LIMIT: &str =
    "rate_limit must be {\"requests\": 1-1000000, \"per_seconds\": 1-86400}.";
pub const TOO_MANY: &str = "too many entries.";
/// Most entries of one array member.
pub const MAX_ENTRIES: usize = 1_000;
pub const MAX_REQUESTS: u64 = 1_000_000;
pub const MAX_PER_SECONDS: u64 = 86_400;

/// The members, in the order they are validated and echoed.
const MEMBERS: [&str; 5] = [
    "access",
    "collections",
    "databases",
    "allowed_ips",
    "rate_limit",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    ReadOnly,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::ReadWrite => "read-write",
            Access::ReadOnly => "read-only",
        }
    }
}

/// An entry of `collections`: the root collection's own items, or a collection's subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CollectionScope {
    /// Sorts first.
    Root,
    Id(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub per_seconds: u32,
}

/// A key's restrictions; `None` members restrict nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restrictions {
    pub access: Option<Access>,
    pub collections: Option<Vec<CollectionScope>>,
    pub databases: Option<Vec<i64>>,
    pub allowed_ips: Option<Vec<IpNet>>,
    pub rate_limit: Option<RateLimit>,
}

/// Why a `restrictions` value was refused: one of the §3.2 messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid(pub &'static str);

/// The message for an unknown member (§3.2: `unknown restriction: <name>.`).
pub fn unknown_member(name: &str) -> String {
    format!("unknown restriction: {name}.")
}

/// What a `restrictions` value in a request body means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// `null`: no restriction at all.
    None,
    Some(Restrictions),
}

/// Parses a `restrictions` value of a request body; the error is the message to report under
/// `errors.restrictions`. The first problem in member order is reported.
pub fn parse(v: &Value) -> Result<Parsed, String> {
    let obj = match v {
        Value::Null => return Ok(Parsed::None),
        Value::Object(m) => m,
        _ => return Err(NOT_AN_OBJECT.into()),
    };
    let mut unknown: Vec<&String> = obj
        .keys()
        .filter(|k| !MEMBERS.contains(&k.as_str()))
        .collect();
    unknown.sort();
    if let Some(name) = unknown.first() {
        return Err(unknown_member(name));
    }
    let member = |name: &str| obj.get(name).filter(|v| !v.is_null());
    let invalid = |e: Invalid| e.0.to_string();
    Ok(Parsed::Some(Restrictions {
        access: member("access").map(access).transpose().map_err(invalid)?,
        collections: member("collections")
            .map(collections)
            .transpose()
            .map_err(invalid)?,
        databases: member("databases")
            .map(databases)
            .transpose()
            .map_err(invalid)?,
        allowed_ips: member("allowed_ips")
            .map(allowed_ips)
            .transpose()
            .map_err(invalid)?,
        rate_limit: member("rate_limit")
            .map(rate_limit)
            .transpose()
            .map_err(invalid)?,
    }))
}

fn access(v: &Value) -> Result<Access, Invalid> {
    match v.as_str() {
        Some("read-write") => Ok(Access::ReadWrite),
        Some("read-only") => Ok(Access::ReadOnly),
        _ => Err(Invalid(BAD_ACCESS)),
    }
}

/// The entries of an array member, at most [`MAX_ENTRIES`].
fn entries<'a>(v: &'a Value, bad: &'static str) -> Result<&'a [Value], Invalid> {
    let items = v.as_array().ok_or(Invalid(bad))?;
    if items.len() > MAX_ENTRIES {
        return Err(Invalid(TOO_MANY));
    }
    Ok(items)
}

/// A JSON integer ≥ 1 (not a float, not a string).
fn positive_id(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) if !n.is_f64() => n.as_i64().filter(|i| *i >= 1),
        _ => None,
    }
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items.dedup();
    items
}

fn collections(v: &Value) -> Result<Vec<CollectionScope>, Invalid> {
    let items = entries(v, BAD_COLLECTIONS)?;
    let scopes = items
        .iter()
        .map(|e| match e {
            Value::String(s) if s == "root" => Some(CollectionScope::Root),
            other => positive_id(other).map(CollectionScope::Id),
        })
        .collect::<Option<Vec<_>>>()
        .ok_or(Invalid(BAD_COLLECTIONS))?;
    Ok(sorted(scopes))
}

fn databases(v: &Value) -> Result<Vec<i64>, Invalid> {
    let items = entries(v, BAD_DATABASES)?;
    let ids = items
        .iter()
        .map(positive_id)
        .collect::<Option<Vec<_>>>()
        .ok_or(Invalid(BAD_DATABASES))?;
    Ok(sorted(ids))
}

/// An address (`10.0.0.1`, `::1`) or a CIDR block (`10.0.0.0/8`; host bits are cleared), with
/// IPv4-mapped IPv6 addresses and blocks written as IPv4.
pub fn ip_entry(text: &str) -> Option<IpNet> {
    let text = text.trim();
    let net = match text.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => IpNet::from(text.parse::<IpAddr>().ok()?),
    };
    let net = net.trunc();
    if let IpNet::V6(v6) = net {
        if let (Some(v4), true) = (v6.addr().to_ipv4_mapped(), v6.prefix_len() >= 96) {
            return ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .ok()
                .map(IpNet::V4);
        }
    }
    Some(net)
}

fn allowed_ips(v: &Value) -> Result<Vec<IpNet>, Invalid> {
    let items = entries(v, BAD_IPS)?;
    let nets = items
        .iter()
        .map(|e| e.as_str().and_then(ip_entry))
        .collect::<Option<Vec<_>>>()
        .ok_or(Invalid(BAD_IPS))?;
    Ok(sorted(nets))
}

fn rate_limit(v: &Value) -> Result<RateLimit, Invalid> {
    let bad = Invalid(BAD_RATE_LIMIT);
    let obj = v.as_object().ok_or(bad)?;
    if obj.len() != 2 {
        return Err(bad);
    }
    let bounded = |name: &str, max: u64| {
        obj.get(name)
            .and_then(positive_id)
            .and_then(|n| u64::try_from(n).ok())
            .filter(|n| *n <= max)
            .and_then(|n| u32::try_from(n).ok())
    };
    match (
        bounded("requests", MAX_REQUESTS),
        bounded("per_seconds", MAX_PER_SECONDS),
    ) {
        (Some(requests), Some(per_seconds)) => Ok(RateLimit {
            requests,
            per_seconds,
        }),
        _ => Err(bad),
    }
}

/// An allowed-address entry as text: a single address bare, a block as `addr/len`.
pub fn ip_text(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

impl Serialize for CollectionScope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CollectionScope::Root => s.serialize_str("root"),
            CollectionScope::Id(id) => s.serialize_i64(*id),
        }
    }
}

struct Ips<'a>(&'a [IpNet]);

impl Serialize for Ips<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for net in self.0 {
            seq.serialize_element(&ip_text(net))?;
        }
        seq.end()
    }
}

/// The stored and echoed form (§3.1): the members set, in [`MEMBERS`] order.
impl Serialize for Restrictions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(a) = self.access {
            m.serialize_entry("access", a.as_str())?;
        }
        if let Some(c) = &self.collections {
            m.serialize_entry("collections", c)?;
        }
        if let Some(d) = &self.databases {
            m.serialize_entry("databases", d)?;
        }
        if let Some(ips) = &self.allowed_ips {
            m.serialize_entry("allowed_ips", &Ips(ips))?;
        }
        if let Some(r) = self.rate_limit {
            let mut limit = Map::new();
            limit.insert("requests".into(), r.requests.into());
            limit.insert("per_seconds".into(), r.per_seconds.into());
            m.serialize_entry("rate_limit", &limit)?;
        }
        m.end()
    }
}

impl Restrictions {
    /// The stored text (the canonical JSON object).
    pub fn to_db(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// The stored text read back; `None` when it is not a valid object (never written so: a
    /// damaged row restricts as much as it can rather than nothing, see [`Self::unreadable`]).
    pub fn from_db(text: &str) -> Restrictions {
        match serde_json::from_str::<Value>(text).map(|v| parse(&v)) {
            Ok(Ok(Parsed::Some(r))) => r,
            Ok(Ok(Parsed::None)) => Restrictions::default(),
            _ => Restrictions::unreadable(),
        }
    }

    /// What a stored value that cannot be read means: read-only, no collection, no database,
    /// no address — the key can do nothing rather than everything.
    pub fn unreadable() -> Restrictions {
        Restrictions {
            access: Some(Access::ReadOnly),
            collections: Some(Vec::new()),
            databases: Some(Vec::new()),
            allowed_ips: Some(Vec::new()),
            rate_limit: None,
        }
    }

    pub fn read_only(&self) -> bool {
        self.access == Some(Access::ReadOnly)
    }

    /// Whether any member restricts something (`access: "read-write"` alone does not).
    pub fn restricts(&self) -> bool {
        self.read_only()
            || self.collections.is_some()
            || self.databases.is_some()
            || self.allowed_ips.is_some()
            || self.rate_limit.is_some()
    }

    /// Whether the key may reach a collection's content: `collection_id` is the collection
    /// (`None`: the root collection's own items) and `ancestors` its location's ids.
    pub fn allows_collection(&self, collection_id: Option<i64>, ancestors: &[i64]) -> bool {
        let Some(scopes) = &self.collections else {
            return true;
        };
        match collection_id {
            None => scopes.contains(&CollectionScope::Root),
            Some(id) => std::iter::once(&id)
                .chain(ancestors)
                .any(|c| scopes.binary_search(&CollectionScope::Id(*c)).is_ok()),
        }
    }

    /// Whether the key may reach database `id`.
    pub fn allows_database(&self, id: i64) -> bool {
        self.databases
            .as_ref()
            .is_none_or(|ids| ids.binary_search(&id).is_ok())
    }

    /// Whether the key may authenticate from `ip` (IPv4-mapped IPv6 addresses match IPv4
    /// entries).
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.allowed_ips
            .as_ref()
            .is_none_or(|nets| nets.iter().any(|n| n.contains(&ip)))
    }

    /// A one-line description for the UI's tooltip (`Read only · 2 collections · …`).
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if self.read_only() {
            parts.push("Read only".into());
        }
        let count =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        if let Some(c) = &self.collections {
            parts.push(count(c.len(), "collection", "collections"));
        }
        if let Some(d) = &self.databases {
            parts.push(count(d.len(), "database", "databases"));
        }
        if let Some(ips) = &self.allowed_ips {
            let list: Vec<String> = ips.iter().map(ip_text).collect();
            parts.push(format!("IP addresses: {}", list.join(", ")));
        }
        if let Some(r) = self.rate_limit {
            parts.push(format!("{} requests per {} s", r.requests, r.per_seconds));
        }
        parts.join(" · ")
    }
}

#[cfg(test)]
#[path = "restrictions_tests.rs"]
mod tests;
