//! The peers in `wg show INTERFACE dump` (the kernel data plane's statistics).

use std::net::SocketAddr;

use crate::keys::Key;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpPeer {
    pub public_key: Key,
    pub endpoint: Option<SocketAddr>,
    /// Seconds since the epoch of the last handshake; `None` when there was none.
    pub latest_handshake: Option<u64>,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// Parses the tab-separated dump: the first line is the interface, every other a peer
/// (public key, preshared key, endpoint, allowed IPs, latest handshake, rx, tx, keepalive).
/// Lines that do not parse are skipped.
pub fn parse(dump: &str) -> Vec<DumpPeer> {
    dump.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 8 {
                return None;
            }
            let handshake: u64 = f[4].parse().ok()?;
            Some(DumpPeer {
                public_key: Key::parse(f[0]).ok()?,
                endpoint: f[2].parse().ok(),
                latest_handshake: (handshake > 0).then_some(handshake),
                rx_bytes: f[5].parse().ok()?,
                tx_bytes: f[6].parse().ok()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_peers_and_skips_the_interface_line() {
        let dump = "cHJpdmF0ZQ==\thSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\t51820\toff\n\
                    hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\t(none)\t10.99.1.2:40275\t10.13.0.2/32\t1795770000\t2048\t4096\toff\n\
                    3p7ZqZ1d8c3u1zE9wJc1qk2u3J0g1Z4b2x2yq9xQ0mE=\t(none)\t(none)\t10.13.0.3/32\t0\t0\t0\t25\n\
                    garbage\n";
        let peers = parse(dump);
        assert_eq!(peers.len(), 2);
        assert_eq!(peers[0].endpoint, Some("10.99.1.2:40275".parse().unwrap()));
        assert_eq!(peers[0].latest_handshake, Some(1_795_770_000));
        assert_eq!((peers[0].rx_bytes, peers[0].tx_bytes), (2048, 4096));
        assert_eq!(peers[1].endpoint, None);
        assert_eq!(peers[1].latest_handshake, None);
    }
}
