//! One typed configuration, layered: defaults, then `veilig.toml`, then `VEILIG_*` environment
//! variables and command-line flags (the binary hands those over as [`Overrides`]).
//!
//! Every setting is checked and *all* problems are reported at once, each with where the value
//! came from, the key and why it is wrong. Secrets (the database URL may hold a password) can be
//! read from a file named by the `*_file` variant of the key and are held in [`SecretString`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

use crate::lang::Lang;

/// Values given on the command line or in the environment; `None` when not given.
/// All are strings so that every problem, whatever its layer, is reported the same way.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data: Option<String>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub database_url: Option<String>,
    pub database_url_file: Option<String>,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    pub behind_proxy: Option<String>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    pub language: Option<String>,
    pub syslog_udp: Option<String>,
    pub syslog_tcp: Option<String>,
    pub syslog_tls: Option<String>,
    pub log_files: Option<String>,
}

/// One setting Veilig knows: its key in `veilig.toml`, its environment variable and its flag.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub key: &'static str,
    pub env: &'static str,
    pub flag: &'static str,
    pub doc: &'static str,
}

/// Every setting, with its documentation beside it. `veilig.example.toml` follows this list and
/// a test checks that it names every key.
pub const SETTINGS: &[Setting] = &[
    Setting { key: "server.data", env: "VEILIG_DATA", flag: "--data", doc: "folder for the database and keys (default ./veilig-data)" },
    Setting {
        key: "server.listen",
        env: "VEILIG_LISTEN",
        flag: "--listen",
        doc: "address and port of the portal and API (default 127.0.0.1:8080)",
    },
    Setting {
        key: "server.public_url",
        env: "VEILIG_PUBLIC_URL",
        flag: "--public-url",
        doc: "the address employees use, for links in e-mail (default derived from listen)",
    },
    Setting {
        key: "server.tls_cert",
        env: "VEILIG_TLS_CERT",
        flag: "--tls-cert",
        doc: "PEM certificate chain; TLS is on when this and tls_key are set",
    },
    Setting { key: "server.tls_key", env: "VEILIG_TLS_KEY", flag: "--tls-key", doc: "PEM private key for tls_cert" },
    Setting {
        key: "server.behind_proxy",
        env: "VEILIG_BEHIND_PROXY",
        flag: "--behind-proxy",
        doc: "networks of the reverse proxies whose X-Forwarded-* headers are trusted",
    },
    Setting {
        key: "server.language",
        env: "VEILIG_LANGUAGE",
        flag: "--language",
        doc: "language when the browser names none of ours: nl or en (default nl)",
    },
    Setting {
        key: "server.max_body_bytes",
        env: "VEILIG_MAX_BODY_BYTES",
        flag: "",
        doc: "largest request body accepted (default 1048576)",
    },
    Setting {
        key: "server.shutdown_grace_secs",
        env: "VEILIG_SHUTDOWN_GRACE_SECS",
        flag: "",
        doc: "how long in-flight requests may take to finish on shutdown (default 20)",
    },
    Setting {
        key: "database.url",
        env: "VEILIG_DATABASE_URL",
        flag: "--database-url",
        doc: "sqlite:PATH or postgres://... (default sqlite in the data folder)",
    },
    Setting {
        key: "database.url_file",
        env: "VEILIG_DATABASE_URL_FILE",
        flag: "--database-url-file",
        doc: "file holding the database URL, for URLs with a password",
    },
    Setting {
        key: "database.max_connections",
        env: "VEILIG_DATABASE_MAX_CONNECTIONS",
        flag: "",
        doc: "size of the connection pool (default 8)",
    },
    Setting {
        key: "identity.organisation",
        env: "VEILIG_ORGANISATION",
        flag: "",
        doc: "the organisation's name, shown in authenticator apps and e-mails (default Veilig)",
    },
    Setting {
        key: "identity.session_idle_minutes",
        env: "VEILIG_SESSION_IDLE_MINUTES",
        flag: "",
        doc: "a session ends after this many minutes without use (default 30)",
    },
    Setting {
        key: "identity.session_max_hours",
        env: "VEILIG_SESSION_MAX_HOURS",
        flag: "",
        doc: "a session ends this many hours after sign-in, used or not (default 12)",
    },
    Setting {
        key: "smtp.host",
        env: "VEILIG_SMTP_HOST",
        flag: "",
        doc: "mail server for invitations and security notices; without it links are copied from the pages",
    },
    Setting {
        key: "smtp.port",
        env: "VEILIG_SMTP_PORT",
        flag: "",
        doc: "mail server port (default 587 for starttls, 465 for tls, 25 for none)",
    },
    Setting {
        key: "smtp.tls",
        env: "VEILIG_SMTP_TLS",
        flag: "",
        doc: "starttls (default), tls, or none (only for a mail server on loopback)",
    },
    Setting { key: "smtp.username", env: "VEILIG_SMTP_USERNAME", flag: "", doc: "user name at the mail server, if it asks for one" },
    Setting { key: "smtp.password_file", env: "VEILIG_SMTP_PASSWORD_FILE", flag: "", doc: "file holding the mail server password" },
    Setting { key: "smtp.from", env: "VEILIG_SMTP_FROM", flag: "", doc: "sender address, such as Veilig <veilig@gemeente.nl>" },
    Setting {
        key: "monitor.syslog_udp",
        env: "VEILIG_SYSLOG_UDP",
        flag: "--syslog-udp",
        doc: "address to receive syslog over UDP, such as 0.0.0.0:514 (default off)",
    },
    Setting {
        key: "monitor.syslog_tcp",
        env: "VEILIG_SYSLOG_TCP",
        flag: "--syslog-tcp",
        doc: "address to receive syslog over TCP (default off)",
    },
    Setting {
        key: "monitor.syslog_tls",
        env: "VEILIG_SYSLOG_TLS",
        flag: "--syslog-tls",
        doc: "address to receive syslog over TLS (RFC 5425, such as 0.0.0.0:6514), with server.tls_cert and tls_key (default off)",
    },
    Setting {
        key: "monitor.rules",
        env: "VEILIG_RULES",
        flag: "",
        doc: "a folder of YAML detection rules that add to, replace or switch off the shipped ones (default none)",
    },
    Setting {
        key: "monitor.geoip",
        env: "VEILIG_GEOIP",
        flag: "",
        doc: "MaxMind DB country databases (.mmdb), comma-separated, for the country rules; scripts/geoip fetches one (default none)",
    },
    Setting {
        key: "monitor.lists",
        env: "VEILIG_LISTS",
        flag: "",
        doc: "imported address lists for the rules, comma-separated NAME=FILE or FILE (name: the file's stem); the shipped rules use one named blocklist (default none)",
    },
    Setting {
        key: "monitor.digest_hour",
        env: "VEILIG_DIGEST_HOUR",
        flag: "",
        doc: "hour (0-23, UTC) of the daily monitoring digest mailed to staff, or off (default 7; needs [smtp])",
    },
    Setting {
        key: "monitor.files",
        env: "VEILIG_LOG_FILES",
        flag: "--log-file",
        doc: "log files to follow through rotation, comma-separated, such as /var/log/ufw.log (default none)",
    },
    Setting {
        key: "phishing.imap_host",
        env: "VEILIG_PHISHING_IMAP_HOST",
        flag: "",
        doc: "IMAP server of the report mailbox to which employees forward suspicious mail (default none: no mailbox)",
    },
    Setting {
        key: "phishing.imap_port",
        env: "VEILIG_PHISHING_IMAP_PORT",
        flag: "",
        doc: "IMAP port (default 993 for tls, 143 for starttls and none)",
    },
    Setting {
        key: "phishing.imap_tls",
        env: "VEILIG_PHISHING_IMAP_TLS",
        flag: "",
        doc: "tls (default), starttls, or none (only for a server on loopback)",
    },
    Setting { key: "phishing.imap_username", env: "VEILIG_PHISHING_IMAP_USERNAME", flag: "", doc: "user name of the report mailbox" },
    Setting {
        key: "phishing.imap_password_file",
        env: "VEILIG_PHISHING_IMAP_PASSWORD_FILE",
        flag: "",
        doc: "file holding the report mailbox's password",
    },
    Setting { key: "phishing.imap_mailbox", env: "VEILIG_PHISHING_IMAP_MAILBOX", flag: "", doc: "folder to read (default INBOX)" },
    Setting {
        key: "phishing.imap_ca_file",
        env: "VEILIG_PHISHING_IMAP_CA_FILE",
        flag: "",
        doc: "PEM file of a certificate authority to trust for the IMAP server besides the system's (an internal CA)",
    },
    Setting {
        key: "phishing.org_domains",
        env: "VEILIG_PHISHING_ORG_DOMAINS",
        flag: "",
        doc: "the organisation's own mail domains, comma-separated (default: the report mailbox's domain)",
    },
    Setting {
        key: "phishing.verify_dkim",
        env: "VEILIG_PHISHING_VERIFY_DKIM",
        flag: "",
        doc: "check the DKIM signatures of reported mail against DNS: true or false (default false; needs DNS)",
    },
    Setting {
        key: "phishing.dns_server",
        env: "VEILIG_PHISHING_DNS_SERVER",
        flag: "",
        doc: "resolver for the DKIM checks, such as 127.0.0.1:53 (default: the system's)",
    },
    Setting {
        key: "phishing.retention_days",
        env: "VEILIG_PHISHING_RETENTION_DAYS",
        flag: "",
        doc: "days a report (with the reporter's address) is kept (default 365)",
    },
    Setting {
        key: "phishing.idle_secs",
        env: "VEILIG_PHISHING_IDLE_SECS",
        flag: "",
        doc: "longest wait in IMAP IDLE, and the poll interval of servers without IDLE (default 300)",
    },
    Setting {
        key: "pseudo.terms_file",
        env: "VEILIG_PSEUDO_TERMS_FILE",
        flag: "",
        doc: "CSV of the organisation's own values that the pseudonymiser always hides (value[,label]: client names, project names)",
    },
    Setting {
        key: "pseudo.llm_url",
        env: "VEILIG_PSEUDO_LLM_URL",
        flag: "",
        doc: "base URL of an OpenAI-compatible chat service for the AI-chat gateway, such as https://llm.example.nl/v1 (default none: no gateway)",
    },
    Setting {
        key: "pseudo.llm_api_key_file",
        env: "VEILIG_PSEUDO_LLM_API_KEY_FILE",
        flag: "",
        doc: "file holding the API key for that service (default none: no key sent)",
    },
    Setting {
        key: "pseudo.llm_model",
        env: "VEILIG_PSEUDO_LLM_MODEL",
        flag: "",
        doc: "model to use whatever the client asks for (default: the client's choice)",
    },
    Setting {
        key: "pseudo.llm_timeout_secs",
        env: "VEILIG_PSEUDO_LLM_TIMEOUT_SECS",
        flag: "",
        doc: "longest wait for the chat service's answer (default 120)",
    },
    Setting { key: "vpn.enabled", env: "VEILIG_VPN_ENABLED", flag: "", doc: "run the WireGuard gateway: true or false (default false)" },
    Setting { key: "vpn.listen_port", env: "VEILIG_VPN_PORT", flag: "", doc: "UDP port of the WireGuard gateway (default 51820)" },
    Setting {
        key: "vpn.interface",
        env: "VEILIG_VPN_INTERFACE",
        flag: "",
        doc: "name of the tunnel interface, at most 15 characters (default veilig0)",
    },
    Setting {
        key: "vpn.pool",
        env: "VEILIG_VPN_POOL",
        flag: "",
        doc: "IPv4 network the devices' tunnel addresses come from; the gateway takes the first (default 10.13.0.0/24)",
    },
    Setting {
        key: "vpn.networks",
        env: "VEILIG_VPN_NETWORKS",
        flag: "",
        doc: "the internal networks behind the gateway, comma-separated (required when the VPN is on)",
    },
    Setting { key: "vpn.dns", env: "VEILIG_VPN_DNS", flag: "", doc: "DNS servers pushed to the devices, comma-separated (default none)" },
    Setting {
        key: "vpn.endpoint",
        env: "VEILIG_VPN_ENDPOINT",
        flag: "",
        doc: "host:port the devices reach the gateway at (default the public_url host and listen_port)",
    },
    Setting {
        key: "vpn.session_max_secs",
        env: "VEILIG_VPN_SESSION_MAX_SECS",
        flag: "",
        doc: "a VPN session ends this long after Connect; groups may have a shorter limit (default 36000, 10 hours)",
    },
    Setting {
        key: "vpn.idle_secs",
        env: "VEILIG_VPN_IDLE_SECS",
        flag: "",
        doc: "a VPN session ends after this long without a handshake (default 900)",
    },
    Setting {
        key: "vpn.data_plane",
        env: "VEILIG_VPN_DATA_PLANE",
        flag: "",
        doc: "auto, userspace or kernel (default auto: kernel WireGuard when the kernel has it)",
    },
    Setting {
        key: "vpn.retention_days",
        env: "VEILIG_VPN_RETENTION_DAYS",
        flag: "",
        doc: "how long ended VPN sessions (who, when, from where) are kept (default 90)",
    },
    Setting {
        key: "response.block_severity",
        env: "VEILIG_RESPONSE_BLOCK_SEVERITY",
        flag: "",
        doc: "alerts at or above this severity block their source: low, medium, high, critical or off (default high)",
    },
    Setting {
        key: "response.block_secs",
        env: "VEILIG_RESPONSE_BLOCK_SECS",
        flag: "",
        doc: "length of a first block; each repeat within 30 days is four times longer (default 14400, 4 h)",
    },
    Setting {
        key: "response.block_max_secs",
        env: "VEILIG_RESPONSE_BLOCK_MAX_SECS",
        flag: "",
        doc: "the longest block for repeat offenders (default 604800, 7 days)",
    },
    Setting {
        key: "response.allow",
        env: "VEILIG_RESPONSE_ALLOW",
        flag: "",
        doc: "networks that are never blocked, comma-separated, besides those on the Blocks page (default none)",
    },
    Setting {
        key: "response.nftables",
        env: "VEILIG_RESPONSE_NFTABLES",
        flag: "",
        doc: "enforce blocks on this host in the nftables table inet veilig_block: true or false (default false; needs root)",
    },
    Setting {
        key: "response.end_vpn_sessions",
        env: "VEILIG_RESPONSE_END_VPN_SESSIONS",
        flag: "",
        doc: "a high or critical alert about a VPN device or user ends that user's VPN session: true or false (default true)",
    },
    Setting {
        key: "response.retention_days",
        env: "VEILIG_RESPONSE_RETENTION_DAYS",
        flag: "",
        doc: "how long ended blocks (addresses are personal data) are kept (default 90)",
    },
    Setting {
        key: "devices.agent_listen",
        env: "VEILIG_DEVICES_AGENT_LISTEN",
        flag: "",
        doc: "address:port of the device agents' endpoint (mutual TLS with the device CA), such as 0.0.0.0:8444 (default off)",
    },
    Setting {
        key: "devices.agent_url",
        env: "VEILIG_DEVICES_AGENT_URL",
        flag: "",
        doc: "the https:// address agents report to (default the public_url host with the agent_listen port)",
    },
    Setting {
        key: "devices.token_hours",
        env: "VEILIG_DEVICES_TOKEN_HOURS",
        flag: "",
        doc: "how long a one-time enrolment token stays valid (default 24)",
    },
    Setting {
        key: "devices.cert_days",
        env: "VEILIG_DEVICES_CERT_DAYS",
        flag: "",
        doc: "how long a device certificate stays valid before the device enrols again (default 365)",
    },
    Setting { key: "log.format", env: "VEILIG_LOG_FORMAT", flag: "--log-format", doc: "text or json (default text)" },
    Setting {
        key: "log.level",
        env: "VEILIG_LOG_LEVEL",
        flag: "--log-level",
        doc: "error, warn, info, debug or trace, or a tracing filter (default info)",
    },
];

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub public_url: String,
    pub database: DatabaseConfig,
    pub tls: Option<TlsConfig>,
    pub behind_proxy: Vec<IpNet>,
    pub language: Lang,
    pub max_body_bytes: usize,
    pub shutdown_grace: Duration,
    pub log: LogConfig,
    pub identity: IdentityConfig,
    /// Outgoing mail; `None` when no mail server is configured.
    pub smtp: Option<SmtpConfig>,
    /// Where the syslog listeners listen; `None` is off.
    pub syslog_udp: Option<SocketAddr>,
    pub syslog_tcp: Option<SocketAddr>,
    pub syslog_tls: Option<SocketAddr>,
    /// Log files followed through rotation and truncation, with a checkpoint.
    pub log_files: Vec<PathBuf>,
    /// A folder of the administrator's detection rules.
    pub rules_dir: Option<PathBuf>,
    /// Country databases for the GeoIP rules.
    pub geoip: Vec<PathBuf>,
    /// Hour (UTC) of the daily digest; `None` is off.
    pub digest_hour: Option<u8>,
    /// Imported address lists: (name, file).
    pub lists: Vec<(String, PathBuf)>,
    pub vpn: VpnConfig,
    pub response: ResponseConfig,
    pub phishing: PhishingConfig,
    pub pseudo: PseudoConfig,
    pub devices: DevicesConfig,
    /// The configuration file that was read, if any.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    pub max_connections: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityConfig {
    pub organisation: String,
    pub session_idle: Duration,
    pub session_max: Duration,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub from: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    StartTls,
    Tls,
    None,
}

