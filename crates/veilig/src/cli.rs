//! The command line as data: every flag with its documentation and its environment variable.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use secrecy::ExposeSecret;
use veilig_core::{Config, Overrides};
use veilig_store::{AuditVerdict, Store};

use crate::progress::Progress;

#[derive(Debug, Parser)]
#[command(name = "veilig", version, about = "Veilig: secure home working for employers, as one self-hosted program")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the portal, the API and the enabled services.
    Serve(ServeArgs),
    /// Check the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Work with the audit chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The VPN gateway.
    Vpn {
        #[command(subcommand)]
        command: VpnCommand,
    },
    /// Monitoring of firewall and login logs.
    Monitor {
        #[command(subcommand)]
        command: MonitorCommand,
    },
    /// The phishing desk's analysis.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Pseudonymise personal data in a text (Dutch or English) before it goes to an outside
    /// service, and put the real values back into the answer with --restore.
    Pseudo(PseudoArgs),
    /// The device agent (in progress): check this device's security posture.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
    /// The cloud register: which cloud services the organisation's machines use.
    Cloud {
        #[command(subcommand)]
        command: CloudCommand,
    },
    /// Manage users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum VpnCommand {
    /// Checks from outside which TCP ports of HOST answer, and whether only the portal (and
    /// the WireGuard port) do. Run it only against your own hosts.
    Exposure(ExposureArgs),
}

#[derive(Debug, Args)]
pub struct ExposureArgs {
    /// The organisation's public address (name or IP).
    pub host: String,
    /// TCP ports to try, such as 22,80,443,8000-8100 (default: about 1,100 common ports).
    #[arg(long)]
    pub ports: Option<String>,
    /// The portal's TCP port: the one port that is expected to answer.
    #[arg(long, default_value_t = 443)]
    pub portal_port: u16,
    /// The WireGuard UDP port, checked for an ICMP refusal.
    #[arg(long, default_value_t = 51820)]
    pub wg_port: u16,
    /// How long to wait for each port, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub timeout_ms: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Analyse e-mails (.eml files or folders of them) and print a verdict per message:
    /// phishing, suspicious or clean, with a score and the reasons.
    Check(MailCheckArgs),
}

#[derive(Debug, Clone, Args)]
pub struct MailCheckArgs {
    /// Messages as .eml files (RFC 5322), folders of them, or - for standard input.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// One of the organisation's own mail domains, for display-name and lookalike checks (repeatable).
    #[arg(long = "org-domain", value_name = "DOMAIN")]
    pub org_domains: Vec<String>,
    /// A person of the organisation whose name forgers borrow, such as "Sanne Bakker" (repeatable).
    #[arg(long = "person", value_name = "NAME")]
    pub people: Vec<String>,
    /// Believe Authentication-Results only from this server, the organisation's own MX (repeatable).
    #[arg(long = "authserv-id", value_name = "HOST")]
    pub authserv_ids: Vec<String>,
    /// The language of the explanations: nl or en.
    #[arg(long, default_value = "nl")]
    pub lang: String,
    /// One JSON object per message: {"file", "verdict", "score", "reasons": [{"code", "message"}]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Check this device now (operating system, updates, malware scanner, disk encryption,
    /// firewall, screen lock) and judge it with the default policy.
    Check(AgentCheckArgs),
    /// Enrol this device with the one-time token from the portal: makes a key pair here, sends
    /// a certificate request, and keeps the device certificate and the device CA in --dir.
    Enroll(AgentEnrollArgs),
    /// Report this device's state over mutual TLS now and then every --interval-minutes (or
    /// once, with --once).
    Run(AgentRunArgs),
}

