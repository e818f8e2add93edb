//! `veilig vpn exposure HOST`: what an attacker on the internet sees of the organisation's
//! address. With the VPN in place only the portal should answer; everything else belongs
//! behind the tunnel.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::cli::ExposureArgs;
use crate::progress::Progress;

/// Well-known services and what they are, for the report.
const KNOWN: &[(u16, &str)] = &[
    (21, "FTP"),
    (22, "SSH"),
    (23, "Telnet"),
    (25, "SMTP"),
    (53, "DNS"),
    (80, "HTTP"),
    (110, "POP3"),
    (135, "Windows RPC"),
    (139, "NetBIOS"),
    (143, "IMAP"),
    (389, "LDAP"),
    (443, "HTTPS"),
    (445, "SMB (Windows file sharing)"),
    (465, "SMTPS"),
    (587, "SMTP submission"),
    (636, "LDAPS"),
    (993, "IMAPS"),
    (995, "POP3S"),
    (1433, "Microsoft SQL Server"),
    (1521, "Oracle"),
    (2049, "NFS"),
    (2375, "Docker API"),
    (3306, "MySQL/MariaDB"),
    (3389, "Remote Desktop (RDP)"),
    (5432, "PostgreSQL"),
    (5900, "VNC"),
    (5985, "WinRM"),
    (5986, "WinRM over TLS"),
    (6379, "Redis"),
    (8080, "HTTP (alternative)"),
    (8443, "HTTPS (alternative)"),
    (9200, "Elasticsearch"),
    (11211, "memcached"),
    (27017, "MongoDB"),
];

fn name_of(port: u16) -> &'static str {
    KNOWN.iter().find(|(p, _)| *p == port).map(|(_, n)| *n).unwrap_or("")
}

/// Every port of 1-1024 and the common higher ones.
fn default_ports() -> Vec<u16> {
    let mut ports: Vec<u16> = (1..=1024).collect();
    ports.extend([
        1080, 1194, 1433, 1521, 1723, 2049, 2082, 2083, 2222, 2375, 2376, 3000, 3128, 3306, 3389, 4443, 4444, 5000, 5060, 5432, 5601, 5671,
        5672, 5900, 5901, 5985, 5986, 6379, 6443, 7001, 8000, 8008, 8080, 8081, 8088, 8443, 8888, 9000, 9090, 9200, 9443, 10000, 10443,
        11211, 27017,
    ]);
    ports
}

/// Parses `22,80,8000-8100`.
pub fn parse_ports(s: &str) -> Result<Vec<u16>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("'{part}' is not a port or a range such as 8000-8100 (1 to 65535)");
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u16>().map_err(|_| bad())?, b.trim().parse::<u16>().map_err(|_| bad())?),
            None => {
                let p = part.parse::<u16>().map_err(|_| bad())?;
                (p, p)
            }
        };
        if a == 0 || a > b {
            return Err(bad());
        }
        out.extend(a..=b);
    }
    out.sort_unstable();
    out.dedup();
    if out.is_empty() {
        return Err("name at least one port".to_owned());
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Udp {
    /// An ICMP port-unreachable came back: nothing listens.
    Refused,
    /// No answer: something listens quietly (as WireGuard does) or a firewall drops it.
    OpenOrFiltered,
}

async fn probe_udp(addr: SocketAddr, wait: Duration) -> Udp {
    let bind: SocketAddr = if addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().unwrap_or(addr);
    let Ok(sock) = tokio::net::UdpSocket::bind(bind).await else { return Udp::OpenOrFiltered };
    if sock.connect(addr).await.is_err() {
        return Udp::OpenOrFiltered;
    }
    // A packet WireGuard ignores: too short to be any of its messages.
    let mut buf = [0u8; 16];
    for _ in 0..2 {
        if let Err(e) = sock.send(b"veilig-exposure").await
            && e.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return Udp::Refused;
        }
        match tokio::time::timeout(wait, sock.recv(&mut buf)).await {
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Udp::Refused,
            _ => {}
        }
    }
    Udp::OpenOrFiltered
}

pub async fn run(args: &ExposureArgs) -> ExitCode {
    let ports = match args.ports.as_deref().map(parse_ports).transpose() {
        Ok(p) => p.unwrap_or_else(default_ports),
        Err(e) => {
            eprintln!("veilig: --ports: {e}");
            return ExitCode::from(2);
        }
    };
    let ip: IpAddr = match (args.host.as_str(), 0).to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(a)) => a.ip(),
        _ => {
            eprintln!("veilig: cannot resolve {}", args.host);
            return ExitCode::from(2);
        }
    };
    let wait = Duration::from_millis(args.timeout_ms.clamp(50, 30_000));
    let gate = Arc::new(Semaphore::new(256));
    let mut tasks = tokio::task::JoinSet::new();
    for port in ports.iter().copied() {
        let gate = gate.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let open = matches!(tokio::time::timeout(wait, tokio::net::TcpStream::connect(SocketAddr::new(ip, port))).await, Ok(Ok(_)));
            (port, open)
        });
    }
    let mut progress = Progress::new("scanning", ports.len() as u64);
    let mut open = Vec::new();
    let mut done = 0u64;
    while let Some(r) = tasks.join_next().await {
        done += 1;
        progress.set(done);
        if let Ok((port, true)) = r {
            open.push(port);
        }
    }
    progress.finish();
    open.sort_unstable();
    let udp = probe_udp(SocketAddr::new(ip, args.wg_port), wait).await;
    let exposed: Vec<u16> = open.iter().copied().filter(|p| *p != args.portal_port).collect();
    let portal_open = open.contains(&args.portal_port);
    if args.json {
        let v = serde_json::json!({
            "host": args.host, "address": ip.to_string(), "ports_tried": ports.len(), "open_tcp": open,
            "portal_port": args.portal_port, "portal_answers": portal_open, "unexpected_tcp": exposed,
            "wireguard_udp": {"port": args.wg_port, "state": if udp == Udp::Refused { "refused" } else { "open_or_filtered" }}, "only_portal_and_vpn": exposed.is_empty(),
        });
        println!("{v}");
    } else {
        println!("{} ({ip}): {} TCP ports tried, {} answer", args.host, ports.len(), open.len());
        for p in &open {
            let role = if *p == args.portal_port { "the portal (expected)" } else { "UNEXPECTED: put it behind the VPN or close it" };
            let name = name_of(*p);
            println!("  {p}/tcp {name:<28} {role}");
        }
        match udp {
            Udp::OpenOrFiltered => println!(
                "  {}/udp WireGuard: no refusal (listening quietly or filtered; WireGuard answers only to its peers)",
                args.wg_port
            ),
            Udp::Refused => println!("  {}/udp WireGuard: refused, nothing listens there", args.wg_port),
        }
        if !portal_open {
            println!("note: the portal port {} does not answer", args.portal_port);
        }
        if exposed.is_empty() {
            println!("OK: only the portal and the VPN are reachable from here");
        } else {
            println!("EXPOSED: {} port(s) besides the portal answer from here", exposed.len());
        }
    }
    if exposed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_lists_and_ranges() {
        assert_eq!(parse_ports("443, 22,8000-8002,22").unwrap(), vec![22, 443, 8000, 8001, 8002]);
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("90-80").is_err());
        assert!(parse_ports("ssh").is_err());
        assert!(parse_ports("").is_err());
        assert_eq!(default_ports().len(), 1024 + 45);
    }
}