/// The WireGuard gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpnConfig {
    pub enabled: bool,
    pub listen_port: u16,
    pub interface: String,
    pub pool: ipnet::Ipv4Net,
    pub networks: Vec<IpNet>,
    pub dns: Vec<std::net::IpAddr>,
    /// `host:port` as written into the devices' configurations.
    pub endpoint: String,
    pub session_max: Duration,
    pub idle: Duration,
    pub data_plane: DataPlaneKind,
    pub retention: Duration,
}

/// The pseudonymiser's AI-chat gateway.
#[derive(Debug, Clone, Default)]
pub struct PseudoConfig {
    /// The upstream chat service; `None` when the gateway is off.
    pub llm: Option<LlmConfig>,
    /// The content of `terms_file`: values the page, the API and the gateway always hide.
    pub terms_csv: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// Base URL without a trailing slash; `/chat/completions` is added.
    pub url: String,
    pub api_key: Option<SecretString>,
    pub model: Option<String>,
    pub timeout: Duration,
}

/// The phishing desk.
#[derive(Debug, Clone)]
pub struct PhishingConfig {
    /// The report mailbox; `None` when none is configured.
    pub imap: Option<ImapConfig>,
    pub org_domains: Vec<String>,
    pub retention: Duration,
    pub idle: Duration,
    /// Verify DKIM signatures of reported mail against DNS.
    pub verify_dkim: bool,
    /// The resolver for those checks; `None` is the system's.
    pub dns_server: Option<SocketAddr>,
}

