#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use nd_manifest::HostPattern;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn patterns(list: &[&str]) -> Vec<HostPattern> {
    list.iter().map(|p| p.parse().unwrap()).collect()
}

/// Maps names to fixed addresses; everything else is unknown.
#[derive(Debug, Default)]
struct MapResolver(HashMap<String, Vec<IpAddr>>);

impl MapResolver {
    fn with(entries: &[(&str, &[&str])]) -> Arc<Self> {
        Arc::new(Self(
            entries
                .iter()
                .map(|(h, a)| (h.to_string(), a.iter().map(|s| ip(s)).collect()))
                .collect(),
        ))
    }
}

impl Resolve for MapResolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        self.0
            .get(host)
            .map(|ips| ips.iter().map(|&i| SocketAddr::new(i, port)).collect())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such host"))
    }
}

#[test]
fn classifies_every_refused_ipv4_range() {
    use AddressClass::*;
    let cases = [
        ("0.0.0.0", Unspecified),
        ("0.1.2.3", Unspecified),
        ("10.0.0.1", Private),
        ("10.255.255.255", Private),
        ("172.16.0.1", Private),
        ("172.31.255.255", Private),
        ("192.168.1.1", Private),
        ("100.64.0.1", SharedCgnat),
        ("100.127.255.255", SharedCgnat),
        ("127.0.0.1", Loopback),
        ("127.255.0.9", Loopback),
        ("169.254.169.254", LinkLocal),
        ("192.0.0.8", Reserved),
        ("192.0.2.1", Documentation),
        ("198.51.100.7", Documentation),
        ("203.0.113.9", Documentation),
        ("198.18.0.1", Benchmarking),
        ("198.19.255.1", Benchmarking),
        ("224.0.0.1", Multicast),
        ("239.255.255.250", Multicast),
        ("240.0.0.1", Reserved),
        ("255.255.255.255", Broadcast),
    ];
    for (addr, class) in cases {
        assert_eq!(classify(ip(addr)), Some(class), "{addr}");
    }
}

#[test]
fn public_ipv4_addresses_pass() {
    for addr in [
        "1.1.1.1",
        "8.8.8.8",
        "9.255.255.255",
        "11.0.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "169.253.0.1",
        "192.167.1.1",
        "192.169.0.1",
        "198.17.0.1",
        "198.20.0.1",
        "223.255.255.255",
    ] {
        assert_eq!(classify(ip(addr)), None, "{addr}");
    }
}

#[test]
fn classifies_ipv6_ranges_and_embedded_ipv4() {
    use AddressClass::*;
    let cases = [
        ("::", Unspecified),
        ("::1", Loopback),
        ("fe80::1", LinkLocal),
        ("febf::1", LinkLocal),
        ("fec0::1", Private),
        ("fc00::1", UniqueLocal),
        ("fd12:3456::1", UniqueLocal),
        ("ff02::1", Multicast),
        ("ff0e::1", Multicast),
        ("2001:db8::1", Documentation),
        ("2001:2::1", Benchmarking),
        ("100::1", Reserved),
        ("64:ff9b:1::1", Private),
        // IPv4-mapped.
        ("::ffff:127.0.0.1", Loopback),
        ("::ffff:10.1.2.3", Private),
        ("::ffff:169.254.169.254", LinkLocal),
        ("::ffff:0.0.0.0", Unspecified),
        // IPv4-compatible.
        ("::127.0.0.1", Loopback),
        ("::192.168.0.1", Private),
        ("::0.0.0.2", Unspecified),
        // NAT64.
        ("64:ff9b::127.0.0.1", Loopback),
        ("64:ff9b::a00:1", Private),
        // 6to4: 2002:AABB:CCDD:: embeds AA.BB.CC.DD.
        ("2002:7f00:1::", Loopback),
        ("2002:c0a8:101::1", Private),
        ("2002:6440:1::", SharedCgnat),
    ];
    for (addr, class) in cases {
        assert_eq!(classify(ip(addr)), Some(class), "{addr}");
    }
}

