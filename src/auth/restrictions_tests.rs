use super::*;
use proptest::prelude::*;
use serde_json::json;

fn ok(v: Value) -> Restrictions {
    match parse(&v) {
        Ok(Parsed::Some(r)) => r,
        other => panic!("{v} should parse, got {other:?}"),
    }
}

fn err(v: Value) -> String {
    match parse(&v) {
        Err(e) => e,
        other => panic!("{v} should fail, got {other:?}"),
    }
}

#[test]
fn scenario_23_messages() {
    assert_eq!(err(json!([])), NOT_AN_OBJECT);
    assert_eq!(err(json!("read-only")), NOT_AN_OBJECT);
    assert_eq!(err(json!({"access": "write"})), BAD_ACCESS);
    assert_eq!(err(json!({"collections": [0]})), BAD_COLLECTIONS);
    assert_eq!(err(json!({"collections": ["Root"]})), BAD_COLLECTIONS);
    assert_eq!(err(json!({"collections": [1.0]})), BAD_COLLECTIONS);
    assert_eq!(err(json!({"collections": 5})), BAD_COLLECTIONS);
    assert_eq!(err(json!({"databases": ["1"]})), BAD_DATABASES);
    assert_eq!(err(json!({"databases": ["root"]})), BAD_DATABASES);
    assert_eq!(err(json!({"allowed_ips": ["10.0.0.300"]})), BAD_IPS);
    assert_eq!(err(json!({"allowed_ips": ["10.0.0.0/33"]})), BAD_IPS);
    assert_eq!(err(json!({"allowed_ips": [167772160]})), BAD_IPS);
    assert_eq!(
        err(json!({"rate_limit": {"requests": 0, "per_seconds": 1}})),
        BAD_RATE_LIMIT
    );
    assert_eq!(
        err(json!({"rate_limit": {"requests": 1, "per_seconds": 86401}})),
        BAD_RATE_LIMIT
    );
    assert_eq!(
        err(json!({"rate_limit": {"requests": 1000001, "per_seconds": 1}})),
        BAD_RATE_LIMIT
    );
    assert_eq!(
        err(json!({"rate_limit": {"requests": 1, "per_seconds": 1, "burst": 2}})),
        BAD_RATE_LIMIT
    );
    assert_eq!(err(json!({"rate_limit": [5, 60]})), BAD_RATE_LIMIT);
    assert_eq!(
        err(json!({"colour": "red"})),
        "unknown restriction: colour."
    );
    let many: Vec<i64> = (1..=1001).collect();
    assert_eq!(err(json!({ "databases": many })), TOO_MANY);
    let enough: Vec<i64> = (1..=1000).collect();
    assert_eq!(
        ok(json!({ "databases": enough }))
            .databases
            .map(|d| d.len()),
        Some(1000)
    );
}

#[test]
fn null_means_none_and_null_members_restrict_nothing() {
    assert_eq!(parse(&Value::Null), Ok(Parsed::None));
    let r = ok(json!({"access": null, "databases": null}));
    assert_eq!(r, Restrictions::default());
    assert!(!r.restricts());
    assert!(!ok(json!({"access": "read-write"})).restricts());
    assert!(ok(json!({"access": "read-only"})).read_only());
}

#[test]
fn canonical_form_sorts_dedups_and_normalises_addresses() {
    let r = ok(json!({
        "rate_limit": {"per_seconds": 60, "requests": 5},
        "allowed_ips": ["::1", "10.1.2.3/16", "127.0.0.1", "10.1.0.0/16", "::ffff:192.0.2.1",
                        "2001:DB8::/32", "192.0.2.7/32"],
        "databases": [3, 1, 3],
        "collections": [9, "root", 2, 9],
        "access": "read-only"
    }));
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({
            "access": "read-only",
            "collections": ["root", 2, 9],
            "databases": [1, 3],
            "allowed_ips": ["10.1.0.0/16", "127.0.0.1", "192.0.2.1", "192.0.2.7", "::1",
                            "2001:db8::/32"],
            "rate_limit": {"requests": 5, "per_seconds": 60}
        })
    );
    // Stored text reads back to the same value.
    assert_eq!(Restrictions::from_db(&r.to_db()), r);
}

#[test]
fn an_unreadable_stored_value_restricts_everything() {
    let r = Restrictions::from_db("not json");
    assert!(r.read_only());
    assert!(!r.allows_database(1));
    assert!(!r.allows_collection(None, &[]));
    assert!(!r.allows_ip("127.0.0.1".parse().unwrap()));
}

#[test]
fn collections_cover_subtrees_and_root_means_root_items_only() {
    let r = ok(json!({"collections": [10]}));
    assert!(r.allows_collection(Some(10), &[]));
    assert!(r.allows_collection(Some(20), &[10]));
    assert!(r.allows_collection(Some(30), &[10, 20]));
    assert!(!r.allows_collection(Some(11), &[]));
    assert!(!r.allows_collection(None, &[]));
    let root = ok(json!({"collections": ["root"]}));
    assert!(root.allows_collection(None, &[]));
    assert!(!root.allows_collection(Some(10), &[]));
    let none = ok(json!({"collections": []}));
    assert!(!none.allows_collection(None, &[]));
    assert!(Restrictions::default().allows_collection(Some(10), &[]));
}

#[test]
fn addresses_match_blocks_and_mapped_ipv4() {
    let r = ok(json!({"allowed_ips": ["10.1.0.0/16", "::1"]}));
    assert!(r.allows_ip("10.1.2.3".parse().unwrap()));
    assert!(r.allows_ip("::ffff:10.1.2.3".parse().unwrap()));
    assert!(r.allows_ip("::1".parse().unwrap()));
    assert!(!r.allows_ip("10.2.0.1".parse().unwrap()));
    assert!(!r.allows_ip("127.0.0.1".parse().unwrap()));
    let any = Restrictions::default();
    assert!(any.allows_ip("203.0.113.9".parse().unwrap()));
}

proptest! {
    /// Every IPv4 block parses, prints canonically, and that text parses to the same block.
    #[test]
    fn ipv4_blocks_round_trip(a in any::<u32>(), len in 0u8..=32) {
        let text = format!("{}/{len}", std::net::Ipv4Addr::from(a));
        let net = ip_entry(&text).expect("valid block");
        prop_assert_eq!(ip_entry(&ip_text(&net)), Some(net));
        prop_assert!(net.contains(&IpAddr::from(std::net::Ipv4Addr::from(a))));
    }

    #[test]
    fn ipv6_blocks_round_trip(a in any::<u128>(), len in 0u8..=128) {
        let text = format!("{}/{len}", std::net::Ipv6Addr::from(a));
        let net = ip_entry(&text).expect("valid block");
        prop_assert_eq!(ip_entry(&ip_text(&net)), Some(net));
    }

    /// Arbitrary JSON never panics the parser, and what parses prints as a value that parses
    /// back to itself.
    #[test]
    fn parse_is_total_and_canonical(
        ids in proptest::collection::vec(-3i64..50, 0..20),
        ips in proptest::collection::vec("[0-9a-f:./]{0,20}", 0..5),
        access in "[a-z-]{0,12}",
    ) {
        let v = json!({"databases": ids, "allowed_ips": ips, "access": access});
        if let Ok(Parsed::Some(r)) = parse(&v) {
            let echoed = serde_json::to_value(&r).unwrap();
            prop_assert_eq!(parse(&echoed), Ok(Parsed::Some(r)));
        }
    }
}