#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub tls: ImapTls,
    pub username: String,
    pub password: SecretString,
    pub mailbox: String,
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapTls {
    Tls,
    StartTls,
    None,
}

/// Device compliance: the agents' endpoint and the lifetimes of tokens and certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicesConfig {
    /// Where the agent endpoint listens; `None`: off (no enrolment, no reports).
    pub agent_listen: Option<SocketAddr>,
    /// The address agents report to, `https://host:port`; set when `agent_listen` is.
    pub agent_url: Option<String>,
    pub token_hours: u64,
    pub cert_days: u64,
}

/// Monitoring's response: which alerts block their source, for how long, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseConfig {
    /// `low`, `medium`, `high` or `critical`; `None` is off.
    pub block_severity: Option<String>,
    pub block_secs: u64,
    pub block_max_secs: u64,
    pub allow: Vec<IpNet>,
    pub nftables: bool,
    pub end_vpn_sessions: bool,
    pub retention: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataPlaneKind {
    Auto,
    Userspace,
    Kernel,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// One invalid setting: where it came from, which key, and why it is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub origin: String,
    pub key: String,
    pub why: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.origin, self.key, self.why)
    }
}

/// Every problem found, in the order the settings are listed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} invalid setting(s):\n{}", .problems.len(), .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors {
    pub problems: Vec<Problem>,
}

