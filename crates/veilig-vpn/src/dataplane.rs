//! The gateway's data plane: WireGuard on a TUN device in user space (gotatun), with the
//! access-rule filter of `veilig-vpn-engine` between the tunnel and the internal network.
//!
//! The kernel's WireGuard serves the same interface ([`Kernel`]): driven with iproute2 and
//! `wg`, with the access rules in an nftables table.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gotatun::device::{Device, DeviceBuilder, Peer};
use gotatun::packet::{Ip, Packet, PacketBufPool};
use gotatun::tun::tun_async_device::TunDevice;
use gotatun::tun::{IpRecv, IpSend, MtuWatcher};
use gotatun::udp::socket::{UdpSocket, UdpSocketFactory};
use gotatun::udp::{UdpRecv, UdpTransportFactory, UdpTransportFactoryParams};
use gotatun::x25519::{PublicKey, StaticSecret};
use tokio::sync::mpsc;
use veilig_core::config::{DataPlaneKind, VpnConfig};
use veilig_vpn_engine::filter::Denied;
use veilig_vpn_engine::{Filter, Key, KeyPair, Pool, Rule, Verdict};
use zerocopy::IntoBytes;

/// MTU of the tunnel interface: 1500 minus the WireGuard, UDP and IPv6 overhead, as wg-quick.
pub const MTU: u16 = 1420;

#[derive(Debug, thiserror::Error)]
pub enum DataPlaneError {
    #[error("cannot create the tunnel interface {name}: {why} (Veilig needs root or CAP_NET_ADMIN and /dev/net/tun for the VPN)")]
    Tun { name: String, why: String },
    #[error("cannot start WireGuard on UDP port {port}: {why}")]
    Start { port: u16, why: String },
    #[error("cannot turn on IP forwarding: {0}")]
    Forwarding(String),
    #[error("vpn.data_plane = \"kernel\" is not available: {0}; use \"userspace\" or \"auto\"")]
    Kernel(String),
    #[error("the data plane refused a change: {0}")]
    Config(String),
}

/// Whether this kernel has WireGuard.
pub fn kernel_available() -> bool {
    std::path::Path::new("/sys/module/wireguard").exists()
}

/// What the data plane knows about a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStat {
    pub public_key: Key,
    /// Time since the last completed handshake.
    pub since_handshake: Option<Duration>,
    pub endpoint: Option<SocketAddr>,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

type Transports = (WatchedUdp, FilteredTun, FilteredTun);

/// A handshake initiation that arrived, and from where: the gateway reads who sent it.
pub type Knock = (Vec<u8>, SocketAddr);

/// The default UDP socket, with a copy of every handshake initiation sent to the gateway task
/// (at most 64 waiting; more are not copied). WireGuard itself refuses initiations from keys
/// it does not hold; the gateway wants to know which device knocked, and from where.
struct WatchedUdp {
    inner: UdpSocketFactory,
    knocks: mpsc::Sender<Knock>,
}

struct WatchedRecv {
    inner: UdpSocket,
    knocks: mpsc::Sender<Knock>,
}

impl UdpTransportFactory for WatchedUdp {
    type Send = UdpSocket;
    type Recv = WatchedRecv;

    async fn bind(&mut self, params: &UdpTransportFactoryParams) -> io::Result<(Self::Send, Self::Recv)> {
        let (send, recv) = self.inner.bind(params).await?;
        Ok((send, WatchedRecv { inner: recv, knocks: self.knocks.clone() }))
    }
}

impl WatchedRecv {
    fn watch(&self, packet: &[u8], from: SocketAddr) {
        if veilig_vpn_engine::handshake::is_initiation(packet) {
            let _ = self.knocks.try_send((packet.to_vec(), from));
        }
    }
}

impl UdpRecv for WatchedRecv {
    type RecvManyBuf = <UdpSocket as UdpRecv>::RecvManyBuf;

    async fn recv_from(&mut self, pool: &mut PacketBufPool) -> io::Result<(Packet, SocketAddr)> {
        let (packet, from) = self.inner.recv_from(pool).await?;
        self.watch(&packet, from);
        Ok((packet, from))
    }

