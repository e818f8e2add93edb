//! The VPN service: what the portal, the API and the gateway task ask of the VPN.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;
use veilig_audit::{Entry, Outcome};
use veilig_core::config::VpnConfig;
use veilig_core::{Event, EventBus, SharedClock};
use veilig_store::{DeviceRecord, RuleRecord, Store, StoreError, VpnSessionRecord};
use veilig_vpn_engine::conf::ClientConf;
use veilig_vpn_engine::{Key, KeyError, KeyPair, Pool, PoolError, Proto, Rule, RuleError};

/// At most this many devices per employee.
pub const MAX_DEVICES_PER_USER: i64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum VpnError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    /// Bad input, with which field and why (the pages say it in the reader's language).
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("{0}")]
    Conflict(#[from] Conflict),
    #[error("{0}")]
    Unavailable(#[from] Unavailable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    #[error("name: give the device a name of 1 to 60 characters, such as 'Laptop' or 'Telefoon'")]
    Name,
    #[error("public_key: {0}")]
    Key(#[from] KeyError),
    #[error("public_key: this is the gateway's own key; give the device's public key")]
    GatewayKey,
    #[error("rule: {0}")]
    Rule(#[from] RuleError),
    #[error("description: at most 200 characters on one line")]
    Description,
    #[error("group: there is no group '{0}'")]
    Group(String),
    #[error("minutes: between 1 minute and 7 days (10080 minutes)")]
    Minutes,
}

#[derive(Debug, thiserror::Error)]
pub enum Conflict {
    #[error("you already have {0} devices; remove one you no longer use")]
    TooManyDevices(i64),
    #[error("a device with this public key already exists; every device needs its own key")]
    DuplicateKey,
    #[error("{0}")]
    PoolFull(PoolError),
    #[error("add a device first: without a device there is nothing to connect")]
    NoDevice,
}

#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("the VPN is not switched on for this organisation (vpn.enabled)")]
    Off,
    #[error("the VPN gateway is not running on this server")]
    NotRunning,
    #[error("{0}")]
    Pool(PoolError),
}

type Result<T, E = VpnError> = std::result::Result<T, E>;

/// Who is asking.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub email: String,
    pub ip: String,
    /// Administrator or security officer.
    pub staff: bool,
    pub admin: bool,
}

impl Actor {
    fn entry(&self, action: &str, target: &str) -> Entry {
        Entry::new(&self.email, action, target).ip(&self.ip)
    }
}

/// A device just added; `config` holds the private key when Veilig generated it, and is shown
/// once.
#[derive(Debug)]
pub struct DeviceAdded {
    pub device: DeviceRecord,
    pub config: String,
    pub generated: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub enabled: bool,
    pub running: bool,
    pub endpoint: String,
    pub public_key: String,
    pub pool: String,
    pub networks: Vec<String>,
}

struct Inner {
    store: Store,
    clock: SharedClock,
    bus: EventBus,
    config: VpnConfig,
    key: KeyPair,
    running: AtomicBool,
    changed: Notify,
}

/// The VPN service. Cheap to clone.
#[derive(Clone)]
pub struct Vpn {
    inner: Arc<Inner>,
}

impl Vpn {
    pub fn new(store: Store, clock: SharedClock, bus: EventBus, config: VpnConfig, key: KeyPair) -> Vpn {
        Vpn { inner: Arc::new(Inner { store, clock, bus, config, key, running: AtomicBool::new(false), changed: Notify::new() }) }
    }

    pub fn config(&self) -> &VpnConfig {
        &self.inner.config
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn bus(&self) -> &EventBus {
        &self.inner.bus
    }

    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    pub fn key_pair(&self) -> &KeyPair {
        &self.inner.key
    }

    pub fn status(&self) -> Status {
        let c = &self.inner.config;
        Status {
            enabled: c.enabled,
            running: self.is_running(),
            endpoint: c.endpoint.clone(),
            public_key: self.inner.key.public.to_base64(),
            pool: c.pool.to_string(),
            networks: c.networks.iter().map(ToString::to_string).collect(),
        }
    }

    pub fn is_running(&self) -> bool {
        self.inner.running.load(Ordering::SeqCst)
    }

    /// Marks the gateway as running (the gateway task does this; tests of the portal without
    /// a data plane may too).
    pub fn set_running(&self, running: bool) {
        self.inner.running.store(running, Ordering::SeqCst);
    }

    /// Tells the gateway that what it should hold may have changed.
    pub fn changed(&self) {
        self.inner.changed.notify_one();
    }

    pub(crate) async fn wait_changed(&self) {
        self.inner.changed.notified().await;
    }

    async fn audit(&self, entry: Entry) -> Result<()> {
        self.inner.store.audit(self.now_ms(), &entry).await?;
        Ok(())
    }

    // ---- Devices ---------------------------------------------------------------------------

    pub async fn devices_of(&self, user_id: &str) -> Result<Vec<DeviceRecord>> {
        Ok(self.inner.store.vpn_devices_of(user_id).await?)
    }

    pub async fn devices_all(&self) -> Result<Vec<DeviceRecord>> {
        Ok(self.inner.store.vpn_devices_all().await?)
    }

    /// A device the actor may see: their own, or any for staff.
    pub async fn device(&self, actor: &Actor, id: &str) -> Result<DeviceRecord> {
        match self.inner.store.vpn_device(id).await? {
            Some(d) if d.user_id == actor.user_id || actor.staff => Ok(d),
            _ => Err(VpnError::NotFound),
        }
    }

    /// Adds a device for the actor. Without `public_key` Veilig makes the key pair and returns
    /// the configuration with the private key, which is not stored anywhere.
    pub async fn add_device(&self, actor: &Actor, name: &str, public_key: Option<&str>) -> Result<DeviceAdded> {
        if !self.inner.config.enabled {
            return Err(Unavailable::Off.into());
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            return Err(Invalid::Name.into());
        }
        let (pair, key) = match public_key.map(str::trim).filter(|k| !k.is_empty()) {
            Some(text) => (None, Key::parse(text).map_err(Invalid::Key)?),
            None => {
                let pair = KeyPair::generate();
                let key = pair.public;
                (Some(pair), key)
            }
        };
        if key == self.inner.key.public {
            return Err(Invalid::GatewayKey.into());
        }
        let pool = Pool::new(self.inner.config.pool).map_err(Unavailable::Pool)?;
        let now = self.now_ms();
        let id = veilig_core::random_id();
        let mut tx = self.inner.store.begin().await?;
        if tx.vpn_devices_count_of(&actor.user_id).await? >= MAX_DEVICES_PER_USER {
            return Err(Conflict::TooManyDevices(MAX_DEVICES_PER_USER).into());
        }
        if tx.vpn_key_exists(&key.to_base64()).await? {
            return Err(Conflict::DuplicateKey.into());
        }
        let taken: HashSet<Ipv4Addr> = tx.vpn_addresses().await?.iter().filter_map(|a| a.parse().ok()).collect();
        let address = pool.allocate(|a| taken.contains(&a)).map_err(Conflict::PoolFull)?;
        tx.vpn_device_insert(&id, &actor.user_id, name, &key.to_base64(), &address.to_string(), now).await?;
        tx.audit(
            now,
            &actor.entry("vpn.device_added", &actor.email).details(serde_json::json!({
                "device": name, "public_key": key.to_base64(), "address": address.to_string(), "key_made_by": if pair.is_some() { "veilig" } else { "employee" }
            })),
        )
        .await?;
        tx.commit().await?;
        let device = self.inner.store.vpn_device(&id).await?.ok_or(VpnError::NotFound)?;
        let private = pair.as_ref().map(KeyPair::private_base64);
        let config = self.render_conf(&device, private.as_deref().map(String::as_str));
        self.changed();
        Ok(DeviceAdded { device, config, generated: pair.is_some() })
    }

    /// The configuration of a device without its private key (for devices whose key the
    /// employee made, or to see the settings again).
    pub fn render_conf(&self, device: &DeviceRecord, private_key: Option<&str>) -> String {
        let c = &self.inner.config;
        let address = device.address.parse().unwrap_or(Ipv4Addr::UNSPECIFIED);
        let public = self.inner.key.public.to_base64();
        let comment = format!("Veilig VPN: {} ({})", device.name, device.user_email);
        ClientConf {
            private_key,
            address,
            dns: &c.dns,
            gateway_public_key: &public,
            endpoint: &c.endpoint,
            allowed_ips: &c.networks,
            comment: &comment,
        }
        .render()
    }

    pub async fn remove_device(&self, actor: &Actor, id: &str) -> Result<()> {
        let device = self.device(actor, id).await?;
        let mut tx = self.inner.store.begin().await?;
        if tx.vpn_device_delete(&device.id).await? == 0 {
            return Err(VpnError::NotFound);
        }
        tx.audit(
            self.now_ms(),
            &actor.entry("vpn.device_removed", &device.user_email).details(serde_json::json!({
                "device": device.name, "public_key": device.public_key, "address": device.address
            })),
        )
        .await?;
        tx.commit().await?;
        self.changed();
        Ok(())
    }

    // ---- Sessions --------------------------------------------------------------------------

    pub async fn session_of(&self, user_id: &str) -> Result<Option<VpnSessionRecord>> {
        Ok(self.inner.store.vpn_session_open_of(user_id).await?)
    }

    pub async fn sessions_open(&self) -> Result<Vec<VpnSessionRecord>> {
        Ok(self.inner.store.vpn_sessions_open().await?)
    }

    pub async fn sessions_recent(&self, limit: u32) -> Result<Vec<VpnSessionRecord>> {
        Ok(self.inner.store.vpn_sessions_recent(limit).await?)
    }

    pub async fn sessions_of(&self, user_id: &str, limit: u32) -> Result<Vec<VpnSessionRecord>> {
        Ok(self.inner.store.vpn_sessions_of(user_id, limit).await?)
    }

    /// Opens a VPN session for the actor (who has passed both factors: the caller's extractor
    /// sees to that). An open session is returned as it is.
    pub async fn open_session(&self, actor: &Actor) -> Result<VpnSessionRecord> {
        if !self.is_running() {
            return Err(Unavailable::NotRunning.into());
        }
        if let Some(open) = self.session_of(&actor.user_id).await? {
            return Ok(open);
        }
        if self.inner.store.vpn_devices_of(&actor.user_id).await?.is_empty() {
            return Err(Conflict::NoDevice.into());
        }
        let now = self.now_ms();
        let default_secs = i64::try_from(self.inner.config.session_max.as_secs()).unwrap_or(i64::MAX);
        let secs = match self.inner.store.vpn_session_limit_for(&actor.user_id).await? {
            Some(limit) => limit.min(default_secs),
            None => default_secs,
        };
        let expires = now.saturating_add(secs.saturating_mul(1000));
        let id = veilig_core::random_id();
        let mut tx = self.inner.store.begin().await?;
        // Two Connects at once: the second finds the first.
        if tx.vpn_session_close_user(&actor.user_id, "replaced", now).await?.is_some() {
            tracing::debug!("replaced an open VPN session");
        }
        tx.vpn_session_insert(&id, &actor.user_id, now, expires, &actor.ip).await?;
        tx.audit(now, &actor.entry("vpn.session_opened", &actor.email).details(serde_json::json!({"session": id, "max_secs": secs})))
            .await?;
        tx.commit().await?;
        self.inner.bus.publish(Event::VpnSessionOpened {
            user_id: actor.user_id.clone(),
            email: actor.email.clone(),
            ip: actor.ip.clone(),
        });
        self.changed();
        self.session_of(&actor.user_id).await?.ok_or(VpnError::NotFound)
    }

    /// Ends `user_id`'s open session: the user themself (`disconnect`) or staff
    /// (`ended_by_administrator`). Returns false when nothing was open.
    pub async fn close_session(&self, actor: &Actor, user_id: &str) -> Result<bool> {
        let reason = if actor.user_id == user_id {
            "disconnect"
        } else if actor.staff {
            "ended_by_administrator"
        } else {
            return Err(VpnError::Forbidden("only administrators and security officers can end another person's session".into()));
        };
        self.end_session(Some(actor), user_id, reason).await
    }

    /// Ends a session for a reason of the system's or an actor's, audited, announced and
    /// applied to the data plane at once.
    pub(crate) async fn end_session(&self, actor: Option<&Actor>, user_id: &str, reason: &str) -> Result<bool> {
        let now = self.now_ms();
        let Some(open) = self.session_of(user_id).await? else { return Ok(false) };
        let mut tx = self.inner.store.begin().await?;
        let Some(id) = tx.vpn_session_close_user(user_id, reason, now).await? else { return Ok(false) };
        let entry = match actor {
            Some(a) => a.entry("vpn.session_closed", &open.user_email),
            None => Entry::new("system", "vpn.session_closed", &open.user_email),
        };
        tx.audit(now, &entry.details(serde_json::json!({"session": id, "reason": reason, "minutes": (now - open.opened_ms) / 60_000})))
            .await?;
        tx.commit().await?;
        self.inner.bus.publish(Event::VpnSessionClosed { user_id: user_id.to_owned(), email: open.user_email, reason: reason.to_owned() });
        self.changed();
        Ok(true)
    }

    /// Ends the session of the person behind a monitoring alert: the owner of the device with
    /// tunnel address `address` (not the user an alert names, who may be the target of an
    /// attack rather than its author). Returns whose session ended, if one was open.
    pub async fn end_for_alert(&self, address: &str, reason: &str) -> Result<Option<String>> {
        let Some(user_id) = self.inner.store.vpn_devices_all().await?.into_iter().find(|d| d.address == address).map(|d| d.user_id) else {
            return Ok(None);
        };
        tracing::info!(%address, %reason, "a monitoring alert ends a VPN session");
        if self.end_session(None, &user_id, "monitoring_alert").await? { Ok(Some(user_id)) } else { Ok(None) }
    }

    // ---- Access rules ----------------------------------------------------------------------

    pub async fn rules(&self) -> Result<Vec<RuleRecord>> {
        Ok(self.inner.store.vpn_rules_all().await?)
    }

    /// The rules that apply to a user's devices.
    pub async fn rules_for(&self, user_id: &str) -> Result<Vec<Rule>> {
        Ok(self.inner.store.vpn_rules_for_user(user_id).await?.iter().filter_map(to_rule).collect())
    }

    pub async fn add_rule(
        &self,
        actor: &Actor,
        group: &str,
        network: &str,
        protocol: &str,
        ports: &str,
        description: &str,
    ) -> Result<RuleRecord> {
        if !actor.admin {
            return Err(VpnError::Forbidden("only administrators change access rules".into()));
        }
        let rule = Rule::parse(network, protocol, ports).map_err(Invalid::Rule)?;
        let description = description.trim();
        if description.chars().count() > 200 || description.chars().any(char::is_control) {
            return Err(Invalid::Description.into());
        }
        let group_rec = self.inner.store.group_by_name(group.trim()).await?.ok_or_else(|| Invalid::Group(group.trim().to_owned()))?;
        let id = veilig_core::random_id();
        let now = self.now_ms();
        let mut tx = self.inner.store.begin().await?;
        let existing: Vec<Rule> = tx.vpn_rules_of_group(&group_rec.id).await?.iter().filter_map(to_rule).collect();
        rule.check(&self.inner.config.networks, &existing).map_err(Invalid::Rule)?;
        let ports = rule.ports.map(|(a, b)| (i64::from(a), i64::from(b)));
        tx.vpn_rule_insert(&id, &group_rec.id, &rule.network.to_string(), rule.proto.as_str(), ports, description, now).await?;
        tx.audit(now, &actor.entry("vpn.rule_added", &group_rec.name).details(serde_json::json!({"rule": rule.describe()}))).await?;
        let rec = tx.vpn_rule(&id).await?.ok_or(VpnError::NotFound)?;
        tx.commit().await?;
        self.changed();
        Ok(rec)
    }

    pub async fn remove_rule(&self, actor: &Actor, id: &str) -> Result<()> {
        if !actor.admin {
            return Err(VpnError::Forbidden("only administrators change access rules".into()));
        }
        let mut tx = self.inner.store.begin().await?;
        let rule = tx.vpn_rule(id).await?.ok_or(VpnError::NotFound)?;
        tx.vpn_rule_delete(id).await?;
        let described = to_rule(&rule).map(|r| r.describe()).unwrap_or_default();
        tx.audit(self.now_ms(), &actor.entry("vpn.rule_removed", &rule.group_name).details(serde_json::json!({"rule": described}))).await?;
        tx.commit().await?;
        self.changed();
        Ok(())
    }

    pub async fn group_limits(&self) -> Result<Vec<(String, i64)>> {
        Ok(self.inner.store.vpn_group_limits().await?)
    }

    /// Sets a group's maximum session length in minutes (`None` removes the limit).
    pub async fn set_group_limit(&self, actor: &Actor, group: &str, minutes: Option<i64>) -> Result<()> {
        if !actor.admin {
            return Err(VpnError::Forbidden("only administrators change session limits".into()));
        }
        if let Some(m) = minutes
            && !(1..=7 * 24 * 60).contains(&m)
        {
            return Err(Invalid::Minutes.into());
        }
        let g = self.inner.store.group_by_name(group.trim()).await?.ok_or_else(|| Invalid::Group(group.trim().to_owned()))?;
        let mut tx = self.inner.store.begin().await?;
        tx.vpn_group_limit_set(&g.id, minutes.map(|m| m * 60)).await?;
        tx.audit(self.now_ms(), &actor.entry("vpn.session_limit_set", &g.name).details(serde_json::json!({"minutes": minutes}))).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes an audit record of the system's (the gateway's).
    pub(crate) async fn audit_system(&self, action: &str, target: &str, outcome: Outcome, details: serde_json::Value) -> Result<()> {
        self.audit(Entry::new("system", action, target).outcome(outcome).details(details)).await
    }
}

/// A stored rule as the engine's rule; `None` for a row that no longer parses.
pub(crate) fn to_rule(r: &RuleRecord) -> Option<Rule> {
    let ports = match (r.port_from, r.port_to) {
        (Some(a), Some(b)) => Some((u16::try_from(a).ok()?, u16::try_from(b).ok()?)),
        _ => None,
    };
    Some(Rule { network: r.network.parse().ok()?, proto: Proto::parse(&r.protocol).ok()?, ports })
}