impl Config {
    /// Builds the configuration from the layers. `file` is the configuration file's path and
    /// text when one was given or found.
    pub fn load(overrides: &Overrides, file: Option<(&Path, &str)>) -> Result<Config, ConfigErrors> {
        let mut layers = Layers::new(overrides, file);

        let data_dir = layers.get("server.data", |s| non_empty(s).map(PathBuf::from)).unwrap_or_else(|| PathBuf::from("veilig-data"));
        let listen = layers
            .get("server.listen", |s| {
                s.trim()
                    .parse::<SocketAddr>()
                    .map_err(|_| format!("'{s}' is not an address with a port, such as 127.0.0.1:8080 or [::]:443"))
            })
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let public_url = layers.get("server.public_url", parse_public_url);
        let tls_cert = layers.get("server.tls_cert", existing_file);
        let tls_key = layers.get("server.tls_key", existing_file);
        let behind_proxy = layers.get("server.behind_proxy", parse_networks).unwrap_or_default();
        let language = layers
            .get("server.language", |s| Lang::parse(s).ok_or_else(|| format!("'{s}' is not a supported language; use nl or en")))
            .unwrap_or_default();
        let max_body_bytes =
            layers.get("server.max_body_bytes", |s| parse_in_range(s, 1024, 1 << 30)).map(|n| n as usize).unwrap_or(1 << 20);
        let shutdown_grace = layers
            .get("server.shutdown_grace_secs", |s| parse_in_range(s, 0, 3600))
            .map(Duration::from_secs)
            .unwrap_or(Duration::from_secs(20));
        let url = layers.get("database.url", parse_database_url);
        let url_file = layers.get("database.url_file", |s| {
            let path = existing_file(s)?;
            let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            parse_database_url(text.trim())
        });
        let max_connections = layers.get("database.max_connections", |s| parse_in_range(s, 1, 512)).map(|n| n as u32).unwrap_or(8);
        let log_format = layers
            .get("log.format", |s| match s.trim() {
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                other => Err(format!("'{other}' is not a log format; use text or json")),
            })
            .unwrap_or(LogFormat::Text);
        let log_level = layers.get("log.level", |s| non_empty(s).map(str::to_owned)).unwrap_or_else(|| "info".to_owned());

        let organisation = layers
            .get("identity.organisation", |s| {
                let s = non_empty(s)?;
                if s.chars().count() > 100 { Err("use at most 100 characters".to_owned()) } else { Ok(s.to_owned()) }
            })
            .unwrap_or_else(|| "Veilig".to_owned());
        let session_idle = layers
            .get("identity.session_idle_minutes", |s| parse_in_range(s, 1, 24 * 60))
            .map(|m| Duration::from_secs(m * 60))
            .unwrap_or(Duration::from_secs(30 * 60));
        let session_max = layers
            .get("identity.session_max_hours", |s| parse_in_range(s, 1, 24 * 30))
            .map(|h| Duration::from_secs(h * 3600))
            .unwrap_or(Duration::from_secs(12 * 3600));

        let smtp_host = layers.get("smtp.host", |s| {
            let s = non_empty(s)?;
            if s.contains(char::is_whitespace) || s.contains('/') {
                Err("a host name or address, such as mail.gemeente.nl".to_owned())
            } else {
                Ok(s.to_owned())
            }
        });
        let smtp_tls = layers
            .get("smtp.tls", |s| match s.trim() {
                "starttls" => Ok(SmtpTls::StartTls),
                "tls" => Ok(SmtpTls::Tls),
                "none" => Ok(SmtpTls::None),
                other => Err(format!("'{other}' is not starttls, tls or none")),
            })
            .unwrap_or(SmtpTls::StartTls);
        let smtp_port = layers.get("smtp.port", |s| parse_in_range(s, 1, 65535)).map(|p| p as u16);
        let smtp_username = layers.get("smtp.username", |s| non_empty(s).map(str::to_owned));
        let smtp_password = layers.get("smtp.password_file", |s| {
            let path = existing_file(s)?;
            std::fs::read_to_string(&path)
                .map(|t| SecretString::from(t.trim_end_matches(['\n', '\r']).to_owned()))
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        });
        let smtp_from = layers.get("smtp.from", |s| {
            let s = non_empty(s)?;
            if s.contains('@') && !s.contains(['\r', '\n']) {
                Ok(s.to_owned())
            } else {
                Err("an address such as Veilig <veilig@gemeente.nl>".to_owned())
            }
        });

        // Settings that are only wrong together.
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some(TlsConfig { cert, key }),
            (None, None) => None,
            (Some(_), None) => {
                layers.problem_from("server.tls_key", "server.tls_cert", "tls_cert is set but tls_key is not; give both or neither");
                None
            }
            (None, Some(_)) => {
                layers.problem_from("server.tls_cert", "server.tls_key", "tls_key is set but tls_cert is not; give both or neither");
                None
            }
        };
        if tls.is_none() && behind_proxy.is_empty() && !listen.ip().is_loopback() && layers.is_clean("server.tls_cert") {
            layers.problem(
                "server.listen",
                &format!("refusing to serve {listen} without TLS: give tls_cert and tls_key, or behind_proxy with the proxy's network, or listen on 127.0.0.1"),
            );
        }
        let url = match (url, url_file) {
            (Some(_), Some(_)) => {
                layers.problem("database.url_file", "both database.url and database.url_file are set; give one");
                None
            }
            (Some(url), None) | (None, Some(url)) => Some(url),
            (None, None) => None,
        };
        let url = url.unwrap_or_else(|| format!("sqlite:{}", data_dir.join("veilig.db").display()));
        let public_url = public_url.unwrap_or_else(|| {
            let scheme = if tls.is_some() { "https" } else { "http" };
            format!("{scheme}://{listen}")
        });

