//! Ingestion: syslog over UDP, TCP and TLS (RFC 3164 and RFC 5424 messages; newline or
//! octet-counted framing per RFC 6587 and RFC 5425) and log files followed through rotation
//! (`files.rs`) into the monitoring engine, live. Alerts are stored and announced on the
//! event bus.
//!
//! Bounded everywhere: a frame is at most 64 KiB (longer ones are counted and skipped), a TCP
//! connection's buffer never grows past that, and the engine keeps its own source budget.

pub mod files;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, UdpSocket};
use veilig_core::{Event, EventBus, SharedClock};
use veilig_monitor::{Alert, Engine, Format, Parsed, parse_line};
use veilig_store::{AlertRecord, Store};

pub const MAX_FRAME: usize = 64 * 1024;

/// Refused packets from one VPN device within one summary (ten seconds) that make an alert.
pub const VPN_PROBING_THRESHOLD: u64 = 20;

/// Counters for `/metrics` and the pages.
#[derive(Debug, Default)]
pub struct Counters {
    pub received: AtomicU64,
    pub events: AtomicU64,
    pub unparsed: AtomicU64,
    pub oversized: AtomicU64,
    pub alerts: AtomicU64,
}

/// What one sender (a syslog peer's address, or a followed file) brought in.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SenderStats {
    pub sender: String,
    pub lines: u64,
    pub events: u64,
    pub unparsed: u64,
    pub last_ms: i64,
}

/// A line that was not understood, kept in memory for the administrator (never stored).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sample {
    pub sender: String,
    pub reason: String,
    pub line: String,
    pub at_ms: i64,
}

/// Senders tracked at once; past it, the one heard from longest ago is forgotten.
pub const MAX_SENDERS: usize = 1024;
/// Unparsed lines kept as samples (the newest), each cut to [`SAMPLE_CHARS`] characters.
pub const MAX_SAMPLES: usize = 20;
pub const SAMPLE_CHARS: usize = 300;

#[derive(Default)]
struct Inputs {
    senders: HashMap<String, SenderStats>,
    samples: std::collections::VecDeque<Sample>,
}

pub struct Ingest {
    inputs: Mutex<Inputs>,
    /// Cloud discovery over the same lines (DNS and proxy logs among the inputs), in memory
    /// since start: counts per cloud service, no addresses.
    cloud: Option<Mutex<veilig_cloud::Discovery<'static>>>,
    engine: Mutex<Engine>,
    store: Store,
    bus: EventBus,
    clock: SharedClock,
    pub counters: Counters,
}

impl Ingest {
    /// With the shipped rule pack.
    pub fn new(store: Store, bus: EventBus, clock: SharedClock) -> Arc<Ingest> {
        Self::with_engine(store, bus, clock, Engine::default())
    }

    /// With an engine made ready (the rules in force, lists, GeoIP database).
    pub fn with_engine(store: Store, bus: EventBus, clock: SharedClock, engine: Engine) -> Arc<Ingest> {
        let year = clock.now().year();
        let cloud = veilig_cloud::Catalog::shipped_static()
            .ok()
            .map(|c| Mutex::new(veilig_cloud::Discovery::new(c, veilig_cloud::Format::Auto, year)));
        Arc::new(Ingest {
            inputs: Mutex::new(Inputs::default()),
            cloud,
            engine: Mutex::new(engine),
            store,
            bus,
            clock,
            counters: Counters::default(),
        })
    }

    /// Parses one message from a named sender (a peer's address, `file /var/log/x`) and feeds
    /// the engine; stores and announces the alerts it completes. Counted per sender, with
    /// samples of lines not understood.
    pub async fn message_from(&self, sender: &str, text: &str) {
        let year = self.clock.now().year();
        let mut alerts: Vec<Alert> = Vec::new();
        let (mut lines, mut events, mut unparsed) = (0u64, 0u64, 0u64);
        let mut samples = Vec::new();
        for line in text.lines() {
            lines += 1;
            match parse_line(line, Format::Auto, year) {
                Parsed::Event(e) => {
                    events += 1;
                    let mut engine = self.engine.lock().unwrap_or_else(|p| p.into_inner());
                    engine.push(&e, &mut alerts);
                }
                Parsed::Ignored => {}
                Parsed::Unparsed(reason) => {
                    unparsed += 1;
                    if samples.len() < MAX_SAMPLES && !line.trim().is_empty() {
                        samples.push((reason, line.chars().take(SAMPLE_CHARS).collect::<String>()));
                    }
                }
            }
        }
        if let Some(cloud) = &self.cloud {
            let mut d = cloud.lock().unwrap_or_else(|p| p.into_inner());
            for line in text.lines() {
                d.feed(line.as_bytes());
            }
        }
        self.counters.received.fetch_add(lines, Ordering::Relaxed);
        self.counters.events.fetch_add(events, Ordering::Relaxed);
        self.counters.unparsed.fetch_add(unparsed, Ordering::Relaxed);
        self.count(sender, lines, events, unparsed, samples);
        self.store_alerts(alerts).await;
    }