    async fn recv_many_from(
        &mut self,
        recv_buf: &mut Self::RecvManyBuf,
        pool: &mut PacketBufPool,
        packets: &mut Vec<(Packet, SocketAddr)>,
    ) -> io::Result<()> {
        let before = packets.len();
        self.inner.recv_many_from(recv_buf, pool, packets).await?;
        for (p, from) in &packets[before..] {
            self.watch(p, *from);
        }
        Ok(())
    }

    fn enable_udp_gro(&self) -> io::Result<()> {
        self.inner.enable_udp_gro()
    }
}

/// The user-space data plane: gotatun on a TUN device.
pub struct Userspace {
    device: Device<Transports>,
    knocks: Option<mpsc::Receiver<Knock>>,
    filter: Arc<Mutex<Filter>>,
    now_ms: Arc<AtomicU64>,
    interface: String,
    port: u16,
}

/// The TUN device with the filter in both directions.
#[derive(Clone)]
struct FilteredTun {
    tun: TunDevice,
    filter: Arc<Mutex<Filter>>,
    now_ms: Arc<AtomicU64>,
}

impl IpSend for FilteredTun {
    // Decrypted packets from a device, on their way into the internal network.
    async fn send(&mut self, packet: Packet<Ip>) -> io::Result<()> {
        let verdict = {
            let mut f = self.filter.lock().unwrap_or_else(PoisonError::into_inner);
            f.outbound(packet.as_bytes(), self.now_ms.load(Ordering::Relaxed))
        };
        match verdict {
            Verdict::Pass => self.tun.send(packet).await,
            Verdict::Drop => Ok(()),
        }
    }
}

impl IpRecv for FilteredTun {
    // Packets from the internal network, on their way into a tunnel: only replies.
    async fn recv<'a>(&'a mut self, pool: &mut PacketBufPool) -> io::Result<impl Iterator<Item = Packet<Ip>> + Send + 'a> {
        let filter = &self.filter;
        let packets = self.tun.recv(pool).await?;
        Ok(packets.filter(move |p| filter.lock().unwrap_or_else(PoisonError::into_inner).inbound(p.as_bytes()) == Verdict::Pass))
    }

    fn mtu(&self) -> MtuWatcher {
        self.tun.mtu()
    }
}

/// A running data plane: the kernel's WireGuard (with nftables for the access rules) or
/// gotatun in user space (with the engine's filter). Both serve the gateway task the same way.
pub struct DataPlane {
    backend: Backend,
}

enum Backend {
    Userspace(Box<Userspace>),
    Kernel(Kernel),
}

impl DataPlane {
    /// Creates the tunnel interface with the gateway's pool address, turns on forwarding and
    /// starts WireGuard with no peers: nothing can connect until a session installs a peer.
    /// `auto` takes the kernel's WireGuard when the kernel has it and falls back to user space
    /// (with a warning) when it cannot be set up.
    pub async fn open(config: &VpnConfig, key: &KeyPair) -> Result<DataPlane, DataPlaneError> {
        let backend = match config.data_plane {
            DataPlaneKind::Kernel => Backend::Kernel(Kernel::open(config, key).await?),
            DataPlaneKind::Auto if kernel_available() => match Kernel::open(config, key).await {
                Ok(k) => Backend::Kernel(k),
                Err(e) => {
                    tracing::warn!(error = %e, "kernel WireGuard could not be set up; using the user-space data plane");
                    Backend::Userspace(Box::new(Userspace::open(config, key).await?))
                }
            },
            DataPlaneKind::Auto | DataPlaneKind::Userspace => Backend::Userspace(Box::new(Userspace::open(config, key).await?)),
        };
        Ok(DataPlane { backend })
    }