        let syslog_addr =
            |s: &str| s.trim().parse::<SocketAddr>().map_err(|_| format!("'{s}' is not an address with a port, such as 0.0.0.0:514"));
        let syslog_udp = layers.get("monitor.syslog_udp", syslog_addr);
        let syslog_tcp = layers.get("monitor.syslog_tcp", syslog_addr);
        let syslog_tls = layers.get("monitor.syslog_tls", syslog_addr);
        if syslog_tls.is_some() && tls.is_none() && layers.is_clean("server.tls_cert") {
            layers
                .problem("monitor.syslog_tls", "syslog over TLS uses the portal's certificate: set server.tls_cert and server.tls_key too");
        }
        let log_files = layers
            .get("monitor.files", |s| parse_paths(s, Path::is_absolute, "is not an absolute path, such as /var/log/ufw.log"))
            .unwrap_or_default();
        let rules_dir = layers.get("monitor.rules", |s| {
            let p = PathBuf::from(s.trim());
            if p.is_dir() { Ok(p) } else { Err(format!("'{s}' is not a folder")) }
        });
        let geoip =
            layers.get("monitor.geoip", |s| parse_paths(s, Path::is_file, "is not a file (a .mmdb country database)")).unwrap_or_default();
        let lists = layers
            .get("monitor.lists", |s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(parse_list_spec)
                    .map(|r| r.and_then(|(n, p)| if p.is_file() { Ok((n, p)) } else { Err(format!("'{}' is not a file", p.display())) }))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap_or_default();
        let digest_hour = layers
            .get("monitor.digest_hour", |s| match s.trim() {
                "off" => Ok(None),
                h => h.parse::<u8>().ok().filter(|h| *h < 24).map(Some).ok_or_else(|| format!("'{h}' is not an hour from 0 to 23, or off")),
            })
            .unwrap_or(Some(7));
        let vpn = load_vpn(&mut layers, &public_url);
        let response = load_response(&mut layers);
        let phishing = load_phishing(&mut layers);
        let pseudo = load_pseudo(&mut layers);
        let devices = load_devices(&mut layers, &public_url);
        let smtp = match smtp_host {
            Some(host) => {
                let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
                if smtp_tls == SmtpTls::None && !loopback {
                    layers.problem("smtp.tls", "none is only allowed for a mail server on this machine (127.0.0.1); use starttls or tls");
                }
                let from = smtp_from.unwrap_or_else(|| {
                    layers.problem("smtp.from", "set the sender address when smtp.host is set");
                    String::new()
                });
                let port = smtp_port.unwrap_or(match smtp_tls {
                    SmtpTls::StartTls => 587,
                    SmtpTls::Tls => 465,
                    SmtpTls::None => 25,
                });
                Some(SmtpConfig { host, port, tls: smtp_tls, username: smtp_username, password: smtp_password, from })
            }
            None => None,
        };

        let file = layers.file_path.map(Path::to_path_buf);
        layers.check_unknown_keys();
        if !layers.problems.is_empty() {
            return Err(ConfigErrors { problems: layers.problems });
        }
        Ok(Config {
            data_dir,
            listen,
            public_url,
            database: DatabaseConfig { url: SecretString::from(url), max_connections },
            tls,
            behind_proxy,
            language,
            max_body_bytes,
            shutdown_grace,
            log: LogConfig { format: log_format, level: log_level },
            identity: IdentityConfig { organisation, session_idle, session_max },
            smtp,
            syslog_udp,
            syslog_tcp,
            syslog_tls,
            log_files,
            rules_dir,
            geoip,
            digest_hour,
            lists,
            vpn,
            response,
            phishing,
            pseudo,
            devices,
            file,
        })
    }

    /// `sqlite` or `postgres`, for display; never the URL itself, which may hold a password.
    pub fn database_kind(&self) -> &'static str {
        if self.database.url.expose_secret().starts_with("sqlite:") { "sqlite" } else { "postgres" }
    }
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        other => Err(format!("'{other}' is not true or false")),
    }
}

fn load_devices(layers: &mut Layers<'_>, public_url: &str) -> DevicesConfig {
    let agent_listen = layers.get("devices.agent_listen", |s| {
        s.trim().parse::<SocketAddr>().map_err(|_| format!("'{s}' is not an address with a port, such as 0.0.0.0:8444"))
    });
    let url = layers.get("devices.agent_url", |s| {
        let s = parse_public_url(s)?;
        if s.starts_with("https://") { Ok(s) } else { Err("must start with https:// (the endpoint always uses TLS)".to_owned()) }
    });
    let token_hours = layers.get("devices.token_hours", |s| parse_in_range(s, 1, 24 * 30)).unwrap_or(24);
    let cert_days = layers.get("devices.cert_days", |s| parse_in_range(s, 1, 3650)).unwrap_or(365);
    if url.is_some() && agent_listen.is_none() && layers.is_clean("devices.agent_listen") {
        layers.problem("devices.agent_url", "set devices.agent_listen too: the endpoint needs an address to listen on");
    }
    let agent_url = agent_listen.map(|addr| {
        url.unwrap_or_else(|| {
            let rest = public_url.split_once("://").map(|(_, r)| r).unwrap_or(public_url);
            let authority = rest.split('/').next().unwrap_or(rest);
            let host = if authority.starts_with('[') {
                authority.split_inclusive(']').next().unwrap_or(authority)
            } else {
                authority.split(':').next().unwrap_or(authority)
            };
            format!("https://{host}:{}", addr.port())
        })
    });
    DevicesConfig { agent_listen, agent_url, token_hours, cert_days }
}

fn load_pseudo(layers: &mut Layers<'_>) -> PseudoConfig {
    let url = layers.get("pseudo.llm_url", |s| {
        let s = parse_public_url(s)?;
        let host = s.split("://").nth(1).unwrap_or("").split(['/', ':']).next().unwrap_or("");
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()) || s.contains("://[::1]");
        if s.starts_with("http://") && !loopback {
            return Err("must start with https:// (http:// only for a service on this machine)".to_owned());
        }
        Ok(s)
    });
    let api_key = layers.get("pseudo.llm_api_key_file", |s| {
        let path = existing_file(s)?;
        std::fs::read_to_string(&path)
            .map(|t| SecretString::from(t.trim().to_owned()))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
    });
    let model = layers.get("pseudo.llm_model", |s| {
        let s = non_empty(s)?;
        if s.len() > 200 || s.contains(char::is_control) { Err("a model name".to_owned()) } else { Ok(s.to_owned()) }
    });
    let timeout =
        layers.get("pseudo.llm_timeout_secs", |s| parse_in_range(s, 1, 3600)).map(Duration::from_secs).unwrap_or(Duration::from_secs(120));
    let terms_csv = layers.get("pseudo.terms_file", |s| {
        let path = existing_file(s)?;
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if text.len() > 20 << 20 {
            return Err("the term list is larger than 20 MB".to_owned());
        }
        Ok(text)
    });
    PseudoConfig { llm: url.map(|url| LlmConfig { url, api_key, model, timeout }), terms_csv }
}