#[test]
fn public_ipv6_addresses_pass_including_embedded_public_ipv4() {
    for addr in [
        "2606:4700:4700::1111",
        "2a00:1450:4001::1",
        "::ffff:8.8.8.8",
        "64:ff9b::8.8.8.8",
        "2002:808:808::1",
        "2001:db9::1",
    ] {
        assert_eq!(classify(ip(addr)), None, "{addr}");
    }
}

#[test]
fn allowance_parses_nets_ips_and_hosts() {
    let a =
        LocalAllowance::parse("127.0.0.1/32, ::1, localhost, [fd00::1], 10.0.0.0/8,, Music.LAN ")
            .unwrap();
    assert_eq!(
        a.nets,
        vec![
            (ip("127.0.0.1"), 32),
            (ip("::1"), 128),
            (ip("fd00::1"), 128),
            (ip("10.0.0.0"), 8)
        ]
    );
    assert_eq!(
        a.hosts,
        vec!["localhost".to_owned(), "music.lan".to_owned()]
    );
    assert!(LocalAllowance::parse("").unwrap().is_empty());
    assert!(LocalAllowance::parse(" , ").unwrap().is_empty());
}

#[test]
fn allowance_rejects_bad_entries_naming_them() {
    for (text, bad) in [
        ("127.0.0.1/33", "127.0.0.1/33"),
        ("::1/129", "::1/129"),
        ("localhost, 10.0.0.0/x", "10.0.0.0/x"),
        ("nothost/8", "nothost/8"),
        ("localhost:8080", "localhost:8080"),
        ("http://localhost", "http://localhost"),
        ("*.lan", "*.lan"),
    ] {
        let err = LocalAllowance::parse(text).unwrap_err();
        assert_eq!(err.entry, bad, "{text}");
        assert!(err.to_string().contains(bad), "{err}");
    }
}

#[test]
fn allowance_matches_networks_and_embedded_forms() {
    let a = LocalAllowance::parse("127.0.0.0/8, fd00::/8, 10.1.0.0/16").unwrap();
    assert!(a.allows_addr(ip("127.1.2.3")));
    assert!(a.allows_addr(ip("::ffff:127.0.0.1")));
    assert!(a.allows_addr(ip("fd12::1")));
    assert!(a.allows_addr(ip("10.1.255.1")));
    assert!(!a.allows_addr(ip("10.2.0.1")));
    assert!(!a.allows_addr(ip("::1")));
    assert!(!a.allows_addr(ip("fe80::1")));
    let all = LocalAllowance::parse("0.0.0.0/0").unwrap();
    assert!(all.allows_addr(ip("192.168.0.1")));
    assert!(!all.allows_addr(ip("::1")));
}

#[test]
fn scheme_rules_per_kind() {
    let http = EgressPolicy::http(vec![], LocalAllowance::default());
    assert!(http.check_url("https://example.com/").is_ok());
    assert!(http.check_url("HTTP://example.com/").is_ok());
    for bad in [
        "ftp://example.com/",
        "ws://example.com/",
        "file:///etc/passwd",
    ] {
        let err = http.check_url(bad).unwrap_err();
        assert!(
            matches!(err, Refusal::Scheme { .. } | Refusal::NoHost { .. }),
            "{bad}: {err}"
        );
    }
    let msg = http
        .check_url("ftp://example.com/")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("http_send allows only http and https"),
        "{msg}"
    );

    let ws = EgressPolicy::websocket(patterns(&["*"]), LocalAllowance::default());
    assert!(ws.check_url("wss://example.com/socket").is_ok());
    let msg = ws
        .check_url("https://example.com/")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("websocket allows only ws and wss"), "{msg}");

    assert!(matches!(
        http.check_url("not a url").unwrap_err(),
        Refusal::InvalidUrl { .. }
    ));
}

#[test]
fn target_has_lower_case_host_and_default_ports() {
    let http = EgressPolicy::http(vec![], LocalAllowance::default());
    let t = http.check_url("https://API.Example.com/x?y").unwrap();
    assert_eq!(
        (t.scheme.as_str(), t.host.as_str(), t.port),
        ("https", "api.example.com", 443)
    );
    assert_eq!(t.url, "https://API.Example.com/x?y");
    let t = http.check_url("http://example.com:8080").unwrap();
    assert_eq!(t.port, 8080);
    let t = http.check_url("http://[2606:4700::1]/").unwrap();
    assert_eq!((t.host.as_str(), t.port), ("2606:4700::1", 80));
    let ws = EgressPolicy::websocket(patterns(&["*"]), LocalAllowance::default());
    assert_eq!(ws.check_url("ws://example.com").unwrap().port, 80);
    assert_eq!(ws.check_url("wss://example.com").unwrap().port, 443);
}