#[derive(Debug, Subcommand)]
pub enum CloudCommand {
    /// Reads DNS query logs (dnsmasq/Pi-hole, Unbound, BIND, Windows DNS debug log), Squid access
    /// logs or Zeek dns.log/ssl.log and prints, per cloud service of the catalog, the queries,
    /// the distinct clients and the first and last time seen; then the unknown domains with the
    /// most queries. Only counts leave: no address or per-person history is printed or kept.
    Discover(CloudDiscoverArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CloudDiscoverArgs {
    /// Log files, or - for standard input.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// auto, dnsmasq, pihole, unbound, bind, windows-dns, squid or zeek.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// The year of time stamps that have none (dnsmasq); default the file's.
    #[arg(long)]
    pub year: Option<i32>,
    /// How many unknown domains to list (those with the most queries).
    #[arg(long, default_value_t = 25)]
    pub unknown: usize,
    /// One JSON object per service, then one per unknown domain, then a summary.
    #[arg(long)]
    pub json: bool,
    /// Give each service's status in this installation's register (read from the database that
    /// --data, --database-url or the configuration names).
    #[arg(long)]
    pub register: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AgentEnrollArgs {
    /// The portal's address, such as https://veilig.example.nl.
    pub url: String,
    /// The one-time enrolment token (also VEILIG_AGENT_TOKEN, which keeps it out of the process list).
    #[arg(long, env = "VEILIG_AGENT_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The agent's folder (default /var/lib/veilig-agent, %ProgramData%\Veilig\agent or
    /// /Library/Application Support/Veilig/agent).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// A CA certificate (PEM) to trust for the portal, when its certificate is not from a public CA.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct AgentRunArgs {
    /// The agent's folder (as for enroll).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Report once and stop (exit code 1 when the report was refused).
    #[arg(long)]
    pub once: bool,
    /// Minutes between reports (1 to 1440).
    #[arg(long, default_value_t = 60)]
    pub interval_minutes: u64,
    /// Where ClamAV keeps its databases.
    #[arg(long, default_value = "/var/lib/clamav", value_name = "DIR")]
    pub clamav_dir: String,
}

#[derive(Debug, Clone, Args)]
pub struct AgentCheckArgs {
    /// Print {"report", "compliance"} as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where ClamAV keeps its databases.
    #[arg(long, default_value = "/var/lib/clamav", value_name = "DIR")]
    pub clamav_dir: String,
}

#[derive(Debug, Clone, Args)]
pub struct PseudoArgs {
    /// The text, Markdown, e-mail (.eml), CSV, DOCX, ODT or PDF file; - or nothing for standard input.
    pub file: Option<PathBuf>,
    /// The language of the replacements (Cliënt A or Client A): nl, en or auto.
    #[arg(long, default_value = "auto")]
    pub lang: String,
    /// How to read the input: auto (by the file name), text, md, eml, csv, docx, odt or pdf.
    /// DOCX and ODT are written as documents (--out); PDF and e-mail become text.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// The encrypted key file: read if it exists, written (0600) after the run. Needs the
    /// passphrase in VEILIG_VAULT_PASSPHRASE or --key-file.
    #[arg(long, value_name = "FILE")]
    pub vault: Option<PathBuf>,
    /// A key file (32 bytes, or 64 hex digits) instead of a passphrase.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// The organisation's own values to hide: a CSV of value[,label] (client names, code names).
    #[arg(long, value_name = "CSV")]
    pub terms: Option<PathBuf>,
    /// Realistic fake values instead of tokens: names, and numbers that fail their own checks
    /// (a fake BSN fails the 11-check, a fake IBAN mod-97), so they are never a real person's.
    #[arg(long)]
    pub fake: bool,
    /// Put the real values back into FILE (an answer to a pseudonymised text).
    #[arg(long)]
    pub restore: bool,
    /// Print {"text", "spans": [{"start", "end", "byte_start", "byte_end", "label", "replacement", "confidence", "reason"}]}.
    #[arg(long)]
    pub json: bool,
    /// Write the result to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Score a folder of labelled files (see crates/veilig-pseudo/eval/GUIDELINES.md) instead.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["restore", "vault", "file"])]
    pub eval: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum MonitorCommand {
    /// Run the detection engine over log files in event time and print the alerts.
    Replay(ReplayArgs),
    /// Check rule files and list the rules in force (the shipped pack with a folder's rules
    /// laid over it); exit 2 naming every mistake.
    Rules(RulesArgs),
    /// The daily digest of the last 24 hours: printed, or mailed to staff with --send.
    Digest(Box<DigestArgs>),
}

#[derive(Debug, Clone, Args)]
pub struct DigestArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Mail it to every administrator and security officer now (needs [smtp]).
    #[arg(long)]
    pub send: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RulesArgs {
    /// A folder of YAML rules that add to, replace or switch off shipped ones.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// One JSON object per rule instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// Log files (syslog lines), or - for standard input.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// auto, netfilter, sshd or filterlog.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// The year of time stamps that have none (classic syslog); default this year.
    #[arg(long)]
    pub year: Option<i32>,
    /// A folder of YAML rules that add to, replace or switch off shipped ones.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// A MaxMind DB country database for the rules about countries (repeatable).
    #[arg(long, value_name = "MMDB")]
    pub geoip: Vec<PathBuf>,
    /// An address list for the rules, NAME=FILE or FILE (repeatable); the shipped rules use
    /// the list named blocklist.
    #[arg(long = "list", value_name = "NAME=FILE")]
    pub lists: Vec<String>,
    /// One JSON object per alert instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user and print the one-time enrolment link.
    Add(UsersAddArgs),
    /// List every user with role and status.
    List(ServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct UsersAddArgs {
    /// The user's e-mail address.
    pub email: String,
    /// Make the user an administrator (same as --role admin).
    #[arg(long)]
    pub admin: bool,
    /// admin, security_officer or employee (default employee).
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// A group to put the user in; repeat for more.
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,
    /// The user's name as shown in Veilig.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Report every invalid setting at once (exit status 2 when there is one).
    Check(ServeArgs),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that no record was changed, removed or reordered (exit 1 naming the first bad one).
    Verify(StoreArgs),
    /// Print the last record's number and hash, to keep somewhere else as an anchor.
    Head(StoreArgs),
}

/// Where the configuration and the database are.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Configuration file (default: ./veilig.toml when it exists).
    #[arg(long, env = "VEILIG_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Folder for the embedded database and keys.
    #[arg(long, env = "VEILIG_DATA", value_name = "DIR")]
    pub data: Option<String>,
    /// sqlite:PATH or postgres://USER@HOST/DB (default: SQLite in the data folder).
    #[arg(long, env = "VEILIG_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// A file that holds the database URL (for URLs with a password).
    #[arg(long, env = "VEILIG_DATABASE_URL_FILE", value_name = "FILE")]
    pub database_url_file: Option<String>,
    /// Log format: text or json.
    #[arg(long, env = "VEILIG_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Log level or filter, such as info or veilig_web=debug.
    #[arg(long, env = "VEILIG_LOG_LEVEL", value_name = "LEVEL")]
    pub log_level: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address and port for the portal and API.
    #[arg(long, env = "VEILIG_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// The address employees use, for links in e-mail.
    #[arg(long, env = "VEILIG_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// PEM certificate chain: serve HTTPS.
    #[arg(long, env = "VEILIG_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<String>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "VEILIG_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<String>,
    /// Comma-separated networks of reverse proxies whose X-Forwarded-* headers are trusted.
    #[arg(long, env = "VEILIG_BEHIND_PROXY", value_name = "CIDR")]
    pub behind_proxy: Option<String>,
    /// Language when the browser names neither Dutch nor English (nl or en).
    #[arg(long, env = "VEILIG_LANGUAGE", value_name = "LANG")]
    pub language: Option<String>,
    /// Receive syslog over UDP at this address (such as 0.0.0.0:514).
    #[arg(long, env = "VEILIG_SYSLOG_UDP", value_name = "ADDR")]
    pub syslog_udp: Option<String>,
    /// Receive syslog over TCP at this address.
    #[arg(long, env = "VEILIG_SYSLOG_TCP", value_name = "ADDR")]
    pub syslog_tcp: Option<String>,
    /// Receive syslog over TLS (RFC 5425) at this address, with the portal's certificate.
    #[arg(long, env = "VEILIG_SYSLOG_TLS", value_name = "ADDR")]
    pub syslog_tls: Option<String>,
    /// Follow these log files through rotation (comma-separated absolute paths).
    #[arg(long = "log-file", env = "VEILIG_LOG_FILES", value_name = "PATHS")]
    pub log_files: Option<String>,
}

impl StoreArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            data: self.data.clone(),
            database_url: self.database_url.clone(),
            database_url_file: self.database_url_file.clone(),
            log_format: self.log_format.clone(),
            log_level: self.log_level.clone(),
            ..Overrides::default()
        }
    }
}

impl ServeArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen.clone(),
            public_url: self.public_url.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            behind_proxy: self.behind_proxy.clone(),
            language: self.language.clone(),
            syslog_udp: self.syslog_udp.clone(),
            syslog_tcp: self.syslog_tcp.clone(),
            syslog_tls: self.syslog_tls.clone(),
            log_files: self.log_files.clone(),
            ..self.store.overrides()
        }
    }
}

