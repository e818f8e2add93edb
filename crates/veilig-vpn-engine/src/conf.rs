//! The client configuration in the format of `wg-quick` and the official WireGuard apps
//! (Windows, macOS, iOS, Android), which all import the same `.conf` text and its QR code.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

/// Everything a client configuration says.
pub struct ClientConf<'a> {
    /// The device's private key in base64, when Veilig generated it; otherwise the employee
    /// fills it in.
    pub private_key: Option<&'a str>,
    pub address: Ipv4Addr,
    pub dns: &'a [IpAddr],
    pub gateway_public_key: &'a str,
    /// `host:port` as the client reaches the gateway.
    pub endpoint: &'a str,
    /// The networks the client sends through the tunnel: the internal networks.
    pub allowed_ips: &'a [IpNet],
    /// A comment line naming the device, written without line breaks.
    pub comment: &'a str,
}

impl ClientConf<'_> {
    pub fn render(&self) -> String {
        let mut s = String::new();
        let comment: String = self.comment.chars().filter(|c| !c.is_control()).collect();
        let _ = writeln!(s, "# {comment}");
        s.push_str("[Interface]\n");
        match self.private_key {
            Some(k) => {
                let _ = writeln!(s, "PrivateKey = {k}");
            }
            None => s.push_str("# PrivateKey = (the private key that belongs to the public key you gave)\n"),
        }
        let _ = writeln!(s, "Address = {}/32", self.address);
        if !self.dns.is_empty() {
            let _ = writeln!(s, "DNS = {}", join(self.dns.iter()));
        }
        s.push_str("\n[Peer]\n");
        let _ = writeln!(s, "PublicKey = {}", self.gateway_public_key);
        let mut allowed: Vec<IpNet> = self.allowed_ips.to_vec();
        for d in self.dns {
            if !allowed.iter().any(|n| n.contains(d)) {
                allowed.push(IpNet::from(*d));
            }
        }
        let _ = writeln!(s, "AllowedIPs = {}", join(allowed.iter()));
        let _ = writeln!(s, "Endpoint = {}", self.endpoint);
        s.push_str("PersistentKeepalive = 25\n");
        s
    }
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

/// A file name for the configuration: the WireGuard apps use it as the tunnel name, which may
/// hold at most 15 characters of `[a-zA-Z0-9_=+.-]`.
pub fn file_name(device: &str) -> String {
    let mut name: String =
        device.chars().map(|c| if c.is_ascii_alphanumeric() || "_=+.-".contains(c) { c } else { '-' }).take(15).collect();
    if name.trim_matches('-').is_empty() {
        name = "veilig".into();
    }
    format!("{name}.conf")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_wg_quick_configuration() {
        let dns = ["10.20.0.53".parse().unwrap(), "192.168.5.1".parse().unwrap()];
        let nets = ["10.20.0.0/16".parse().unwrap()];
        let conf = ClientConf {
            private_key: Some("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="),
            address: Ipv4Addr::new(10, 13, 0, 2),
            dns: &dns,
            gateway_public_key: "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
            endpoint: "vpn.example.nl:51820",
            allowed_ips: &nets,
            comment: "Veilig: laptop\nof anna@example.nl",
        };
        expect_test::expect![[r#"
            # Veilig: laptopof anna@example.nl
            [Interface]
            PrivateKey = dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=
            Address = 10.13.0.2/32
            DNS = 10.20.0.53, 192.168.5.1

            [Peer]
            PublicKey = hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=
            AllowedIPs = 10.20.0.0/16, 192.168.5.1/32
            Endpoint = vpn.example.nl:51820
            PersistentKeepalive = 25
        "#]]
        .assert_eq(&conf.render());
    }

    #[test]
    fn file_names_suit_the_apps() {
        assert_eq!(file_name("Laptop van Anna (werk)"), "Laptop-van-Anna.conf");
        assert_eq!(file_name("???"), "veilig.conf");
    }
}