    fn count(&self, sender: &str, lines: u64, events: u64, unparsed: u64, samples: Vec<(&str, String)>) {
        let now = self.clock.now_ms();
        let mut inputs = self.inputs.lock().unwrap_or_else(|p| p.into_inner());
        if !inputs.senders.contains_key(sender)
            && inputs.senders.len() >= MAX_SENDERS
            && let Some(oldest) = inputs.senders.values().min_by_key(|s| s.last_ms).map(|s| s.sender.clone())
        {
            inputs.senders.remove(&oldest);
        }
        let s =
            inputs.senders.entry(sender.to_owned()).or_insert_with(|| SenderStats { sender: sender.to_owned(), ..SenderStats::default() });
        s.lines += lines;
        s.events += events;
        s.unparsed += unparsed;
        s.last_ms = now;
        for (reason, line) in samples {
            if inputs.samples.len() >= MAX_SAMPLES {
                inputs.samples.pop_front();
            }
            inputs.samples.push_back(Sample { sender: sender.to_owned(), reason: reason.to_owned(), line, at_ms: now });
        }
    }

    /// The cloud services seen in the monitoring input since start (DNS and proxy logs sent over
    /// syslog or followed as files).
    pub fn cloud_live(&self) -> Option<veilig_cloud::Findings> {
        self.cloud.as_ref().map(|c| c.lock().unwrap_or_else(|p| p.into_inner()).snapshot())
    }

    /// The senders (most lines first) and the newest samples of lines not understood.
    pub fn inputs(&self) -> (Vec<SenderStats>, Vec<Sample>) {
        let inputs = self.inputs.lock().unwrap_or_else(|p| p.into_inner());
        let mut senders: Vec<SenderStats> = inputs.senders.values().cloned().collect();
        senders.sort_by(|a, b| b.lines.cmp(&a.lines).then_with(|| a.sender.cmp(&b.sender)));
        (senders, inputs.samples.iter().rev().cloned().collect())
    }

    /// Feeds one of Veilig's own sign-ins (or failures) to the engine, as if a log line had
    /// said it: source program `veilig`, the client address, the account.
    pub async fn own_sign_in(&self, ip: &str, email: &str, ok: bool) {
        let Ok(src) = ip.parse::<std::net::IpAddr>() else { return };
        let mut e = veilig_monitor::Event::new(
            self.clock.now_ms(),
            if ok { veilig_monitor::Kind::AuthSuccess } else { veilig_monitor::Kind::AuthFailure },
            "veilig",
        );
        e.src = Some(src);
        e.user = email;
        let line = format!("veilig: sign-in {} for {email} from {ip}", if ok { "succeeded" } else { "failed" });
        e.line = &line;
        self.push_own(&e).await;
    }

    /// Feeds one event Veilig made itself to the engine; stores the alerts it completes.
    async fn push_own(&self, e: &veilig_monitor::Event<'_>) {
        self.counters.events.fetch_add(1, Ordering::Relaxed);
        let mut alerts = Vec::new();
        {
            let mut engine = self.engine.lock().unwrap_or_else(|p| p.into_inner());
            engine.push(e, &mut alerts);
        }
        self.store_alerts(alerts).await;
    }

