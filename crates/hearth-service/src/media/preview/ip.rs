//! Which addresses URL previews may reach. By default nothing private: loopback, private
//! ranges, link-local, CGNAT, multicast, documentation and other special-purpose ranges, in
//! IPv4 and IPv6 (including IPv6 forms that embed an IPv4 address), unless whitelisted.

use std::net::IpAddr;

use ipnet::IpNet;

const DENIED: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "::/96",
    "::ffff:0:0/96",
    "64:ff9b::/96",
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/23",
    "2001:db8::/32",
    "2002::/16",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
];

pub(crate) struct IpPolicy {
    denied: Vec<IpNet>,
    allowed: Vec<IpNet>,
}

impl IpPolicy {
    pub(crate) fn new(extra_denied: &[IpNet], allowed: &[IpNet]) -> IpPolicy {
        let mut denied: Vec<IpNet> =
            DENIED.iter().map(|n| n.parse().expect("valid built-in range")).collect();
        denied.extend_from_slice(extra_denied);
        IpPolicy { denied, allowed: allowed.to_vec() }
    }

    /// Whether a preview may connect to `ip`: whitelisted, or in no denied range.
    pub(crate) fn allows(&self, ip: IpAddr) -> bool {
        self.allowed.iter().any(|n| n.contains(&ip)) || !self.denied.iter().any(|n| n.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_denied_unless_allowed() {
        let policy = IpPolicy::new(&[], &[]);
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "ff02::1",
            "2002:7f00:1::",
        ] {
            assert!(!policy.allows(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(policy.allows(ip.parse().unwrap()), "{ip}");
        }
        let policy =
            IpPolicy::new(&["8.8.8.0/24".parse().unwrap()], &["127.0.0.1/32".parse().unwrap()]);
        assert!(policy.allows("127.0.0.1".parse().unwrap()));
        assert!(!policy.allows("127.0.0.2".parse().unwrap()));
        assert!(!policy.allows("8.8.8.8".parse().unwrap()));
    }
}