    /// `kernel` or `userspace`.
    pub fn kind(&self) -> &'static str {
        match &self.backend {
            Backend::Userspace(_) => "userspace",
            Backend::Kernel(_) => "kernel",
        }
    }

    /// The handshake initiations that arrive (user space only; once: the gateway task takes them).
    pub fn take_knocks(&mut self) -> Option<mpsc::Receiver<Knock>> {
        match &mut self.backend {
            Backend::Userspace(u) => u.knocks.take(),
            Backend::Kernel(_) => None,
        }
    }

    pub fn interface(&self) -> &str {
        match &self.backend {
            Backend::Userspace(u) => &u.interface,
            Backend::Kernel(k) => &k.interface,
        }
    }

    pub fn port(&self) -> u16 {
        match &self.backend {
            Backend::Userspace(u) => u.port,
            Backend::Kernel(k) => k.port,
        }
    }

    /// Installs (or updates) a device's peer: its tunnel address is its only allowed source,
    /// and `rules` say where it may go.
    pub async fn install(
        &self,
        key: &Key,
        address: Ipv4Addr,
        rules: Arc<[Rule]>,
        endpoint: Option<SocketAddr>,
    ) -> Result<(), DataPlaneError> {
        match &self.backend {
            Backend::Userspace(u) => u.install(key, address, rules, endpoint).await,
            Backend::Kernel(k) => k.install(key, address, rules, endpoint).await,
        }
    }

    /// Changes the rules of an installed device.
    pub async fn set_rules(&self, address: Ipv4Addr, rules: Arc<[Rule]>) -> Result<(), DataPlaneError> {
        match &self.backend {
            Backend::Userspace(u) => {
                u.set_rules(address, rules);
                Ok(())
            }
            Backend::Kernel(k) => k.set_rules(address, rules).await,
        }
    }

    /// Removes a device's peer: its handshakes and packets are refused from now on.
    pub async fn uninstall(&self, key: &Key, address: Ipv4Addr) -> Result<(), DataPlaneError> {
        match &self.backend {
            Backend::Userspace(u) => u.uninstall(key, address).await,
            Backend::Kernel(k) => k.uninstall(key, address).await,
        }
    }

    pub async fn stats(&self) -> Vec<PeerStat> {
        match &self.backend {
            Backend::Userspace(u) => u.stats().await,
            Backend::Kernel(k) => k.stats().await,
        }
    }

    /// Advances the user-space filter's clock and forgets idle flows (the kernel's connection
    /// tracking does this itself).
    pub fn tick(&self, now_ms: u64, expire: bool) {
        if let Backend::Userspace(u) = &self.backend {
            u.tick(now_ms, expire);
        }
    }

    /// What was refused per device since the last call.
    pub async fn take_denied(&self) -> Vec<Denied> {
        match &self.backend {
            Backend::Userspace(u) => u.take_denied(),
            Backend::Kernel(k) => k.take_denied().await,
        }
    }

    pub async fn stop(self) {
        match self.backend {
            Backend::Userspace(u) => u.stop().await,
            Backend::Kernel(k) => k.stop().await,
        }
    }
}

impl Userspace {
    async fn open(config: &VpnConfig, key: &KeyPair) -> Result<Userspace, DataPlaneError> {
        let pool = Pool::new(config.pool).map_err(|e| DataPlaneError::Config(e.to_string()))?;
        let tun_err = |why: String| DataPlaneError::Tun { name: config.interface.clone(), why };
        let mut tc = gotatun::tun::tun::Configuration::default();
        tc.tun_name(&config.interface).address(pool.gateway()).netmask(config.pool.netmask()).mtu(MTU).up();
        let tun = gotatun::tun::tun::create_as_async(&tc).map_err(|e| tun_err(e.to_string()))?;
        let tun = TunDevice::from_tun_device(tun).map_err(|e| tun_err(e.to_string()))?;
        enable_forwarding()?;
        let filter = Arc::new(Mutex::new(Filter::new()));
        let now_ms = Arc::new(AtomicU64::new(0));
        let ip = FilteredTun { tun, filter: filter.clone(), now_ms: now_ms.clone() };
        let secret = StaticSecret::from(*key.private_bytes());
        let (knock_tx, knock_rx) = mpsc::channel(64);
        let device = DeviceBuilder::new()
            .with_udp(WatchedUdp { inner: UdpSocketFactory::default(), knocks: knock_tx })
            .with_ip(ip)
            .with_private_key(secret)
            .build()
            .await
            .map_err(|e| DataPlaneError::Start { port: config.listen_port, why: e.to_string() })?;
        // Built without peers, gotatun binds no socket; setting the port binds it now, so a
        // port in use is found at start, not at the first Connect.
        device
            .set_listen_port(config.listen_port)
            .await
            .map_err(|e| DataPlaneError::Start { port: config.listen_port, why: e.to_string() })?;
        tracing::info!(interface = %config.interface, port = config.listen_port, gateway = %pool.gateway(), "WireGuard gateway up (user space)");
        Ok(Userspace { device, knocks: Some(knock_rx), filter, now_ms, interface: config.interface.clone(), port: config.listen_port })
    }

