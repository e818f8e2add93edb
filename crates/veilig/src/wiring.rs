//! Builds the capabilities from the configuration: shared by `serve` and the other commands.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use veilig_core::{Config, EventBus, SharedClock};
use veilig_identity::crypto::SecretBox;
use veilig_identity::password::Hasher;
use veilig_identity::{Identity, IdentitySettings};
use veilig_store::Store;

/// The installation's secret key (for second-factor secrets at rest), created on first use in
/// `<data>/keys/secret.key`, readable by the owner only. Instances that share a PostgreSQL
/// database must share this file.
pub fn secret_key(data_dir: &Path) -> Result<[u8; 32], String> {
    let dir = data_dir.join("keys");
    let path = dir.join("secret.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| format!("{} is not a Veilig key", path.display()))?;
        return bytes.try_into().map_err(|_| format!("{} is not a Veilig key", path.display()));
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let key = SecretBox::generate_key();
    let text = base64::engine::general_purpose::STANDARD.encode(key);
    write_private(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// The WireGuard gateway's key pair, created on first use in `<data>/keys/wireguard.key`,
/// readable by the owner only. Its public half is in every device's configuration: keep the
/// file when moving Veilig, or every device must be added again.
pub fn wireguard_key(data_dir: &Path) -> Result<veilig_vpn::engine::KeyPair, String> {
    let dir = data_dir.join("keys");
    let path = dir.join("wireguard.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        return veilig_vpn::engine::KeyPair::from_private_base64(&text)
            .map_err(|e| format!("{} is not a WireGuard key: {e}", path.display()));
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let pair = veilig_vpn::engine::KeyPair::generate();
    write_private(&path, &pair.private_base64()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(pair)
}

pub fn vpn(config: &Config, store: &Store, clock: SharedClock, bus: EventBus) -> Result<veilig_vpn::Vpn, String> {
    let key = wireguard_key(&config.data_dir)?;
    Ok(veilig_vpn::Vpn::new(store.clone(), clock, bus, config.vpn.clone(), key))
}

/// Device compliance, with the device CA (created on first use, its key sealed with the
/// installation's key).
pub async fn devices(config: &Config, store: &Store, clock: SharedClock, bus: EventBus) -> Result<veilig_compliance::Devices, String> {
    let key = secret_key(&config.data_dir)?;
    let settings = veilig_compliance::DevicesSettings {
        organisation: config.identity.organisation.clone(),
        token_hours: config.devices.token_hours as i64,
        cert_days: config.devices.cert_days as i64,
        agent_url: config.devices.agent_url.clone(),
        public_url: config.public_url.clone(),
    };
    veilig_compliance::Devices::open(store.clone(), clock, bus, &SecretBox::new(&key), settings).await.map_err(|e| e.to_string())
}

/// Monitoring's response, with enforcement in nftables when `response.nftables` is on.
pub fn responder(config: &Config, store: &Store, clock: SharedClock, bus: EventBus) -> Result<veilig_respond::Responder, String> {
    let key = secret_key(&config.data_dir)?;
    let nft = config.response.nftables.then(veilig_respond::Nft::default);
    Ok(veilig_respond::Responder::new(store.clone(), bus, clock, config.response.clone(), nft, SecretBox::new(&key), &config.public_url))
}

pub fn identity(config: &Config, store: &Store, clock: SharedClock, bus: EventBus) -> Result<Identity, String> {
    let key = secret_key(&config.data_dir)?;
    let hasher = Hasher::production()?;
    let settings = IdentitySettings {
        session_idle_ms: config.identity.session_idle.as_millis() as i64,
        session_max_ms: config.identity.session_max.as_millis() as i64,
        issuer: config.identity.organisation.clone(),
        public_url: config.public_url.clone(),
        ..IdentitySettings::default()
    };
    let passkeys = match veilig_identity::webauthn::Passkeys::new(&config.public_url, &config.identity.organisation) {
        Ok(p) => Some(std::sync::Arc::new(p)),
        Err(why) => {
            tracing::info!(%why, "passkeys are off");
            None
        }
    };
    Ok(Identity { store: store.clone(), clock, hasher, secrets: SecretBox::new(&key), bus, settings, passkeys })
}

/// Removes sessions past their limits every minute (a session is also checked on each use;
/// this keeps the table small and the session lists true).
pub fn spawn_session_sweeper(identity: Identity) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let now = identity.clock.now_ms();
            if let Err(e) = identity.store.sessions_expire(now, identity.settings.session_idle_ms).await {
                tracing::warn!(error = %e, "could not remove expired sessions");
            }
        }
    });
}

/// Starts mailing invitations and security notices when a mail server is configured.
pub fn spawn_mail(config: &Config, store: &Store, bus: &EventBus) -> Result<bool, String> {
    let Some(smtp) = &config.smtp else { return Ok(false) };
    let mailer = veilig_mail::Mailer::new(smtp).map_err(|e| e.to_string())?;
    veilig_mail::notices::spawn(
        bus,
        store.clone(),
        mailer,
        config.identity.organisation.clone(),
        config.language,
        config.public_url.clone(),
    );
    if let Some(hour) = config.digest_hour {
        veilig_mail::notices::spawn_digest(
            store.clone(),
            veilig_mail::Mailer::new(smtp).map_err(|e| e.to_string())?,
            config.identity.organisation.clone(),
            config.language,
            config.public_url.clone(),
            hour,
        );
    }
    Ok(true)
}

/// Starts the phishing desk's report mailbox when one is configured; answers go out when a
/// mail server is configured too. Reports past `phishing.retention_days` are removed daily.
pub fn spawn_phishing_desk(config: &Config, store: &Store, clock: veilig_core::SharedClock) -> Result<bool, String> {
    let Some(imap) = &config.phishing.imap else { return Ok(false) };
    let mailer = match &config.smtp {
        Some(smtp) => Some(veilig_mail::Mailer::new(smtp).map_err(|e| e.to_string())?),
        None => {
            tracing::warn!("phishing desk without [smtp]: reports are analysed and queued, but employees get no answer");
            None
        }
    };
    let tls = veilig_mail::desk::tls_config(imap.ca_file.as_deref()).map_err(|e| format!("phishing.imap_ca_file: {e}"))?;
    let mut desk = veilig_mail::desk::Desk::new(
        store.clone(),
        clock.clone(),
        mailer,
        config.phishing.org_domains.clone(),
        config.identity.organisation.clone(),
        config.language,
    );
    if config.phishing.verify_dkim {
        desk = desk
            .with_dkim(veilig_mail::dkim::DkimVerifier::new(config.phishing.dns_server).map_err(|e| format!("phishing.dns_server: {e}"))?);
    }
    veilig_mail::desk::spawn_mailbox(imap.clone(), desk, config.phishing.idle, tls);
    let (store, retention_ms) = (store.clone(), config.phishing.retention.as_millis() as i64);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(24 * 3600));
        loop {
            tick.tick().await;
            match store.phish_purge(clock.now_ms() - retention_ms).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(reports = n, "removed phishing reports past their retention"),
                Err(e) => tracing::warn!(error = %e, "could not remove old phishing reports"),
            }
        }
    });
    Ok(true)
}