/// Reads the configuration file (when given or present) and checks every layer. On failure the
/// problems are printed and the exit code is 2.
fn load_config(config_file: Option<&Path>, overrides: &Overrides) -> Result<Config, ExitCode> {
    let path = match config_file {
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from("veilig.toml")).filter(|p| p.is_file()),
    };
    let text = match &path {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("veilig: cannot read the configuration file {}: {e}", p.display());
                return Err(ExitCode::from(2));
            }
        },
        None => None,
    };
    let file = path.as_deref().zip(text.as_deref());
    let config = Config::load(overrides, file).map_err(|errors| {
        eprintln!("veilig: {errors}");
        ExitCode::from(2)
    })?;
    // the organisation's term list is read by the pseudonymiser: check it as it will be used
    if let Some(csv) = &config.pseudo.terms_csv
        && let Err(e) = veilig_pseudo::Terms::from_csv(csv)
    {
        eprintln!("veilig: pseudo.terms_file: {e}");
        return Err(ExitCode::from(2));
    }
    Ok(config)
}

pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(args) => match load_config(args.store.config.as_deref(), &args.overrides()) {
            Ok(config) => crate::serve::serve(config).await,
            Err(code) => code,
        },
        Command::Config { command: ConfigCommand::Check(args) } => match load_config(args.store.config.as_deref(), &args.overrides()) {
            Ok(config) => {
                if let Some(tls) = &config.tls
                    && let Err(e) = crate::serve::tls_acceptor(tls)
                {
                    eprintln!("veilig: 1 invalid setting(s):\n  - server.tls_cert: {e}");
                    return ExitCode::from(2);
                }
                println!("The configuration is valid.");
                println!("  data folder: {}", config.data_dir.display());
                println!("  database:    {}", config.database_kind());
                println!("  listen:      {}{}", config.listen, if config.tls.is_some() { " (TLS)" } else { "" });
                println!("  public URL:  {}", config.public_url);
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Users { command } => users(command).await,
        Command::Monitor { command: MonitorCommand::Replay(args) } => crate::replay::run(&args),
        Command::Mail { command: MailCommand::Check(args) } => crate::mailcheck::run(&args),
        Command::Pseudo(args) => crate::pseudo::run(&args),
        Command::Agent { command: AgentCommand::Check(args) } => crate::agent::check(&args),
        Command::Agent { command: AgentCommand::Enroll(args) } => crate::agent::enroll(&args),
        Command::Cloud { command: CloudCommand::Discover(args) } => {
            let statuses = if args.register {
                match register_statuses(&args.store).await {
                    Ok(m) => m,
                    Err(code) => return code,
                }
            } else {
                std::collections::HashMap::new()
            };
            crate::cloud::discover(&args, &statuses)
        }
        Command::Agent { command: AgentCommand::Run(args) } => crate::agent::run(&args),
        Command::Monitor { command: MonitorCommand::Rules(args) } => crate::replay::rules(&args),
        Command::Monitor { command: MonitorCommand::Digest(args) } => digest(&args).await,
        Command::Vpn { command: VpnCommand::Exposure(args) } => crate::exposure::run(&args).await,
        Command::Audit { command } => {
            let args = match &command {
                AuditCommand::Verify(a) | AuditCommand::Head(a) => a,
            };
            let config = match load_config(args.config.as_deref(), &args.overrides()) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let store = match open_store(&config).await {
                Ok(s) => s,
                Err(code) => return code,
            };
            let code = match command {
                AuditCommand::Verify(_) => audit_verify(&store).await,
                AuditCommand::Head(_) => audit_head(&store).await,
            };
            store.close().await;
            code
        }
    }
}

