//! Monitoring's response: what Veilig does about an attacker once an alert is raised.
//!
//! - **Blocks** (decisions): an alert at or above `response.block_severity` blocks its source
//!   for `response.block_secs`, four times longer for each earlier block within 30 days (up to
//!   `response.block_max_secs`). The allow-list (`response.allow` and the Blocks page) is
//!   checked first. Staff can block and unblock by hand. Every decision is audited.
//! - **Enforcement**: (a) with `response.nftables = true`, the nftables table `inet
//!   veilig_block` on this host (IPv4 and IPv6 sets with intervals and kernel timeouts), and
//!   after each change a read-back that says whether the block took effect; (b) the plain-text
//!   blocklist that edge firewalls fetch with a token; (c) a high or critical alert from a VPN
//!   device's tunnel address ends its owner's VPN session (`EndVpnAccess` on the event bus).
//! - **Webhooks** (`webhook.rs`): alerts to generic JSON receivers, Microsoft Teams and
//!   Slack/Mattermost, grouped, de-duplicated and rate-limited.
//!
//! The rules (policy, nftables text) are the monitoring engine's `response` module; this crate
//! does the I/O.

pub mod nft;
pub mod webhook;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use veilig_audit::Entry;
use veilig_core::config::ResponseConfig;
use veilig_core::{Event, EventBus, SharedClock};
use veilig_identity::crypto::SecretBox;
use veilig_monitor::response::{Policy, Severity, Skip};
use veilig_store::{AllowRecord, DecisionRecord, Store, StoreError};

pub use nft::Nft;

/// The settings key holding the SHA-256 of the blocklist URL's token.
const BLOCKLIST_TOKEN: &str = "response.blocklist_token_sha256";