    /// One of Veilig's own VPN events as an engine event of program `veilig-vpn`: a session
    /// opened (a sign-in from the address that pressed Connect) or the bytes a device moved.
    pub async fn own_vpn(&self, kind: veilig_monitor::Kind, ip: &str, email: &str, bytes: u64) {
        let Ok(src) = ip.parse::<std::net::IpAddr>() else { return };
        let mut e = veilig_monitor::Event::new(self.clock.now_ms(), kind, "veilig-vpn");
        e.src = Some(src);
        e.user = email;
        e.bytes = bytes;
        let line = match kind {
            veilig_monitor::Kind::Traffic => format!("veilig-vpn: {email}'s device {ip} moved {bytes} bytes"),
            _ => format!("veilig-vpn: {email} opened a VPN session from {ip}"),
        };
        e.line = &line;
        self.push_own(&e).await;
    }

    /// A device inside the VPN sent many packets that no access rule allows (the gateway's
    /// summary of at most ten seconds): a laptop probing the internal network is what a
    /// compromised one does.
    pub async fn vpn_denied(&self, email: &str, address: &str, count: u64, example: &str) {
        if count < VPN_PROBING_THRESHOLD {
            return;
        }
        let now = self.clock.now_ms();
        let record = AlertRecord {
            id: veilig_core::random_id(),
            rule: "vpn_device_probing".to_owned(),
            severity: "high".to_owned(),
            source: address.to_owned(),
            user: Some(email.to_owned()),
            first_seen_ms: now - 10_000,
            last_seen_ms: now,
            count: i64::try_from(count).unwrap_or(i64::MAX),
            summary: format!(
                "{count} packets from {email}'s VPN device {address} to destinations no access rule allows (the last: {example})"
            ),
            status: "open".to_owned(),
            created_ms: now,
            assignee: None,
            example: Some(example.to_owned()),
        };
        self.raise(record).await;
    }

    /// Stores an alert and announces it on the event bus (mail, webhooks, response).
    async fn raise(&self, record: AlertRecord) {
        self.counters.alerts.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.store.alert_insert(&record).await {
            tracing::error!(error = %e, "could not store an alert");
        }
        self.bus.publish(Event::MonitorAlert {
            id: record.id,
            rule: record.rule,
            severity: record.severity,
            source: record.source,
            user: record.user,
            summary: record.summary,
        });
    }

    async fn store_alerts(&self, alerts: Vec<Alert>) {
        for a in alerts {
            let record = AlertRecord {
                id: veilig_core::random_id(),
                rule: a.rule.clone(),
                severity: a.severity.clone(),
                source: a.source.clone(),
                user: a.user.clone(),
                first_seen_ms: a.first_seen_ms,
                last_seen_ms: a.last_seen_ms,
                count: a.count as i64,
                summary: a.summary.clone(),
                status: "open".to_owned(),
                created_ms: self.clock.now_ms(),
                assignee: None,
                example: (!a.example.is_empty()).then(|| a.example.clone()),
            };
            self.raise(record).await;
        }
    }
}