    /// Installs (or updates) a device's peer: its tunnel address is its only allowed source,
    /// and `rules` say where it may go. With the address the device last spoke from, the
    /// gateway starts the handshake itself, so a device that is already up (or still holds
    /// keys of an ended session) can send at once instead of after its own retry timers.
    pub async fn install(
        &self,
        key: &Key,
        address: Ipv4Addr,
        rules: Arc<[Rule]>,
        endpoint: Option<SocketAddr>,
    ) -> Result<(), DataPlaneError> {
        self.lock_filter().set_policy(IpAddr::V4(address), rules);
        let public = PublicKey::from(*key.as_bytes());
        let mut peer = Peer::new(public).with_allowed_ip(ipnetwork(address));
        peer.endpoint = endpoint;
        self.device.add_or_update_peer(peer).await.map_err(|e| DataPlaneError::Config(e.to_string()))?;
        if endpoint.is_some() {
            // The initiation goes out on the first poll; completion is not waited for.
            let _ = tokio::time::timeout(Duration::from_millis(5), self.device.force_handshake(&public)).await;
        }
        Ok(())
    }

    fn set_rules(&self, address: Ipv4Addr, rules: Arc<[Rule]>) {
        self.lock_filter().set_policy(IpAddr::V4(address), rules);
    }

    async fn uninstall(&self, key: &Key, address: Ipv4Addr) -> Result<(), DataPlaneError> {
        let removed = self.device.remove_peer(&PublicKey::from(*key.as_bytes())).await.map_err(|e| DataPlaneError::Config(e.to_string()));
        self.lock_filter().remove(IpAddr::V4(address));
        removed.map(|_| ())
    }

    async fn stats(&self) -> Vec<PeerStat> {
        self.device
            .peers()
            .await
            .into_iter()
            .map(|p| PeerStat {
                public_key: Key::from_bytes(p.peer.public_key.to_bytes()),
                since_handshake: p.stats.last_handshake,
                endpoint: p.peer.endpoint,
                rx_bytes: p.stats.rx_bytes as u64,
                tx_bytes: p.stats.tx_bytes as u64,
            })
            .collect()
    }

    fn tick(&self, now_ms: u64, expire: bool) {
        self.now_ms.store(now_ms, Ordering::Relaxed);
        if expire {
            self.lock_filter().expire(now_ms);
        }
    }

    fn take_denied(&self) -> Vec<Denied> {
        self.lock_filter().take_denied()
    }

    async fn stop(self) {
        self.device.stop().await;
    }

