//! Classification of IP addresses a plugin may not reach by default: private, loopback,
//! link-local, shared (CGNAT), unspecified, broadcast, multicast, unique-local, reserved,
//! documentation and benchmarking ranges. IPv6 forms that embed an IPv4 address
//! (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are classified by the embedded address, so
//! `::ffff:127.0.0.1` is as loopback as `127.0.0.1`.
//!
//! Pure functions; the policy ([`super::EgressPolicy::resolve`]) decides what to do with the
//! class.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressClass {
    /// 10/8, 172.16/12, 192.168/16, the deprecated IPv6 site-local fec0::/10 and the
    /// local-use NAT64 prefix 64:ff9b:1::/48.
    Private,
    /// 127/8 and ::1.
    Loopback,
    /// 169.254/16 and fe80::/10.
    LinkLocal,
    /// 100.64/10, the shared address space of carrier-grade NAT.
    SharedCgnat,
    /// 0.0.0.0/8 ("this network") and ::.
    Unspecified,
    /// 255.255.255.255.
    Broadcast,
    /// 224/4 and ff00::/8.
    Multicast,
    /// fc00::/7.
    UniqueLocal,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24 and 2001:db8::/32.
    Documentation,
    /// 198.18/15 and 2001:2::/48.
    Benchmarking,
    /// 192.0.0/24 (IETF protocol assignments), 240/4 and the IPv6 discard prefix 100::/64.
    Reserved,
}

impl AddressClass {
    /// The class as a noun phrase without article, e.g. `loopback`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Loopback => "loopback",
            Self::LinkLocal => "link-local",
            Self::SharedCgnat => "shared (carrier-grade NAT)",
            Self::Unspecified => "unspecified",
            Self::Broadcast => "broadcast",
            Self::Multicast => "multicast",
            Self::UniqueLocal => "unique-local",
            Self::Documentation => "documentation",
            Self::Benchmarking => "benchmarking",
            Self::Reserved => "reserved",
        }
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class that refuses `ip` by default, or `None` for an address plugins may reach.
pub fn classify(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// The IPv4 address embedded in an IPv6 form that reaches it (IPv4-mapped, IPv4-compatible,
/// NAT64, 6to4), with the form's name.
pub fn embedded_v4(v6: Ipv6Addr) -> Option<(Ipv4Addr, &'static str)> {
    let s = v6.segments();
    let o = v6.octets();
    let low = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if s[..5] == [0; 5] && s[5] == 0xffff {
        return Some((low, "IPv4-mapped"));
    }
    if s[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified() {
        return Some((low, "IPv4-compatible"));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some((low, "NAT64"));
    }
    if s[0] == 0x2002 {
        return Some((Ipv4Addr::new(o[2], o[3], o[4], o[5]), "6to4"));
    }
    None
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    let [a, b, c, _] = ip.octets();
    let class = match (a, b, c) {
        (0, _, _) => AddressClass::Unspecified,
        (10, _, _) => AddressClass::Private,
        (100, 64..=127, _) => AddressClass::SharedCgnat,
        (127, _, _) => AddressClass::Loopback,
        (169, 254, _) => AddressClass::LinkLocal,
        (172, 16..=31, _) => AddressClass::Private,
        (192, 0, 0) => AddressClass::Reserved,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => AddressClass::Documentation,
        (192, 168, _) => AddressClass::Private,
        (198, 18..=19, _) => AddressClass::Benchmarking,
        (224..=239, _, _) => AddressClass::Multicast,
        _ if ip.is_broadcast() => AddressClass::Broadcast,
        (240..=255, _, _) => AddressClass::Reserved,
        _ => return None,
    };
    Some(class)
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    if ip.is_unspecified() {
        return Some(AddressClass::Unspecified);
    }
    if ip.is_loopback() {
        return Some(AddressClass::Loopback);
    }
    if let Some((v4, _)) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let s = ip.segments();
    let class = match s[0] {
        0xfe80..=0xfebf => AddressClass::LinkLocal,
        0xfec0..=0xfeff => AddressClass::Private,
        0xfc00..=0xfdff => AddressClass::UniqueLocal,
        0xff00..=0xffff => AddressClass::Multicast,
        0x2001 if s[1] == 0x0db8 => AddressClass::Documentation,
        0x2001 if s[1] == 0x0002 && s[2] == 0 => AddressClass::Benchmarking,
        0x0064 if s[1] == 0xff9b && s[2] == 0x0001 => AddressClass::Private,
        0x0100 if s[1..4] == [0, 0, 0] => AddressClass::Reserved,
        _ => return None,
    };
    Some(class)
}

/// Whether `ip` lies in the network `net`/`prefix` (families must agree; a prefix longer
/// than the address never matches).
pub fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            prefix <= 32
                && masked(u32::from(ip).into(), prefix, 32)
                    == masked(u32::from(net).into(), prefix, 32)
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            prefix <= 128
                && masked(u128::from(ip), prefix, 128) == masked(u128::from(net), prefix, 128)
        }
        _ => false,
    }
}

fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let shift = u32::from(width - prefix);
    (bits >> shift) << shift
}