/// The register's status per catalog service, for `veilig cloud discover --register`.
async fn register_statuses(args: &StoreArgs) -> Result<std::collections::HashMap<String, String>, ExitCode> {
    let config = load_config(args.config.as_deref(), &args.overrides())?;
    let store = open_store(&config).await?;
    let services = store.cloud_services().await;
    store.close().await;
    match services {
        Ok(list) => Ok(list.into_iter().filter_map(|s| s.catalog_id.map(|c| (c, s.status))).collect()),
        Err(e) => {
            eprintln!("veilig: cannot read the register: {e}");
            Err(ExitCode::from(2))
        }
    }
}

/// `veilig monitor digest`: the last 24 hours, printed or mailed.
async fn digest(args: &DigestArgs) -> ExitCode {
    let config = match load_config(args.serve.store.config.as_deref(), &args.serve.overrides()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let store = match open_store(&config).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let org = config.identity.organisation.clone();
    let code = if args.send {
        let Some(smtp) = &config.smtp else {
            eprintln!("veilig: --send needs a mail server: set smtp.host and smtp.from");
            return ExitCode::from(2);
        };
        let mailer = match veilig_mail::Mailer::new(smtp) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("veilig: {e}");
                return ExitCode::from(2);
            }
        };
        match veilig_mail::notices::send_digest(&store, &mailer, &org, config.language, &config.public_url, now).await {
            Ok(n) => {
                println!("The digest went to {n} administrator(s) and security officer(s).");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("veilig: could not send the digest: {e}");
                ExitCode::from(1)
            }
        }
    } else {
        let since = now - 86_400_000;
        let alerts = store.alerts_since(since, 100_000).await.unwrap_or_default();
        let blocks: Vec<_> =
            store.decisions_recent(10_000).await.unwrap_or_default().into_iter().filter(|d| d.created_ms >= since).collect();
        let until = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC"))
            .unwrap_or_default();
        let mail = veilig_mail::notices::digest(config.language, &org, &config.public_url, &until, &alerts, &blocks);
        println!(
            "{}

{}",
            mail.subject, mail.body
        );
        ExitCode::SUCCESS
    };
    store.close().await;
    code
}