    fn lock_filter(&self) -> std::sync::MutexGuard<'_, Filter> {
        self.filter.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The kernel's WireGuard, driven with iproute2 and `wg` (netlink underneath), and the access
/// rules as an nftables table (`veilig-vpn-engine`'s `nft.rs`) replaced atomically on every
/// change. Needs the `wireguard` module, `wireguard-tools` and `nftables`.
pub struct Kernel {
    interface: String,
    port: u16,
    policies: tokio::sync::Mutex<std::collections::BTreeMap<Ipv4Addr, Vec<Rule>>>,
    counted: Mutex<std::collections::BTreeMap<IpAddr, u64>>,
}

async fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {program}: {e}"))?;
    if let Some(mut pipe) = child.stdin.take() {
        if let Some(text) = stdin {
            pipe.write_all(text.as_bytes()).await.map_err(|e| format!("{program}: {e}"))?;
        }
        drop(pipe);
    }
    let out = child.wait_with_output().await.map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

impl Kernel {
    async fn open(config: &VpnConfig, key: &KeyPair) -> Result<Kernel, DataPlaneError> {
        if !kernel_available() {
            return Err(DataPlaneError::Kernel("this kernel has no WireGuard module".to_owned()));
        }
        let pool = Pool::new(config.pool).map_err(|e| DataPlaneError::Config(e.to_string()))?;
        let iface = config.interface.as_str();
        let k = |e: String| DataPlaneError::Kernel(e);
        run("ip", &["link", "add", iface, "type", "wireguard"], None).await.map_err(k)?;
        let kernel = Kernel {
            interface: iface.to_owned(),
            port: config.listen_port,
            policies: tokio::sync::Mutex::new(Default::default()),
            counted: Mutex::new(Default::default()),
        };
        let setup = async {
            let port = config.listen_port.to_string();
            let private = key.private_base64();
            run("wg", &["set", iface, "listen-port", &port, "private-key", "/dev/stdin"], Some(private.as_str())).await?;
            let addr = format!("{}/{}", pool.gateway(), config.pool.prefix_len());
            run("ip", &["address", "add", &addr, "dev", iface], None).await?;
            run("ip", &["link", "set", iface, "mtu", &MTU.to_string(), "up"], None).await?;
            run("nft", &["-f", "-"], Some(&veilig_vpn_engine::nft::ruleset(iface, &Default::default()))).await?;
            Ok::<(), String>(())
        };
        if let Err(e) = setup.await {
            // Nothing half-configured stays behind.
            let _ = run("ip", &["link", "del", iface], None).await;
            let _ = run("nft", &["-f", "-"], Some(&veilig_vpn_engine::nft::teardown())).await;
            return Err(DataPlaneError::Kernel(e));
        }
        enable_forwarding()?;
        tracing::info!(interface = %iface, port = config.listen_port, gateway = %pool.gateway(), "WireGuard gateway up (kernel)");
        Ok(kernel)
    }

    async fn apply_rules(&self, policies: &std::collections::BTreeMap<Ipv4Addr, Vec<Rule>>) -> Result<(), DataPlaneError> {
        run("nft", &["-f", "-"], Some(&veilig_vpn_engine::nft::ruleset(&self.interface, policies)))
            .await
            .map_err(DataPlaneError::Config)?;
        Ok(())
    }

    async fn install(&self, key: &Key, address: Ipv4Addr, rules: Arc<[Rule]>, endpoint: Option<SocketAddr>) -> Result<(), DataPlaneError> {
        let mut policies = self.policies.lock().await;
        policies.insert(address, rules.to_vec());
        self.apply_rules(&policies).await?;
        let allowed = format!("{address}/32");
        let public = key.to_base64();
        let endpoint = endpoint.map(|e| e.to_string());
        let mut args = vec!["set", self.interface.as_str(), "peer", public.as_str(), "allowed-ips", allowed.as_str()];
        if let Some(e) = &endpoint {
            args.extend(["endpoint", e.as_str()]);
        }
        run("wg", &args, None).await.map_err(DataPlaneError::Config)?;
        Ok(())
    }

    async fn set_rules(&self, address: Ipv4Addr, rules: Arc<[Rule]>) -> Result<(), DataPlaneError> {
        let mut policies = self.policies.lock().await;
        policies.insert(address, rules.to_vec());
        self.apply_rules(&policies).await
    }

    async fn uninstall(&self, key: &Key, address: Ipv4Addr) -> Result<(), DataPlaneError> {
        let removed = run("wg", &["set", &self.interface, "peer", &key.to_base64(), "remove"], None).await.map_err(DataPlaneError::Config);
        let mut policies = self.policies.lock().await;
        policies.remove(&address);
        self.apply_rules(&policies).await?;
        removed.map(|_| ())
    }

    async fn stats(&self) -> Vec<PeerStat> {
        let Ok(dump) = run("wg", &["show", &self.interface, "dump"], None).await else { return Vec::new() };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        veilig_vpn_engine::wgdump::parse(&dump)
            .into_iter()
            .map(|p| PeerStat {
                public_key: p.public_key,
                since_handshake: p.latest_handshake.map(|t| Duration::from_secs(now.saturating_sub(t))),
                endpoint: p.endpoint,
                rx_bytes: p.rx_bytes,
                tx_bytes: p.tx_bytes,
            })
            .collect()
    }