#[test]
fn required_hosts_matching() {
    let list = patterns(&["api.example.com", "*.music.org", "localhost:*"]);
    for policy in [
        EgressPolicy::http(list.clone(), LocalAllowance::default()),
        EgressPolicy::extism_http(list.clone(), LocalAllowance::default()),
    ] {
        assert!(policy.check_url("https://api.example.com/a").is_ok());
        assert!(policy.check_url("https://API.EXAMPLE.COM:8443/a").is_ok());
        assert!(policy.check_url("https://a.b.music.org/").is_ok());
        for bad in [
            "https://music.org/",
            "https://badmusic.org/",
            "https://example.com/",
            "https://api.example.com.evil.net/",
            "http://localhost:4533/",
        ] {
            assert!(
                matches!(policy.check_url(bad), Err(Refusal::HostNotAllowed { .. })),
                "{bad}"
            );
        }
    }
    let ws = EgressPolicy::websocket(list, LocalAllowance::default());
    assert!(ws.check_url("wss://x.music.org/").is_ok());
    let msg = ws.check_url("wss://music.org/").unwrap_err().to_string();
    assert!(msg.contains("matches none of the requiredHosts"), "{msg}");
}

#[test]
fn empty_required_hosts_per_kind() {
    let none = LocalAllowance::default();
    assert!(
        EgressPolicy::http(vec![], none.clone())
            .check_url("https://anything.example/")
            .is_ok()
    );

    let err = EgressPolicy::extism_http(vec![], none.clone())
        .check_url("https://anything.example/x")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "HTTP request to 'https://anything.example/x' is not allowed"
    );

    let err = EgressPolicy::websocket(vec![], none)
        .check_url("wss://anything.example/")
        .unwrap_err();
    assert!(matches!(
        err,
        Refusal::HostNotAllowed {
            empty_list: true,
            ..
        }
    ));
    assert!(err.to_string().contains("lists no requiredHosts"), "{err}");
}

#[test]
fn extism_refusal_keeps_extism_wording() {
    let p = EgressPolicy::extism_http(patterns(&["api.example.com"]), LocalAllowance::default());
    let err = p
        .check_url("https://other.example.com/path?q=1")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "HTTP request to 'https://other.example.com/path?q=1' is not allowed"
    );
}

#[test]
fn ip_literals_are_refused_before_dns() {
    let p = EgressPolicy::http(vec![], LocalAllowance::default());
    for url in [
        "http://127.0.0.1/",
        "http://[::1]:8080/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://0.0.0.0/",
        // The url crate reads these IPv4 spellings as 127.0.0.1.
        "http://2130706433/",
        "http://0x7f.1/",
    ] {
        let err = p.check_url(url).unwrap_err();
        assert!(
            matches!(err, Refusal::Address { literal: true, .. }),
            "{url}: {err}"
        );
    }
    let msg = p.check_url("http://127.0.0.1:9/").unwrap_err().to_string();
    assert_eq!(
        msg,
        "host \"127.0.0.1\" is a loopback address, which plugins may not reach (allow it with the operator's local allowance)"
    );
    let msg = p
        .check_url("http://[::ffff:127.0.0.1]/")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("IPv4-mapped 127.0.0.1"), "{msg}");
    assert!(msg.contains("loopback"), "{msg}");
}

#[test]
fn requires_hosts_do_not_lift_the_address_rules() {
    let p = EgressPolicy::http(patterns(&["127.0.0.1", "*"]), LocalAllowance::default());
    assert!(matches!(
        p.check_url("http://127.0.0.1/"),
        Err(Refusal::Address { .. })
    ));
}