fn load_phishing(layers: &mut Layers<'_>) -> PhishingConfig {
    let host = layers.get("phishing.imap_host", |s| {
        let s = non_empty(s)?;
        if s.contains(char::is_whitespace) || s.contains('/') {
            Err("a host name or address, such as imap.gemeente.nl".to_owned())
        } else {
            Ok(s.to_owned())
        }
    });
    let tls = layers
        .get("phishing.imap_tls", |s| match s.trim() {
            "tls" => Ok(ImapTls::Tls),
            "starttls" => Ok(ImapTls::StartTls),
            "none" => Ok(ImapTls::None),
            other => Err(format!("'{other}' is not tls, starttls or none")),
        })
        .unwrap_or(ImapTls::Tls);
    let port = layers.get("phishing.imap_port", |s| parse_in_range(s, 1, 65535)).map(|p| p as u16);
    let username = layers.get("phishing.imap_username", |s| non_empty(s).map(str::to_owned));
    let password = layers.get("phishing.imap_password_file", |s| {
        let path = existing_file(s)?;
        std::fs::read_to_string(&path)
            .map(|t| SecretString::from(t.trim_end_matches(['\n', '\r']).to_owned()))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
    });
    let mailbox = layers
        .get("phishing.imap_mailbox", |s| {
            let s = non_empty(s)?;
            if s.contains(['\r', '\n', '"']) { Err("a folder name without quotes or line breaks".to_owned()) } else { Ok(s.to_owned()) }
        })
        .unwrap_or_else(|| "INBOX".to_owned());
    let ca_file = layers.get("phishing.imap_ca_file", existing_file);
    let org_domains = layers
        .get("phishing.org_domains", |s| {
            let domains: Vec<String> = s.split(',').map(|d| d.trim().to_ascii_lowercase()).filter(|d| !d.is_empty()).collect();
            match domains.iter().find(|d| !d.contains('.') || d.contains(|c: char| c.is_whitespace() || c == '@' || c == '/')) {
                Some(bad) => Err(format!("'{bad}' is not a domain such as gemeente.nl")),
                None => Ok(domains),
            }
        })
        .unwrap_or_default();
    let retention = layers
        .get("phishing.retention_days", |s| parse_in_range(s, 1, 3650))
        .map(|d| Duration::from_secs(d * 86_400))
        .unwrap_or(Duration::from_secs(365 * 86_400));
    let verify_dkim = layers.get("phishing.verify_dkim", parse_bool).unwrap_or(false);
    let dns_server = layers.get("phishing.dns_server", |s| {
        s.trim().parse::<SocketAddr>().map_err(|_| format!("'{s}' is not an address and port such as 127.0.0.1:53"))
    });
    let idle =
        layers.get("phishing.idle_secs", |s| parse_in_range(s, 5, 1740)).map(Duration::from_secs).unwrap_or(Duration::from_secs(300));
    let imap = match host {
        Some(host) => {
            let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if tls == ImapTls::None && !loopback {
                layers.problem("phishing.imap_tls", "none is only allowed for a server on this machine (127.0.0.1); use tls or starttls");
            }
            let username = username.unwrap_or_else(|| {
                layers.problem("phishing.imap_username", "set the report mailbox's user name when phishing.imap_host is set");
                String::new()
            });
            let password = password.unwrap_or_else(|| {
                layers.problem("phishing.imap_password_file", "set the password file when phishing.imap_host is set");
                SecretString::from(String::new())
            });
            let port = port.unwrap_or(if tls == ImapTls::Tls { 993 } else { 143 });
            Some(ImapConfig { host, port, tls, username, password, mailbox, ca_file })
        }
        None => None,
    };
    // Without domains given, the report mailbox's own domain is the organisation's.
    let org_domains = if org_domains.is_empty() {
        imap.as_ref().and_then(|i| i.username.rsplit_once('@')).map(|(_, d)| vec![d.to_ascii_lowercase()]).unwrap_or_default()
    } else {
        org_domains
    };
    PhishingConfig { imap, org_domains, retention, idle, verify_dkim, dns_server }
}

fn load_response(layers: &mut Layers<'_>) -> ResponseConfig {
    let block_severity = layers
        .get("response.block_severity", |s| match s.trim() {
            "off" => Ok(None),
            v @ ("low" | "medium" | "high" | "critical") => Ok(Some(v.to_owned())),
            other => Err(format!("'{other}' is not low, medium, high, critical or off")),
        })
        .unwrap_or_else(|| Some("high".to_owned()));
    let block_secs = layers.get("response.block_secs", |s| parse_in_range(s, 60, 365 * 86_400)).unwrap_or(4 * 3600);
    let block_max_secs = layers.get("response.block_max_secs", |s| parse_in_range(s, 60, 365 * 86_400)).unwrap_or(7 * 86_400);
    if block_max_secs < block_secs {
        layers.problem("response.block_max_secs", &format!("{block_max_secs} is shorter than response.block_secs ({block_secs})"));
    }
    let allow = layers.get("response.allow", parse_networks).unwrap_or_default();
    let nftables = layers.get("response.nftables", parse_bool).unwrap_or(false);
    let end_vpn_sessions = layers.get("response.end_vpn_sessions", parse_bool).unwrap_or(true);
    let retention = layers
        .get("response.retention_days", |s| parse_in_range(s, 1, 3650))
        .map(|d| Duration::from_secs(d * 86_400))
        .unwrap_or(Duration::from_secs(90 * 86_400));
    ResponseConfig { block_severity, block_secs, block_max_secs, allow, nftables, end_vpn_sessions, retention }
}

fn load_vpn(layers: &mut Layers<'_>, public_url: &str) -> VpnConfig {
    let enabled = layers.get("vpn.enabled", parse_bool).unwrap_or(false);
    let listen_port = layers.get("vpn.listen_port", |s| parse_in_range(s, 1, 65535)).map(|p| p as u16).unwrap_or(51820);
    let interface = layers
        .get("vpn.interface", |s| {
            let s = s.trim();
            if !s.is_empty() && s.len() <= 15 && s.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
                Ok(s.to_owned())
            } else {
                Err(format!("'{s}' is not an interface name: 1 to 15 letters, digits, '_', '.' or '-'"))
            }
        })
        .unwrap_or_else(|| "veilig0".to_owned());
    let pool = layers
        .get("vpn.pool", |s| {
            let net: ipnet::Ipv4Net = s.trim().parse().map_err(|_| format!("'{s}' is not an IPv4 network such as 10.13.0.0/24"))?;
            if net.prefix_len() > 30 {
                return Err("the pool needs room for the gateway and devices: use a /30 or larger".to_owned());
            }
            Ok(net.trunc())
        })
        .unwrap_or_else(|| ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(10, 13, 0, 0), 24).unwrap_or_default());
    let networks = layers.get("vpn.networks", parse_networks).unwrap_or_default();
    let dns = layers
        .get("vpn.dns", |s| {
            s.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| p.parse::<std::net::IpAddr>().map_err(|_| format!("'{p}' is not an IP address")))
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap_or_default();
    let endpoint = layers.get("vpn.endpoint", |s| {
        let s = s.trim();
        match s.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) && !s.contains(char::is_whitespace) => {
                Ok(s.to_owned())
            }
            _ => Err(format!("'{s}' is not host:port, such as vpn.gemeente.nl:51820")),
        }
    });
    let endpoint = endpoint.unwrap_or_else(|| {
        let host = public_url.split("://").nth(1).unwrap_or(public_url).split('/').next().unwrap_or_default();
        let host = match host.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
            _ => host,
        };
        format!("{host}:{listen_port}")
    });
    let session_max = layers
        .get("vpn.session_max_secs", |s| parse_in_range(s, 1, 7 * 24 * 3600))
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(36_000));
    let idle =
        layers.get("vpn.idle_secs", |s| parse_in_range(s, 1, 7 * 24 * 3600)).map(Duration::from_secs).unwrap_or(Duration::from_secs(900));
    let data_plane = layers
        .get("vpn.data_plane", |s| match s.trim() {
            "auto" => Ok(DataPlaneKind::Auto),
            "userspace" => Ok(DataPlaneKind::Userspace),
            "kernel" => Ok(DataPlaneKind::Kernel),
            other => Err(format!("'{other}' is not auto, userspace or kernel")),
        })
        .unwrap_or(DataPlaneKind::Auto);
    let retention = layers
        .get("vpn.retention_days", |s| parse_in_range(s, 1, 3650))
        .map(|d| Duration::from_secs(d * 86_400))
        .unwrap_or(Duration::from_secs(90 * 86_400));
    if enabled && networks.is_empty() && layers.is_clean("vpn.networks") {
        layers.problem("vpn.networks", "name the internal networks behind the gateway, such as 10.20.0.0/16, when the VPN is on");
    }
    for n in &networks {
        if let IpNet::V4(v4) = n
            && (v4.contains(&pool) || pool.contains(v4))
        {
            layers.problem("vpn.networks", &format!("{n} overlaps the tunnel address pool {pool}"));
        }
    }
    VpnConfig { enabled, listen_port, interface, pool, networks, dns, endpoint, session_max, idle, data_plane, retention }
}