    async fn take_denied(&self) -> Vec<Denied> {
        let table = format!("list table inet {}", veilig_vpn_engine::nft::TABLE);
        let Ok(listing) = run("nft", &table.split(' ').collect::<Vec<_>>(), None).await else { return Vec::new() };
        let now = veilig_vpn_engine::nft::denied_counters(&listing);
        let mut counted = self.counted.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        for (device, n) in &now {
            let before = counted.get(device).copied().unwrap_or(0);
            // A counter that went down was reset with a new ruleset: all of it is new.
            let fresh = if *n >= before { n - before } else { *n };
            if fresh > 0 {
                out.push(Denied { device: *device, count: fresh, example: "refused by the kernel's firewall".to_owned() });
            }
        }
        *counted = now;
        out
    }

    async fn stop(self) {
        let _ = run("ip", &["link", "del", &self.interface], None).await;
        let _ = run("nft", &["-f", "-"], Some(&veilig_vpn_engine::nft::teardown())).await;
    }
}

fn ipnetwork(a: Ipv4Addr) -> ipnetwork::IpNetwork {
    ipnetwork::IpNetwork::V4(ipnetwork::Ipv4Network::from(a))
}

fn enable_forwarding() -> Result<(), DataPlaneError> {
    let path = "/proc/sys/net/ipv4/ip_forward";
    match std::fs::read_to_string(path) {
        Ok(v) if v.trim() == "1" => Ok(()),
        _ => {
            std::fs::write(path, "1\n").map_err(|e| DataPlaneError::Forwarding(format!("{path}: {e}")))?;
            tracing::info!("turned on IPv4 forwarding");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real initiation, made by the WireGuard implementation itself, names its sender; one
    /// meant for another gateway, or damaged, names nobody.
    #[test]
    fn the_sender_of_a_real_handshake_initiation_is_read() {
        use gotatun::noise::Tunn;
        use gotatun::noise::index_table::IndexTable;
        use gotatun::noise::rate_limiter::RateLimiter;
        use zerocopy::IntoBytes;

        let gateway = KeyPair::generate();
        let device = KeyPair::generate();
        let gateway_public = PublicKey::from(*gateway.public.as_bytes());
        let mut tunn = Tunn::new(
            StaticSecret::from(*device.private_bytes()),
            gateway_public,
            None,
            Some(25),
            IndexTable::from_os_rng(),
            Arc::new(RateLimiter::new(&gateway_public, 100)),
        );
        let packet = tunn.format_handshake_initiation(false).unwrap();
        let msg = (*packet).as_bytes().to_vec();
        assert!(veilig_vpn_engine::handshake::is_initiation(&msg));
        let read = veilig_vpn_engine::handshake::initiator_static(gateway.private_bytes(), &gateway.public, &msg);
        assert_eq!(read, Some(device.public));

        let other = KeyPair::generate();
        assert_eq!(veilig_vpn_engine::handshake::initiator_static(other.private_bytes(), &other.public, &msg), None);
        let mut damaged = msg.clone();
        damaged[50] ^= 1;
        assert_eq!(veilig_vpn_engine::handshake::initiator_static(gateway.private_bytes(), &gateway.public, &damaged), None);
    }

    #[tokio::test]
    async fn the_kernel_data_plane_is_refused_with_the_reason() {
        let mut config = veilig_core::Config::load(&Default::default(), None).unwrap().vpn;
        config.data_plane = DataPlaneKind::Kernel;
        let err = DataPlane::open(&config, &KeyPair::generate()).await.err().unwrap();
        let text = err.to_string();
        assert!(text.contains("vpn.data_plane = \"kernel\" is not available"), "{text}");
        // This machine (like CI) has no WireGuard module; elsewhere the test sees the reason
        // the interface could not be made (it runs without root).
        if !kernel_available() {
            assert!(text.contains("no WireGuard module"), "{text}");
        }
    }
}