#[test]
fn resolve_refuses_a_public_name_pointing_at_loopback() {
    let resolver = MapResolver::with(&[("evil.example", &["127.0.0.1"])]);
    let p = EgressPolicy::http(vec![], LocalAllowance::default()).with_resolver(resolver);
    let t = p.check_url("http://evil.example:8080/").unwrap();
    let err = p.resolve(&t).unwrap_err();
    assert_eq!(
        err.to_string(),
        "host \"evil.example\" resolves to 127.0.0.1, a loopback address, which plugins may not reach (allow it with the operator's local allowance)"
    );
}

#[test]
fn resolve_keeps_public_addresses_and_drops_refused_ones() {
    let resolver = MapResolver::with(&[(
        "mixed.example",
        &[
            "10.0.0.1",
            "93.184.216.34",
            "::1",
            "2606:2800:220:1::1",
            "93.184.216.34",
        ],
    )]);
    let p = EgressPolicy::http(vec![], LocalAllowance::default()).with_resolver(resolver);
    let t = p.check_url("https://mixed.example/").unwrap();
    let addrs = p.resolve(&t).unwrap();
    assert_eq!(
        addrs,
        vec![
            SocketAddr::new(ip("93.184.216.34"), 443),
            SocketAddr::new(ip("2606:2800:220:1::1"), 443)
        ]
    );
}

#[test]
fn resolve_names_every_refused_address() {
    let resolver =
        MapResolver::with(&[("both.example", &["127.0.0.1", "::ffff:10.0.0.1", "fe80::1"])]);
    let p = EgressPolicy::http(vec![], LocalAllowance::default()).with_resolver(resolver);
    let t = p.check_url("http://both.example/").unwrap();
    let msg = p.resolve(&t).unwrap_err().to_string();
    for part in [
        "127.0.0.1 (loopback)",
        "IPv4-mapped 10.0.0.1",
        "(private)",
        "fe80::1 (link-local)",
    ] {
        assert!(msg.contains(part), "{part} missing in {msg}");
    }
}

#[test]
fn local_allowance_lifts_the_address_rules() {
    let resolver = MapResolver::with(&[
        ("svc.lan", &["192.168.1.10"]),
        ("localhost", &["127.0.0.1", "::1"]),
        ("other.lan", &["192.168.1.11"]),
    ]);
    let by_net = EgressPolicy::http(vec![], LocalAllowance::parse("127.0.0.1/32").unwrap())
        .with_resolver(resolver.clone());
    // The allowed address is kept, the other refused one dropped.
    let t = by_net.check_url("http://localhost:1234/").unwrap();
    assert_eq!(
        by_net.resolve(&t).unwrap(),
        vec![SocketAddr::new(ip("127.0.0.1"), 1234)]
    );
    let t = by_net.check_url("http://127.0.0.1:1234/").unwrap();
    assert_eq!(by_net.resolve(&t).unwrap().len(), 1);
    assert!(by_net.check_url("http://[::1]/").is_err());

    let by_host = EgressPolicy::http(vec![], LocalAllowance::parse("svc.lan").unwrap())
        .with_resolver(resolver);
    let t = by_host.check_url("http://SVC.lan/").unwrap();
    assert_eq!(
        by_host.resolve(&t).unwrap(),
        vec![SocketAddr::new(ip("192.168.1.10"), 80)]
    );
    let t = by_host.check_url("http://other.lan/").unwrap();
    assert!(matches!(by_host.resolve(&t), Err(Refusal::Address { .. })));
}

#[test]
fn unresolvable_host_is_reported() {
    let p =
        EgressPolicy::http(vec![], LocalAllowance::default()).with_resolver(MapResolver::with(&[]));
    let t = p.check_url("http://nowhere.example/").unwrap();
    let err = p.resolve(&t).unwrap_err();
    assert!(matches!(err, Refusal::Unresolvable { .. }));
    assert!(err.to_string().contains("nowhere.example"), "{err}");
}

#[test]
fn connect_refuses_before_any_socket() {
    let resolver = MapResolver::with(&[("evil.example", &["127.0.0.1"])]);
    let p = EgressPolicy::websocket(patterns(&["evil.example"]), LocalAllowance::default())
        .with_resolver(resolver);
    let t = p.check_url("ws://evil.example:1/").unwrap();
    assert!(matches!(
        p.connect(&t, std::time::Duration::from_millis(100)),
        Err(ConnectError::Refused(Refusal::Address { .. }))
    ));
}