/// Looks up each setting in the layers, highest first, and collects problems.
struct Layers<'a> {
    overrides: BTreeMap<&'static str, &'a str>,
    file_path: Option<&'a Path>,
    file: Option<toml::Table>,
    problems: Vec<Problem>,
}

impl<'a> Layers<'a> {
    fn new(o: &'a Overrides, file: Option<(&'a Path, &'a str)>) -> Self {
        let given = [
            ("server.data", &o.data),
            ("server.listen", &o.listen),
            ("server.public_url", &o.public_url),
            ("server.tls_cert", &o.tls_cert),
            ("server.tls_key", &o.tls_key),
            ("server.behind_proxy", &o.behind_proxy),
            ("server.language", &o.language),
            ("database.url", &o.database_url),
            ("database.url_file", &o.database_url_file),
            ("log.format", &o.log_format),
            ("log.level", &o.log_level),
            ("monitor.syslog_udp", &o.syslog_udp),
            ("monitor.syslog_tcp", &o.syslog_tcp),
            ("monitor.syslog_tls", &o.syslog_tls),
            ("monitor.files", &o.log_files),
        ];
        let overrides = given.into_iter().filter_map(|(k, v)| v.as_deref().map(|v| (k, v))).collect();
        let mut problems = Vec::new();
        let table = file.and_then(|(path, text)| match text.parse::<toml::Table>() {
            Ok(table) => Some(table),
            Err(e) => {
                problems.push(Problem {
                    origin: path.display().to_string(),
                    key: "(file)".to_owned(),
                    why: format!("not valid TOML: {}", e.message()),
                });
                None
            }
        });
        Layers { overrides, file_path: file.map(|(p, _)| p), file: table, problems }
    }

    fn origin_of_override(key: &str) -> String {
        SETTINGS
            .iter()
            .find(|s| s.key == key)
            .map(|s| if s.flag.is_empty() { s.env.to_owned() } else { format!("{} / {}", s.flag, s.env) })
            .unwrap_or_else(|| key.to_owned())
    }

    fn file_value(&mut self, key: &str) -> Option<Result<String, String>> {
        let table = self.file.as_ref()?;
        let (section, name) = key.split_once('.')?;
        let value = table.get(section)?.as_table()?.get(name)?;
        Some(match value {
            toml::Value::String(s) => Ok(s.clone()),
            toml::Value::Integer(i) => Ok(i.to_string()),
            toml::Value::Boolean(b) => Ok(b.to_string()),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| "expected a list of strings".to_owned()))
                .collect::<Result<Vec<_>, _>>()
                .map(|v| v.join(",")),
            _ => Err("expected a string or a number".to_owned()),
        })
    }

    /// Returns the value of `key` from the highest layer that has it, parsed; records a problem
    /// (and returns `None`) when it does not parse.
    fn get<T>(&mut self, key: &'static str, parse: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let env_only = SETTINGS.iter().find(|s| s.key == key).map(|s| s.env);
        let env_value =
            env_only.filter(|_| SETTINGS.iter().any(|s| s.key == key && s.flag.is_empty())).and_then(|env| std::env::var(env).ok());
        let (origin, raw) = if let Some(v) = self.overrides.get(key) {
            (Self::origin_of_override(key), Ok((*v).to_owned()))
        } else if let Some(v) = env_value {
            (Self::origin_of_override(key), Ok(v))
        } else if let Some(v) = self.file_value(key) {
            (self.file_path.map(|p| p.display().to_string()).unwrap_or_default(), v)
        } else {
            return None;
        };
        match raw.and_then(|raw| parse(&raw)) {
            Ok(v) => Some(v),
            Err(why) => {
                self.problems.push(Problem { origin, key: key.to_owned(), why });
                None
            }
        }
    }

    fn problem(&mut self, key: &str, why: &str) {
        self.problem_from(key, key, why);
    }

    /// Records a problem with `key` whose value came from where `given` came from.
    fn problem_from(&mut self, key: &str, given: &str, why: &str) {
        let origin = if self.overrides.contains_key(given) {
            Self::origin_of_override(given)
        } else {
            self.file_path.map(|p| p.display().to_string()).unwrap_or_else(|| "settings".to_owned())
        };
        self.problems.push(Problem { origin, key: key.to_owned(), why: why.to_owned() });
    }

    fn is_clean(&self, key: &str) -> bool {
        !self.problems.iter().any(|p| p.key == key)
    }

    fn check_unknown_keys(&mut self) {
        let Some(table) = self.file.take() else { return };
        let origin = self.file_path.map(|p| p.display().to_string()).unwrap_or_default();
        for (section, value) in &table {
            let Some(inner) = value.as_table() else {
                self.problems.push(Problem { origin: origin.clone(), key: section.clone(), why: "expected a [section]".to_owned() });
                continue;
            };
            for name in inner.keys() {
                let key = format!("{section}.{name}");
                if !SETTINGS.iter().any(|s| s.key == key) {
                    self.problems.push(Problem { origin: origin.clone(), key, why: "unknown setting".to_owned() });
                }
            }
        }
    }
}

fn non_empty(s: &str) -> Result<&str, String> {
    let s = s.trim();
    if s.is_empty() { Err("must not be empty".to_owned()) } else { Ok(s) }
}

fn existing_file(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(non_empty(s)?);
    if path.is_file() { Ok(path) } else { Err(format!("{} does not exist or is not a file", path.display())) }
}

fn parse_in_range(s: &str, min: u64, max: u64) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("'{s}' is not a whole number from {min} to {max}")),
    }
}

/// `NAME=FILE` or `FILE` (named by its stem): an imported address list for the rules.
pub fn parse_list_spec(spec: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = match spec.split_once('=') {
        Some((n, p)) => (n.trim().to_owned(), PathBuf::from(p.trim())),
        None => {
            let p = PathBuf::from(spec.trim());
            (p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(), p)
        }
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(format!("'{spec}' needs a list name of letters, digits, '_' or '-' (NAME=FILE)"));
    }
    Ok((name, path))
}

/// A comma-separated list of paths, each passing `ok` (else: `'PATH' why`).
fn parse_paths(s: &str, ok: impl Fn(&Path) -> bool, why: &str) -> Result<Vec<PathBuf>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let path = PathBuf::from(p);
            if ok(&path) { Ok(path) } else { Err(format!("'{p}' {why}")) }
        })
        .collect()
}