/// Opens the database for a command that reads it; never creates an empty one by accident.
async fn open_store(config: &Config) -> Result<Store, ExitCode> {
    let url = config.database.url.expose_secret();
    if let Some(path) = url.strip_prefix("sqlite:")
        && !Path::new(path.trim_start_matches("//")).is_file()
    {
        eprintln!("veilig: there is no database at {path}; give --data or --database-url");
        return Err(ExitCode::from(2));
    }
    match Store::connect(url, 2).await {
        Ok(store) => Ok(store),
        Err(e) => {
            eprintln!("veilig: {e}");
            Err(ExitCode::from(2))
        }
    }
}

async fn audit_verify(store: &Store) -> ExitCode {
    let total = store.audit_count().await.unwrap_or(0).max(0) as u64;
    let mut bar = Progress::new("verifying", total);
    let verdict = store.audit_verify(|done| bar.set(done)).await;
    bar.finish();
    match verdict {
        Ok(AuditVerdict::Intact { records, head }) => {
            match head {
                Some(h) => println!("audit chain intact: {records} records, head #{} {}", h.seq, h.hash),
                None => println!("audit chain intact: no records yet"),
            }
            ExitCode::SUCCESS
        }
        Ok(AuditVerdict::Broken { checked, at }) => {
            println!("audit chain BROKEN: {at}; the {checked} records before it are intact");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("veilig: {e}");
            ExitCode::from(2)
        }
    }
}