#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    /// The request is wrong: `code` names the mistake (pages translate it, with `subject` in
    /// it), `message` says it in English for the API.
    #[error("{message}")]
    Invalid { code: &'static str, subject: String, message: String },
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type Result<T, E = RespondError> = std::result::Result<T, E>;

pub(crate) fn invalid(code: &'static str, subject: &str, message: impl Into<String>) -> RespondError {
    RespondError::Invalid { code, subject: subject.to_owned(), message: message.into() }
}

#[derive(Clone)]
pub struct Responder {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    bus: EventBus,
    clock: SharedClock,
    config: ResponseConfig,
    policy: Policy,
    nft: Option<Nft>,
    secrets: SecretBox,
    public_url: String,
}

impl Responder {
    /// `nft` is the enforcement on this host, or `None` when `response.nftables` is off.
    pub fn new(
        store: Store,
        bus: EventBus,
        clock: SharedClock,
        config: ResponseConfig,
        nft: Option<Nft>,
        secrets: SecretBox,
        public_url: &str,
    ) -> Responder {
        let policy = Policy {
            min_severity: config.block_severity.as_deref().and_then(Severity::parse).unwrap_or(Severity::Critical),
            base_secs: config.block_secs,
            max_secs: config.block_max_secs,
            ..Policy::default()
        };
        Responder {
            inner: Arc::new(Inner {
                store,
                bus,
                clock,
                config,
                policy,
                nft,
                secrets,
                public_url: public_url.trim_end_matches('/').to_owned(),
            }),
        }
    }

    pub fn config(&self) -> &ResponseConfig {
        &self.inner.config
    }

    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    pub fn enforces_on_host(&self) -> bool {
        self.inner.nft.is_some()
    }

    pub(crate) fn secrets(&self) -> &SecretBox {
        &self.inner.secrets
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    pub(crate) fn bus(&self) -> &EventBus {
        &self.inner.bus
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// Writes the whole nftables table with the blocks in force (at start, so blocks survive
    /// a restart). An error here means enforcement is not possible on this host.
    pub async fn start(&self) -> Result<(), String> {
        let Some(nft) = &self.inner.nft else { return Ok(()) };
        let now = self.now_ms();
        let active = self.inner.store.decisions_active(now).await.map_err(|e| e.to_string())?;
        let blocks: Vec<(IpNet, u64)> =
            active.iter().filter_map(|d| Some((d.network.parse().ok()?, u64::try_from((d.until_ms - now) / 1000).unwrap_or(1)))).collect();
        nft.apply(&veilig_monitor::response::nft_ruleset(&blocks)).await
    }

    /// The task: alerts in, decisions and VPN session ends out; once a minute, ended blocks
    /// past the retention period are deleted.
    pub fn spawn(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        let mut rx = self.inner.bus.subscribe();
        tokio::spawn(async move {
            let mut purge = tokio::time::interval(Duration::from_secs(60));
            loop {
                tokio::select! {
                    ev = rx.recv() => match ev {
                        Ok(Event::MonitorAlert { id, rule, severity, source, .. }) => me.on_alert(&id, &rule, &severity, &source).await,
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    },
                    _ = purge.tick() => me.purge().await,
                }
            }
        })
    }

    async fn purge(&self) {
        let before = self.now_ms() - i64::try_from(self.inner.config.retention.as_millis()).unwrap_or(i64::MAX);
        match self.inner.store.decisions_purge(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "ended blocks past the retention period deleted"),
            Err(e) => tracing::warn!(error = %e, "cannot delete old blocks"),
        }
    }

    /// The allow-list in force: the configured networks and those on the Blocks page.
    pub async fn allow_list(&self) -> Result<Vec<IpNet>> {
        let mut nets = self.inner.config.allow.clone();
        nets.extend(self.inner.store.allow_list().await?.iter().filter_map(|a| a.network.parse::<IpNet>().ok()));
        Ok(nets)
    }

    /// What an alert leads to. Failures are logged, never fatal: the alert is stored already.
    pub async fn on_alert(&self, alert_id: &str, rule: &str, severity: &str, source: &str) {
        let serious = Severity::parse(severity).is_some_and(|s| s >= Severity::High);
        if serious && self.inner.config.end_vpn_sessions && source.parse::<IpAddr>().is_ok() {
            self.inner.bus.publish(Event::EndVpnAccess { address: source.to_owned(), reason: rule.to_owned() });
        }
        if self.inner.config.block_severity.is_none() {
            return;
        }
        match self.decide(alert_id, rule, severity, source).await {
            Ok(Some(d)) => tracing::warn!(network = %d.network, rule, until_ms = d.until_ms, enforced = %d.enforced, "blocked"),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "cannot record a block"),
        }
    }

    async fn decide(&self, alert_id: &str, rule: &str, severity: &str, source: &str) -> Result<Option<DecisionRecord>> {
        let allow = self.allow_list().await?;
        let now = self.now_ms();
        let Ok(ip) = source.parse::<IpAddr>() else { return Ok(None) };
        let single = IpNet::from(ip).to_string();
        if self.covering(ip, now).await?.is_some() {
            return Ok(None);
        }
        let earlier = self.earlier(&single, now).await?;
        let block = match self.inner.policy.decide(severity, source, &allow, earlier) {
            Ok(b) => b,
            Err(skip @ Skip::Allowed(..)) => {
                tracing::info!(%skip, rule, "not blocked");
                return Ok(None);
            }
            Err(skip) => {
                tracing::debug!(%skip, rule, "not blocked");
                return Ok(None);
            }
        };
        let d = self.record(block, rule, Some(alert_id), "auto", now).await?;
        Ok(Some(d))
    }

    async fn earlier(&self, network: &str, now: i64) -> Result<u32> {
        let since = now - i64::try_from(self.inner.policy.lookback_secs).unwrap_or(0) * 1000;
        Ok(u32::try_from(self.inner.store.decisions_count_since(network, since).await?).unwrap_or(u32::MAX))
    }

    /// The block in force that covers `ip`, if any.
    async fn covering(&self, ip: IpAddr, now: i64) -> Result<Option<DecisionRecord>> {
        Ok(self.inner.store.decisions_active(now).await?.into_iter().find(|d| d.network.parse::<IpNet>().is_ok_and(|n| n.contains(&ip))))
    }

    async fn record(
        &self,
        block: veilig_monitor::response::Block,
        reason: &str,
        alert_id: Option<&str>,
        origin: &str,
        now: i64,
    ) -> Result<DecisionRecord> {
        let mut d = DecisionRecord {
            id: veilig_core::random_id(),
            network: block.net.to_string(),
            reason: reason.to_owned(),
            alert_id: alert_id.map(str::to_owned),
            origin: origin.to_owned(),
            level: i64::from(block.level),
            created_ms: now,
            until_ms: now.saturating_add(i64::try_from(block.secs).unwrap_or(i64::MAX / 2000) * 1000),
            revoked_ms: None,
            revoked_by: None,
            enforced: if self.inner.nft.is_some() { "pending".to_owned() } else { "off".to_owned() },
        };
        let actor = if origin == "auto" { "system" } else { origin };
        let entry = Entry::new(actor, "monitor.blocked", &d.network).details(serde_json::json!({
            "reason": reason, "alert": alert_id, "seconds": block.secs, "level": block.level,
        }));
        self.inner.store.decision_insert(&d, now, &entry).await?;
        if let Some(nft) = &self.inner.nft {
            d.enforced = nft.block(block.net, block.secs).await;
            self.inner.store.decision_set_enforced(&d.id, &d.enforced).await?;
        }
        self.inner.bus.publish(Event::MonitorBlocked {
            decision_id: d.id.clone(),
            network: d.network.clone(),
            until_ms: d.until_ms,
            reason: d.reason.clone(),
            enforced: d.enforced.clone(),
        });
        Ok(d)
    }

    /// A block a person asked for: an address or network, for `secs` (default: the policy's
    /// duration for this network's history).
    pub async fn block(&self, actor: &str, network: &str, secs: Option<u64>, reason: &str) -> Result<DecisionRecord> {
        let net: IpNet = network.trim().parse::<IpNet>().or_else(|_| network.trim().parse::<IpAddr>().map(IpNet::from)).map_err(|_| {
            invalid("address", network, format!("'{network}' is not an address or network such as 203.0.113.7 or 198.51.100.0/24"))
        })?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(invalid("reason", "", "give a reason of 1 to 200 characters"));
        }
        if let Some(s) = secs
            && !(60..=365 * 86_400).contains(&s)
        {
            return Err(invalid("duration", "", "a block lasts from 60 seconds to 365 days"));
        }
        let now = self.now_ms();
        let trunc = net.trunc();
        if self.inner.store.decisions_active(now).await?.iter().any(|d| d.network == trunc.to_string()) {
            return Err(invalid("blocked_already", &trunc.to_string(), format!("{trunc} is blocked already")));
        }
        let earlier = self.earlier(&trunc.to_string(), now).await?;
        let mut block = self.inner.policy.block_network(net, &self.allow_list().await?, earlier).map_err(|e| match e {
            Skip::Allowed(_, a) => invalid("allowed", &a.to_string(), e.to_string()),
            _ => invalid("reserved", &net.to_string(), e.to_string()),
        })?;
        if let Some(s) = secs {
            block.secs = s;
        }
        self.record(block, reason, None, actor, now).await
    }

    /// Ends a block early; removes it from nftables and checks that it is gone.
    pub async fn unblock(&self, actor: &str, id: &str) -> Result<DecisionRecord> {
        let now = self.now_ms();
        let entry = Entry::new(actor, "monitor.unblocked", id);
        let d = self.inner.store.decision_revoke(id, actor, now, &entry).await?.ok_or(RespondError::NotFound)?;
        if let (Some(nft), Ok(net)) = (&self.inner.nft, d.network.parse::<IpNet>()) {
            let result = nft.unblock(net).await;
            self.inner.store.decision_set_enforced(&d.id, &result).await?;
        }
        Ok(d)
    }

    pub async fn allow(&self, actor: &str, network: &str, note: &str) -> Result<AllowRecord> {
        let net: IpNet = network
            .trim()
            .parse::<IpNet>()
            .or_else(|_| network.trim().parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| invalid("address", network, format!("'{network}' is not an address or network such as 192.0.2.0/24")))?
            .trunc();
        let note = note.trim();
        if note.chars().count() > 200 {
            return Err(invalid("note", "", "the note is at most 200 characters"));
        }
        let a = AllowRecord {
            id: veilig_core::random_id(),
            network: net.to_string(),
            note: note.to_owned(),
            created_by: actor.to_owned(),
            created_ms: self.now_ms(),
        };
        let entry = Entry::new(actor, "monitor.allow_added", &a.network).details(serde_json::json!({"note": note}));
        if !self.inner.store.allow_insert(&a, &entry).await? {
            return Err(invalid("listed_already", &net.to_string(), format!("{net} is on the allow-list already")));
        }
        Ok(a)
    }

    pub async fn disallow(&self, actor: &str, id: &str) -> Result<()> {
        let entry = Entry::new(actor, "monitor.allow_removed", id);
        if self.inner.store.allow_delete(id, self.now_ms(), &entry).await? { Ok(()) } else { Err(RespondError::NotFound) }
    }

    /// The blocklist that edge firewalls fetch: one address or network a line (single
    /// addresses without a prefix length), sorted, IPv4 first.
    pub async fn blocklist_text(&self) -> Result<String> {
        let mut nets: Vec<IpNet> =
            self.inner.store.decisions_active(self.now_ms()).await?.iter().filter_map(|d| d.network.parse().ok()).collect();
        nets.sort_by_key(|n| (matches!(n, IpNet::V6(_)), *n));
        nets.dedup();
        let mut out = String::new();
        for n in nets {
            if n.prefix_len() == n.max_prefix_len() {
                out.push_str(&n.addr().to_string());
            } else {
                out.push_str(&n.to_string());
            }
            out.push('\n');
        }
        Ok(out)
    }

    /// Makes a new blocklist token (the old one stops working) and returns it: it is shown
    /// once, only its SHA-256 is kept.
    pub async fn new_blocklist_token(&self, actor: &str) -> Result<String> {
        let token = veilig_identity::crypto::random_token("vbl_");
        let entry = Entry::new(actor, "monitor.blocklist_token_renewed", "blocklist");
        self.inner.store.setting_set(BLOCKLIST_TOKEN, &veilig_identity::crypto::token_hash(&token), self.now_ms(), &entry).await?;
        Ok(token)
    }

    /// Whether a blocklist token is the current one.
    pub async fn blocklist_token_ok(&self, token: &str) -> Result<bool> {
        let Some(stored) = self.inner.store.setting(BLOCKLIST_TOKEN).await? else { return Ok(false) };
        let given = veilig_identity::crypto::token_hash(token);
        // Both are hex SHA-256: equal length; compare without an early exit.
        Ok(stored.len() == given.len() && stored.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0)
    }

    pub async fn has_blocklist_token(&self) -> Result<bool> {
        Ok(self.inner.store.setting(BLOCKLIST_TOKEN).await?.is_some())
    }
}