fn parse_networks(s: &str) -> Result<Vec<IpNet>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("'{p}' is not a network such as 10.0.0.0/8 or an address"))
        })
        .collect()
}

fn parse_public_url(s: &str) -> Result<String, String> {
    let s = non_empty(s)?.trim_end_matches('/');
    if (s.starts_with("https://") || s.starts_with("http://")) && !s.contains(char::is_whitespace) {
        Ok(s.to_owned())
    } else {
        Err("must start with https:// (or http:// for loopback)".to_owned())
    }
}

fn parse_database_url(s: &str) -> Result<String, String> {
    let s = non_empty(s)?;
    if s.starts_with("sqlite:") || s.starts_with("postgres://") || s.starts_with("postgresql://") {
        Ok(s.to_owned())
    } else {
        // Never echo the value: it may hold a password.
        Err("must start with sqlite: or postgres://".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(o: Overrides, file: Option<&str>) -> Result<Config, ConfigErrors> {
        Config::load(&o, file.map(|t| (Path::new("veilig.toml"), t)))
    }

    #[test]
    fn defaults_are_safe() {
        let c = load(Overrides::default(), None).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("veilig-data"));
        assert_eq!(c.database.url.expose_secret(), "sqlite:veilig-data/veilig.db");
        assert!(c.tls.is_none());
        assert_eq!(c.language, Lang::Nl);
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn flags_win_over_the_file() {
        let file = "[server]\nlisten = \"127.0.0.1:9000\"\ndata = \"/tmp/a\"\n[log]\nformat = \"json\"\n";
        let o = Overrides { listen: Some("127.0.0.1:9100".into()), ..Default::default() };
        let c = load(o, Some(file)).unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.data_dir, PathBuf::from("/tmp/a"));
        assert_eq!(c.log.format, LogFormat::Json);
    }

    #[test]
    fn monitoring_inputs_and_response_are_checked() {
        let file = "[monitor]\nsyslog_tls = \"127.0.0.1:6514\"\ngeoip = [\"/nonexistent/countries.mmdb\"]\ndigest_hour = 25\nlists = [\"bad name=/etc/hosts\"]\nfiles = [\"/var/log/ufw.log\", \"auth.log\"]\n[response]\nblock_severity = \"urgent\"\nblock_secs = 7200\nblock_max_secs = 3600\nallow = [\"192.0.2.0/24\", \"kantoor\"]\nnftables = \"ja\"\n";
        let text = load(Overrides::default(), Some(file)).unwrap_err().to_string();
        for needle in [
            "monitor.syslog_tls",
            "'/nonexistent/countries.mmdb' is not a file",
            "'25' is not an hour",
            "needs a list name",
            "'auth.log' is not an absolute path",
            "response.block_severity",
            "response.block_max_secs",
            "'kantoor'",
            "response.nftables",
        ] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
        let ok = "[monitor]\nfiles = [\"/var/log/ufw.log\"]\n[response]\nblock_severity = \"off\"\nallow = [\"192.0.2.0/24\"]\nnftables = true\n";
        let c = load(Overrides::default(), Some(ok)).unwrap();
        assert_eq!(c.log_files, [PathBuf::from("/var/log/ufw.log")]);
        assert_eq!((c.response.block_severity, c.response.nftables, c.response.allow.len()), (None, true, 1));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let file = "[server]\nlisten = \"nope\"\nlanguage = \"fr\"\nbogus = 1\nmax_body_bytes = 5\n[log]\nformat = \"xml\"\n[database]\nurl = \"mysql://u:secret@h/db\"\n";
        let err = load(Overrides::default(), Some(file)).unwrap_err();
        let text = err.to_string();
        expect_test::expect![[r#"
            6 invalid setting(s):
              - veilig.toml: server.listen: 'nope' is not an address with a port, such as 127.0.0.1:8080 or [::]:443
              - veilig.toml: server.language: 'fr' is not a supported language; use nl or en
              - veilig.toml: server.max_body_bytes: '5' is not a whole number from 1024 to 1073741824
              - veilig.toml: database.url: must start with sqlite: or postgres://
              - veilig.toml: log.format: 'xml' is not a log format; use text or json
              - veilig.toml: server.bogus: unknown setting"#]]
        .assert_eq(&text);
        assert!(!text.contains("secret"), "a database password must never be echoed");
    }

    #[test]
    fn public_address_needs_tls_or_a_proxy() {
        let o = Overrides { listen: Some("0.0.0.0:8443".into()), ..Default::default() };
        let err = load(o.clone(), None).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert_eq!(err.problems[0].key, "server.listen");
        let behind = Overrides { behind_proxy: Some("10.0.0.0/8, 192.0.2.1".into()), ..o };
        let c = load(behind, None).unwrap();
        assert_eq!(c.behind_proxy.len(), 2);
    }

    #[test]
    fn half_a_tls_setting_is_refused() {
        let dir = std::env::temp_dir().join(format!("veilig-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cert = dir.join("cert.pem");
        std::fs::write(&cert, "x").unwrap();
        let o = Overrides { tls_cert: Some(cert.display().to_string()), ..Default::default() };
        let err = load(o, None).unwrap_err();
        assert_eq!(err.problems[0].key, "server.tls_key");
        assert_eq!(err.problems[0].origin, "--tls-cert / VEILIG_TLS_CERT");
    }

    #[test]
    fn broken_toml_is_a_problem_not_a_panic() {
        let err = load(Overrides::default(), Some("[server\nlisten=")).unwrap_err();
        assert_eq!(err.problems[0].key, "(file)");
    }

    #[test]
    fn database_url_from_a_file() {
        let dir = std::env::temp_dir().join(format!("veilig-cfg2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let secret = dir.join("db-url");
        std::fs::write(&secret, "postgres://root@127.0.0.1/test\n").unwrap();
        let o = Overrides { database_url_file: Some(secret.display().to_string()), ..Default::default() };
        let c = load(o, None).unwrap();
        assert_eq!(c.database.url.expose_secret(), "postgres://root@127.0.0.1/test");
        assert_eq!(c.database_kind(), "postgres");
        assert!(!format!("{c:?}").contains("root@"), "Debug must not show the database URL");
    }

    #[test]
    fn example_file_names_every_setting_and_is_valid() {
        let example = include_str!("../../../veilig.example.toml");
        for s in SETTINGS {
            let (_, name) = s.key.split_once('.').unwrap();
            assert!(example.contains(&format!("{name} =")), "veilig.example.toml lacks {}", s.key);
        }
        // Uncommented, the example (with its paths) must at least parse as TOML.
        let uncommented: String =
            example.lines().map(|l| l.strip_prefix("# ").filter(|l| l.contains(" = ")).unwrap_or(l)).collect::<Vec<_>>().join("\n");
        assert!(uncommented.parse::<toml::Table>().is_ok());
    }
}