async fn audit_head(store: &Store) -> ExitCode {
    match store.audit_head().await {
        Ok(Some(h)) => {
            println!("{} {}", h.seq, h.hash);
            ExitCode::SUCCESS
        }
        Ok(None) => {
            println!("0 {}", veilig_audit::GENESIS);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("veilig: {e}");
            ExitCode::from(2)
        }
    }
}

async fn users(command: UsersCommand) -> ExitCode {
    let args = match &command {
        UsersCommand::Add(a) => &a.serve,
        UsersCommand::List(a) => a,
    };
    let config = match load_config(args.store.config.as_deref(), &args.overrides()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let store = match Store::connect(config.database.url.expose_secret(), 2).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("veilig: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = store.migrate().await {
        eprintln!("veilig: {e}");
        return ExitCode::from(2);
    }
    let clock: veilig_core::SharedClock = std::sync::Arc::new(veilig_core::SystemClock);
    let identity = match crate::wiring::identity(&config, &store, clock, veilig_core::EventBus::default()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("veilig: {e}");
            return ExitCode::from(2);
        }
    };
    let code = match command {
        UsersCommand::Add(a) => {
            let role = match (a.admin, a.role.as_deref()) {
                (true, _) => Some(veilig_identity::Role::Admin),
                (false, None) => Some(veilig_identity::Role::Employee),
                (false, Some(r)) => veilig_identity::Role::parse(r),
            };
            let Some(role) = role else {
                eprintln!("veilig: --role must be admin, security_officer or employee");
                return ExitCode::from(2);
            };
            let actor = veilig_identity::service::Actor { email: "cli".to_owned(), user_id: None, ip: String::new() };
            match identity.invite(&actor, &a.email, a.name.as_deref().unwrap_or(""), role, &a.groups).await {
                Ok((user, token)) => {
                    let url = identity.enrollment_url(&token);
                    println!("Created {} ({}).", user.email, role.as_str());
                    match &config.smtp {
                        Some(smtp) => {
                            let mail = veilig_mail::notices::invitation(config.language, &config.identity.organisation, &url);
                            let sent = match veilig_mail::Mailer::new(smtp) {
                                Ok(m) => m.send(&user.email, &mail.subject, &mail.body).await.map_err(|e| e.to_string()),
                                Err(e) => Err(e.to_string()),
                            };
                            match sent {
                                Ok(()) => println!("The enrolment link was mailed to {}.", user.email),
                                Err(e) => println!("Mailing failed ({e}); send this one-time link yourself (valid 7 days):\n  {url}"),
                            }
                        }
                        None => println!("Send this one-time enrolment link (valid 7 days):\n  {url}"),
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("veilig: {e}");
                    ExitCode::from(2)
                }
            }
        }
        UsersCommand::List(_) => match store.users_list().await {
            Ok(users) => {
                for u in users {
                    println!("{:<40} {:<17} {}", u.email, u.role, u.status);
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("veilig: {e}");
                ExitCode::from(2)
            }
        },
    };
    store.close().await;
    code
}