/// Feeds Veilig's own sign-ins to the engine (portal brute force, password spraying, a
/// success after failures), and turns the VPN gateway's denied-packet summaries into alerts,
/// from the event bus.
pub fn spawn_own_events(ingest: Arc<Ingest>) {
    let mut rx = ingest.bus.subscribe();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(Event::LoginFailed { email, ip, .. }) => ingest.own_sign_in(&ip, &email, false).await,
                Ok(Event::LoginSucceeded { email, ip, .. }) => ingest.own_sign_in(&ip, &email, true).await,
                Ok(Event::VpnDenied { email, address, count, example, .. }) => ingest.vpn_denied(&email, &address, count, &example).await,
                Ok(Event::VpnSessionOpened { email, ip, .. }) => ingest.own_vpn(veilig_monitor::Kind::AuthSuccess, &ip, &email, 0).await,
                Ok(Event::VpnTraffic { email, address, bytes, .. }) => {
                    ingest.own_vpn(veilig_monitor::Kind::Traffic, &address, &email, bytes).await;
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

/// Listens for syslog datagrams; returns the bound address.
pub async fn spawn_udp(addr: SocketAddr, ingest: Arc<Ingest>) -> std::io::Result<SocketAddr> {
    let socket = UdpSocket::bind(addr).await?;
    let local = socket.local_addr()?;
    tokio::spawn(async move {
        let mut buf = vec![0u8; MAX_FRAME];
        loop {
            match socket.recv_from(&mut buf).await {
                Ok((n, peer)) => {
                    let text = String::from_utf8_lossy(&buf[..n]);
                    ingest.message_from(&peer.ip().to_string(), &text).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "syslog UDP receive failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    });
    Ok(local)
}

/// Accepts connections for ever, each served on its own task by `serve`; accept errors (out of
/// file descriptors, say) are logged and retried.
fn spawn_accept<F, Fut>(listener: TcpListener, what: &'static str, serve: F)
where
    F: Fn(tokio::net::TcpStream, SocketAddr) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    tokio::spawn(serve(stream, peer));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "{what} accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    });
}

/// Listens for syslog over TCP; returns the bound address.
pub async fn spawn_tcp(addr: SocketAddr, ingest: Arc<Ingest>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    spawn_accept(listener, "syslog TCP", move |stream, peer| {
        let ingest = ingest.clone();
        async move {
            if let Err(e) = read_frames(BufReader::new(stream), &ingest, &peer.ip().to_string()).await {
                tracing::debug!(error = %e, "syslog TCP connection ended");
            }
        }
    });
    Ok(local)
}

/// How long a TLS client may take to finish its handshake.
const TLS_HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(10);

/// Listens for syslog over TLS (RFC 5425: octet-counted frames; newline framing is taken
/// too); returns the bound address.
pub async fn spawn_tls(addr: SocketAddr, acceptor: tokio_rustls::TlsAcceptor, ingest: Arc<Ingest>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    spawn_accept(listener, "syslog TLS", move |stream, peer| {
        let (ingest, acceptor) = (ingest.clone(), acceptor.clone());
        async move {
            let tls = match tokio::time::timeout(TLS_HANDSHAKE, acceptor.accept(stream)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::info!(%peer, error = %e, "syslog TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::info!(%peer, "syslog TLS handshake timed out");
                    return;
                }
            };
            if let Err(e) = read_frames(BufReader::new(tls), &ingest, &peer.ip().to_string()).await {
                tracing::debug!(error = %e, "syslog TLS connection ended");
            }
        }
    });
    Ok(local)
}

/// Reads RFC 6587 frames: `LEN SP MSG` (octet counting) or `MSG LF` (non-transparent framing),
/// chosen per frame by its first byte.
async fn read_frames<R: tokio::io::AsyncBufRead + Unpin>(mut r: R, ingest: &Ingest, sender: &str) -> std::io::Result<()> {
    let mut frame = Vec::with_capacity(1024);
    loop {
        let first = match r.fill_buf().await?.first() {
            Some(b) => *b,
            None => return Ok(()),
        };
        frame.clear();
        if first.is_ascii_digit() {
            // Octet counting: digits, a space, then exactly that many bytes.
            let mut len_text = Vec::new();
            (&mut r).take(8).read_until(b' ', &mut len_text).await?;
            let digits = std::str::from_utf8(&len_text).unwrap_or("").trim_end();
            let Ok(len) = digits.parse::<usize>() else {
                // Not a length after all: treat the rest of the line as a message.
                frame.extend_from_slice(&len_text);
                (&mut r).take(MAX_FRAME as u64).read_until(b'\n', &mut frame).await?;
                ingest.message_from(sender, &String::from_utf8_lossy(&frame)).await;
                continue;
            };
            if len > MAX_FRAME {
                ingest.counters.oversized.fetch_add(1, Ordering::Relaxed);
                tokio::io::copy(&mut (&mut r).take(len as u64), &mut tokio::io::sink()).await?;
                continue;
            }
            frame.resize(len, 0);
            r.read_exact(&mut frame).await?;
        } else {
            let n = (&mut r).take(MAX_FRAME as u64 + 1).read_until(b'\n', &mut frame).await?;
            if n == 0 {
                return Ok(());
            }
            if frame.len() > MAX_FRAME && frame.last() != Some(&b'\n') {
                ingest.counters.oversized.fetch_add(1, Ordering::Relaxed);
                let mut skip = Vec::new();
                loop {
                    skip.clear();
                    let m = (&mut r).take(MAX_FRAME as u64).read_until(b'\n', &mut skip).await?;
                    if m == 0 || skip.last() == Some(&b'\n') {
                        break;
                    }
                }
                continue;
            }
        }
        ingest.message_from(sender, &String::from_utf8_lossy(&frame)).await;
    }
}
