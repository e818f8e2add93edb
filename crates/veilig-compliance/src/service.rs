//! The device compliance service: what the pages, the API, the agent endpoint and the access
//! checks ask of it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use veilig_audit::{Entry, Outcome};
use veilig_core::{Event, EventBus, SharedClock};
use veilig_device::policy::{Compliance, Policy, Verdict, evaluate};
use veilig_device::{Item, Report, Status};
use veilig_identity::crypto::{SecretBox, random_token, token_hash};
use veilig_store::{AgentDeviceRecord, ConditionRecord, Store, StoreError};

use crate::ca::{CaError, DeviceCa};

/// At most this many devices per employee.
pub const MAX_DEVICES_PER_USER: i64 = 20;
/// The largest report the agent endpoint accepts.
pub const MAX_REPORT_BYTES: usize = 64 * 1024;
const POLICY_KEY: &str = "devices.policy";
const CA_KEY: &str = "devices.ca";
/// How long a gate decision is remembered for the portal (changes clear it at once).
const GATE_CACHE_MS: i64 = 30_000;

#[derive(Debug, thiserror::Error)]
pub enum DevicesError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    /// Bad input: which field and why.
    #[error("{0}")]
    Invalid(String),
    #[error("token: this enrolment token is unknown, used or expired; ask for a new one in the portal")]
    Token,
    /// The client certificate is not (or no longer) a device's.
    #[error("{0}")]
    Certificate(String),
    #[error("report: sequence number {0} was already used (a replayed report)")]
    Replayed(i64),
    #[error("you already have {0} devices enrolled; remove one you no longer use")]
    TooMany(i64),
    #[error("device CA: {0}")]
    Ca(#[from] CaError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T, E = DevicesError> = std::result::Result<T, E>;

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

#[derive(Debug, Clone)]
pub struct DevicesSettings {
    pub organisation: String,
    /// How long an enrolment token stays valid.
    pub token_hours: i64,
    /// How long a device certificate stays valid.
    pub cert_days: i64,
    /// Where agents send their reports (`https://host:port`); `None`: the endpoint is off.
    pub agent_url: Option<String>,
    /// Where agents enrol (the portal's public URL).
    pub public_url: String,
}

/// A token just made; shown once.
#[derive(Debug, Clone, Serialize)]
pub struct TokenIssued {
    pub token: String,
    pub expires_ms: i64,
    /// The command to run on the device.
    pub command: String,
}

/// What the agent sends to enrol.
#[derive(Debug, Clone, Deserialize)]
pub struct EnrollRequest {
    pub token: String,
    /// A PKCS#10 certificate request (PEM) made with the device's new key.
    pub csr: String,
    pub hostname: String,
}

/// What the agent gets back.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolled {
    pub device_id: String,
    pub certificate: String,
    pub ca: String,
    pub report_url: String,
}

/// What the agent sends every N minutes: a sequence number that only grows, and the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: i64,
    pub report: Report,
}

/// What the agent endpoint answers.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    pub device_id: String,
    pub compliance: Compliance,
}

/// A device as the pages show it.
#[derive(Debug, Clone)]
pub struct DeviceView {
    pub record: AgentDeviceRecord,
    pub report: Option<Report>,
    pub compliance: Compliance,
    /// `active`, `revoked` or `expired`.
    pub state: &'static str,
    /// Reported within the policy's `max_report_hours`.
    pub fresh: bool,
}

/// The share of active devices per posture item.
#[derive(Debug, Clone, Serialize)]
pub struct ItemShare {
    pub item: Item,
    pub ok: usize,
    pub not_ok: usize,
    pub unknown: usize,
}

#[derive(Debug, Clone)]
pub struct Inventory {
    pub devices: Vec<DeviceView>,
    pub items: Vec<ItemShare>,
    pub total: usize,
    pub compliant: usize,
    pub not_compliant: usize,
    pub unknown: usize,
    /// Active devices that stopped reporting.
    pub stale: usize,
}

/// Where access is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Portal,
    Vpn,
}

/// Why access was refused, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub code: &'static str,
    pub nl: String,
    pub en: String,
}

type GateAnswer = (i64, Option<Refusal>);

struct Inner {
    store: Store,
    clock: SharedClock,
    bus: EventBus,
    ca: DeviceCa,
    settings: DevicesSettings,
    /// (user, for the VPN) → (valid until, the refusal if any).
    gate_cache: Mutex<HashMap<(String, bool), GateAnswer>>,
}

/// The device compliance service. Cheap to clone.
#[derive(Clone)]
pub struct Devices {
    inner: Arc<Inner>,
}

#[derive(Serialize, Deserialize)]
struct StoredCa {
    cert: String,
    key: String,
}

fn valid_hostname(h: &str) -> bool {
    !h.is_empty() && h.len() <= 253 && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

/// Bounds on what a report may carry: anything beyond is a forged or broken agent.
fn check_report(r: &Report) -> Result<()> {
    let short = |s: &str, max: usize| s.len() <= max && !s.chars().any(char::is_control);
    if r.checks.len() > 32 {
        return Err(DevicesError::Invalid("report: more than 32 checks".into()));
    }
    let fields =
        [(&r.agent_version, 40), (&r.hostname, 253), (&r.os.family, 40), (&r.os.name, 120), (&r.os.version, 60), (&r.os.build, 60)];
    if !fields.iter().all(|(s, max)| short(s, *max)) {
        return Err(DevicesError::Invalid("report: a field is too long or holds control characters".into()));
    }
    if r.checks.iter().any(|c| !short(&c.detail, 500)) {
        return Err(DevicesError::Invalid("report: a check's detail is longer than 500 characters".into()));
    }
    Ok(())
}

fn check_policy(p: &Policy) -> Result<()> {
    let days = |v: Option<i64>, name: &str| match v {
        Some(d) if !(1..=365).contains(&d) => Err(DevicesError::Invalid(format!("{name}: between 1 and 365 days, or empty for no limit"))),
        _ => Ok(()),
    };
    days(p.max_signature_days, "max_signature_days")?;
    days(p.max_update_days, "max_update_days")?;
    if p.max_lock_minutes.is_some_and(|m| !(1..=240).contains(&m)) {
        return Err(DevicesError::Invalid("max_lock_minutes: between 1 and 240 minutes, or empty for no limit".into()));
    }
    if !(1..=24 * 30).contains(&p.max_report_hours) {
        return Err(DevicesError::Invalid("max_report_hours: between 1 and 720 hours".into()));
    }
    Ok(())
}

impl Devices {
    /// Opens the service, creating the device CA on first use (its key sealed with the
    /// installation's key; every instance on the same database shares it).
    pub async fn open(store: Store, clock: SharedClock, bus: EventBus, secrets: &SecretBox, settings: DevicesSettings) -> Result<Devices> {
        let now = clock.now();
        let stored = match store.setting(CA_KEY).await? {
            Some(s) => s,
            None => {
                let ca = DeviceCa::generate(&settings.organisation, now)?;
                let key = secrets.seal(ca.key_pem().as_bytes(), CA_KEY).map_err(|e| DevicesError::Ca(CaError::Stored(e)))?;
                let value = serde_json::json!({ "cert": ca.cert_pem(), "key": key }).to_string();
                // another instance may have been first: keep what is stored
                store.setting_init(CA_KEY, &value, clock.now_ms()).await?
            }
        };
        let stored: StoredCa = serde_json::from_str(&stored).map_err(|e| DevicesError::Ca(CaError::Stored(e.to_string())))?;
        let key = secrets.open(&stored.key, CA_KEY).map_err(|e| DevicesError::Ca(CaError::Stored(e)))?;
        let key = String::from_utf8(key).map_err(|e| DevicesError::Ca(CaError::Stored(e.to_string())))?;
        let ca = DeviceCa::from_pem(&stored.cert, &key)?;
        Ok(Devices { inner: Arc::new(Inner { store, clock, bus, ca, settings, gate_cache: Mutex::new(HashMap::new()) }) })
    }

    pub fn ca_pem(&self) -> &str {
        self.inner.ca.cert_pem()
    }

    pub fn settings(&self) -> &DevicesSettings {
        &self.inner.settings
    }

    /// A server certificate for the agent endpoint, for `names`, valid for a year.
    pub fn server_identity(&self, names: &[String]) -> Result<(String, String)> {
        Ok(self.inner.ca.issue_server(names, self.inner.clock.now(), 365)?)
    }

    fn forget_gates(&self) {
        if let Ok(mut c) = self.inner.gate_cache.lock() {
            c.clear();
        }
    }

    /// Forgets one person's remembered answers (their devices changed).
    fn forget_user(&self, user_id: &str) {
        if let Ok(mut c) = self.inner.gate_cache.lock() {
            c.retain(|(u, _), _| u != user_id);
        }
    }

    /// A one-time enrolment token for `user_id`'s next device: the user themselves or staff.
    pub async fn issue_token(&self, actor: &Actor, user_id: &str) -> Result<TokenIssued> {
        if actor.user_id != user_id && !actor.staff {
            return Err(DevicesError::Forbidden("only administrators and security officers enrol devices for someone else".into()));
        }
        if self.inner.settings.agent_url.is_none() {
            return Err(DevicesError::Invalid(
                "the agent endpoint is off on this server: an administrator sets devices.agent_listen first".into(),
            ));
        }
        let user = self.inner.store.user_by_id(user_id).await?.ok_or(DevicesError::NotFound)?;
        let token = random_token("vdt_");
        let now = self.inner.clock.now_ms();
        let expires_ms = now + self.inner.settings.token_hours * 3_600_000;
        let mut tx = self.inner.store.begin().await?;
        tx.agent_token_insert(&token_hash(&token), user_id, now, expires_ms).await?;
        tx.audit(now, &actor.entry("device.token_issued", &user.email).details(serde_json::json!({ "expires_ms": expires_ms }))).await?;
        tx.commit().await?;
        let command = format!("veilig agent enroll {} --token {token}", self.inner.settings.public_url);
        Ok(TokenIssued { token, expires_ms, command })
    }

    /// Enrols a device: the token is used up, the request signed, the device stored.
    pub async fn enroll(&self, req: &EnrollRequest, ip: &str) -> Result<Enrolled> {
        let Some(report_url) = self.inner.settings.agent_url.clone() else {
            return Err(DevicesError::Invalid("the agent endpoint is off on this server (devices.agent_listen)".into()));
        };
        let hostname = req.hostname.trim();
        if !valid_hostname(hostname) {
            return Err(DevicesError::Invalid("hostname: 1 to 253 letters, digits, dots, dashes or underscores".into()));
        }
        let now = self.inner.clock.now();
        let now_ms = self.inner.clock.now_ms();
        let id = veilig_core::random_id();
        // sign first: a broken request must not use up the token
        let issued = self.inner.ca.issue_device(&req.csr, &id, now, self.inner.settings.cert_days)?;
        let mut tx = self.inner.store.begin().await?;
        let Some(user_id) = tx.agent_token_take(&token_hash(req.token.trim()), now_ms).await? else {
            drop(tx);
            self.inner
                .store
                .audit(
                    now_ms,
                    &Entry::new("anonymous", "device.enroll_refused", hostname).ip(ip).outcome(Outcome::Failure).details(
                        serde_json::json!({
                            "reason": "token"
                        }),
                    ),
                )
                .await?;
            return Err(DevicesError::Token);
        };
        let count = tx.agent_device_count_of(&user_id).await?;
        if count >= MAX_DEVICES_PER_USER {
            return Err(DevicesError::TooMany(count));
        }
        let not_after_ms = (issued.not_after.unix_timestamp_nanos() / 1_000_000) as i64;
        tx.agent_device_insert(&id, &user_id, hostname, &issued.serial, &issued.sha256, not_after_ms, now_ms).await?;
        let email = self.inner.store.user_by_id(&user_id).await?.map(|u| u.email).unwrap_or_default();
        tx.audit(
            now_ms,
            &Entry::new(&email, "device.enrolled", &id).ip(ip).details(serde_json::json!({
                "hostname": hostname, "serial": issued.serial, "not_after_ms": not_after_ms
            })),
        )
        .await?;
        tx.commit().await?;
        self.forget_user(&user_id);
        Ok(Enrolled { device_id: id, certificate: issued.pem, ca: self.inner.ca.cert_pem().to_owned(), report_url })
    }

    /// The device whose certificate (SHA-256 of its DER) made the connection, if it may report.
    async fn device_for(&self, cert_sha256: &str) -> Result<AgentDeviceRecord> {
        let d = self
            .inner
            .store
            .agent_device_by_cert(cert_sha256)
            .await?
            .ok_or_else(|| DevicesError::Certificate("this certificate belongs to no enrolled device".into()))?;
        if d.revoked_ms.is_some() {
            return Err(DevicesError::Certificate("this device's certificate was revoked; enrol the device again".into()));
        }
        if d.cert_not_after_ms <= self.inner.clock.now_ms() {
            return Err(DevicesError::Certificate("this device's certificate has expired; enrol the device again".into()));
        }
        Ok(d)
    }

    /// A report from the agent endpoint: `cert_sha256` is the client certificate the TLS layer
    /// verified against the device CA.
    pub async fn report(&self, cert_sha256: &str, body: &[u8], ip: &str) -> Result<Judged> {
        let device = self.device_for(cert_sha256).await?;
        if body.len() > MAX_REPORT_BYTES {
            return Err(DevicesError::Invalid(format!("report: larger than {} KiB", MAX_REPORT_BYTES / 1024)));
        }
        let env: Envelope = serde_json::from_slice(body).map_err(|e| DevicesError::Invalid(format!("report: {e}")))?;
        check_report(&env.report)?;
        if env.seq <= device.last_seq {
            return Err(DevicesError::Replayed(env.seq));
        }
        let now_ms = self.inner.clock.now_ms();
        let now = now_ms / 1000;
        let policy = self.policy().await?;
        let compliance = evaluate(&env.report, &policy, now, now);
        let verdict = verdict_word(compliance.verdict);
        let os = format!("{} {}", env.report.os.name, env.report.os.version).trim().to_owned();
        let json = serde_json::to_string(&env.report).map_err(|e| DevicesError::Invalid(e.to_string()))?;
        if !self.inner.store.agent_report_store(&device.id, env.seq, now_ms, ip, &os, verdict, &json).await? {
            return Err(DevicesError::Replayed(env.seq));
        }
        if device.verdict != verdict || device.last_report_ms.is_none() {
            let codes: Vec<&str> = compliance.findings.iter().map(|f| f.code).collect();
            self.inner
                .store
                .audit(
                    now_ms,
                    &Entry::new(&device.user_email, "device.compliance_changed", &device.id).ip(ip).details(serde_json::json!({
                        "hostname": device.hostname, "from": device.verdict, "to": verdict, "findings": codes
                    })),
                )
                .await?;
        }
        self.forget_user(&device.user_id);
        self.after_change(&device.user_id).await;
        Ok(Judged { device_id: device.id, compliance })
    }

    /// After a report, revocation or a condition change: a person who no longer meets their
    /// VPN conditions loses their VPN session.
    async fn after_change(&self, user_id: &str) {
        if let Ok(Err(refusal)) = self.gate(user_id, Target::Vpn).await {
            self.inner.bus.publish(Event::DeviceAccessLost { user_id: user_id.to_owned(), reason: refusal.code.to_owned() });
        }
    }

    pub async fn policy(&self) -> Result<Policy> {
        Ok(match self.inner.store.setting(POLICY_KEY).await? {
            Some(s) => serde_json::from_str(&s).unwrap_or_default(),
            None => Policy::default(),
        })
    }

    pub async fn set_policy(&self, actor: &Actor, policy: &Policy) -> Result<()> {
        if !actor.admin {
            return Err(DevicesError::Forbidden("only administrators change the device policy".into()));
        }
        check_policy(policy)?;
        let json = serde_json::to_string(policy).map_err(|e| DevicesError::Invalid(e.to_string()))?;
        let now = self.inner.clock.now_ms();
        let entry = actor.entry("device.policy_changed", "policy").details(serde_json::to_value(policy).unwrap_or_default());
        self.inner.store.setting_set(POLICY_KEY, &json, now, &entry).await?;
        self.forget_gates();
        Ok(())
    }

    fn view(&self, record: AgentDeviceRecord, policy: &Policy, now_ms: i64) -> DeviceView {
        let report: Option<Report> = record.report.as_deref().and_then(|r| serde_json::from_str(r).ok());
        let state = if record.revoked_ms.is_some() {
            "revoked"
        } else if record.cert_not_after_ms <= now_ms {
            "expired"
        } else {
            "active"
        };
        let fresh = record.last_report_ms.is_some_and(|t| now_ms - t <= policy.max_report_hours * 3_600_000);
        let compliance = match (&report, record.last_report_ms) {
            (Some(r), Some(at)) => evaluate(r, policy, at / 1000, now_ms / 1000),
            _ => Compliance {
                verdict: Verdict::Unknown,
                findings: vec![veilig_device::policy::Finding {
                    item: None,
                    status: Status::Unknown,
                    code: "report.none",
                    nl: "Dit apparaat heeft nog niets gemeld; start de Veilig-agent (veilig agent run).".into(),
                    en: "This device has not reported yet; start the Veilig agent (veilig agent run).".into(),
                }],
            },
        };
        DeviceView { record, report, compliance, state, fresh }
    }

    pub async fn devices_of(&self, user_id: &str) -> Result<Vec<DeviceView>> {
        let policy = self.policy().await?;
        let now = self.inner.clock.now_ms();
        Ok(self.inner.store.agent_devices_of(user_id).await?.into_iter().map(|d| self.view(d, &policy, now)).collect())
    }

    pub async fn device(&self, actor: &Actor, id: &str) -> Result<DeviceView> {
        let d = self.inner.store.agent_device(id).await?.ok_or(DevicesError::NotFound)?;
        if d.user_id != actor.user_id && !actor.staff {
            return Err(DevicesError::NotFound);
        }
        let policy = self.policy().await?;
        Ok(self.view(d, &policy, self.inner.clock.now_ms()))
    }

    /// Every device, and the shares per check among the active ones.
    pub async fn inventory(&self) -> Result<Inventory> {
        let policy = self.policy().await?;
        let now = self.inner.clock.now_ms();
        let devices: Vec<DeviceView> =
            self.inner.store.agent_devices_all().await?.into_iter().map(|d| self.view(d, &policy, now)).collect();
        let items =
            [Item::OsSupported, Item::Updates, Item::Scanner, Item::Signatures, Item::DiskEncryption, Item::Firewall, Item::ScreenLock];
        let mut shares: Vec<ItemShare> = items.iter().map(|&item| ItemShare { item, ok: 0, not_ok: 0, unknown: 0 }).collect();
        let (mut total, mut compliant, mut not_compliant, mut unknown, mut stale) = (0, 0, 0, 0, 0);
        for d in devices.iter().filter(|d| d.state == "active") {
            total += 1;
            match d.compliance.verdict {
                Verdict::Compliant => compliant += 1,
                Verdict::NotCompliant => not_compliant += 1,
                Verdict::Unknown => unknown += 1,
            }
            if !d.fresh {
                stale += 1;
            }
            for s in &mut shares {
                // an item the policy judged: its finding; otherwise what the device saw
                let finding = d.compliance.findings.iter().find(|f| f.item == Some(s.item)).map(|f| f.status);
                let seen = d.report.as_ref().and_then(|r| r.check(s.item)).map(|c| c.status);
                match finding.or(seen) {
                    Some(Status::NotOk) => s.not_ok += 1,
                    Some(Status::Ok) => s.ok += 1,
                    Some(Status::Unknown) | None => s.unknown += 1,
                }
            }
        }
        Ok(Inventory { devices, items: shares, total, compliant, not_compliant, unknown, stale })
    }

    /// Revokes a device's certificate: its next report is refused. The owner or staff.
    pub async fn revoke(&self, actor: &Actor, id: &str) -> Result<()> {
        let d = self.inner.store.agent_device(id).await?.ok_or(DevicesError::NotFound)?;
        if d.user_id != actor.user_id && !actor.staff {
            return Err(DevicesError::NotFound);
        }
        let now = self.inner.clock.now_ms();
        let mut tx = self.inner.store.begin().await?;
        if tx.agent_device_revoke(id, now).await? == 0 {
            return Ok(()); // revoked already
        }
        tx.audit(
            now,
            &actor.entry("device.revoked", id).details(serde_json::json!({
                "hostname": d.hostname, "owner": d.user_email, "serial": d.cert_serial
            })),
        )
        .await?;
        tx.commit().await?;
        self.forget_user(&d.user_id);
        self.after_change(&d.user_id).await;
        Ok(())
    }

    /// Removes a device from the inventory (its certificate stops working with it).
    pub async fn remove(&self, actor: &Actor, id: &str) -> Result<()> {
        let d = self.inner.store.agent_device(id).await?.ok_or(DevicesError::NotFound)?;
        if d.user_id != actor.user_id && !actor.staff {
            return Err(DevicesError::NotFound);
        }
        let now = self.inner.clock.now_ms();
        let mut tx = self.inner.store.begin().await?;
        tx.agent_device_delete(id).await?;
        tx.audit(now, &actor.entry("device.removed", id).details(serde_json::json!({ "hostname": d.hostname, "owner": d.user_email })))
            .await?;
        tx.commit().await?;
        self.forget_user(&d.user_id);
        self.after_change(&d.user_id).await;
        Ok(())
    }

    pub async fn conditions(&self) -> Result<Vec<ConditionRecord>> {
        Ok(self.inner.store.agent_conditions().await?)
    }

    /// Sets what a group requires of its members' devices. Administrators only.
    pub async fn set_conditions(&self, actor: &Actor, group: &str, mut c: ConditionRecord) -> Result<ConditionRecord> {
        if !actor.admin {
            return Err(DevicesError::Forbidden("only administrators change access conditions".into()));
        }
        let g = self
            .inner
            .store
            .group_by_name(group.trim())
            .await?
            .ok_or_else(|| DevicesError::Invalid(format!("group: there is no group '{}'", group.trim())))?;
        c.group_id = g.id.clone();
        c.group_name = g.name.clone();
        let now = self.inner.clock.now_ms();
        let mut tx = self.inner.store.begin().await?;
        tx.agent_conditions_set(&c).await?;
        tx.audit(
            now,
            &actor.entry("device.conditions_changed", &g.name).details(serde_json::json!({
                "portal_compliant": c.portal_compliant, "portal_cert": c.portal_cert,
                "vpn_compliant": c.vpn_compliant, "vpn_cert": c.vpn_cert
            })),
        )
        .await?;
        tx.commit().await?;
        self.forget_gates();
        Ok(c)
    }

    /// Whether `user_id` meets their groups' device conditions for `target`: `Ok(Ok(()))`,
    /// or the refusal with the reason. Portal answers are remembered for 30 seconds (every
    /// change clears them).
    pub async fn gate(&self, user_id: &str, target: Target) -> Result<Result<(), Refusal>> {
        let key = (user_id.to_owned(), target == Target::Vpn);
        let now = self.inner.clock.now_ms();
        if let Ok(c) = self.inner.gate_cache.lock()
            && let Some((until, answer)) = c.get(&key)
            && *until > now
        {
            return Ok(answer.clone().map_or(Ok(()), Err));
        }
        let conditions = self.inner.store.agent_conditions_for_user(user_id).await?;
        let (need_compliant, need_cert) = match target {
            Target::Portal => (conditions.iter().any(|c| c.portal_compliant), conditions.iter().any(|c| c.portal_cert)),
            Target::Vpn => (conditions.iter().any(|c| c.vpn_compliant), conditions.iter().any(|c| c.vpn_cert)),
        };
        let answer = if !need_compliant && !need_cert { None } else { self.judge(user_id, need_compliant, need_cert).await? };
        if let Ok(mut c) = self.inner.gate_cache.lock() {
            if c.len() > 10_000 {
                c.clear();
            }
            c.insert(key, (now + GATE_CACHE_MS, answer.clone()));
        }
        Ok(answer.map_or(Ok(()), Err))
    }

    async fn judge(&self, user_id: &str, need_compliant: bool, need_cert: bool) -> Result<Option<Refusal>> {
        let devices = self.devices_of(user_id).await?;
        let active: Vec<&DeviceView> = devices.iter().filter(|d| d.state == "active").collect();
        if active.is_empty() {
            return Ok(Some(Refusal {
                code: "device.none",
                nl: "Hiervoor is een aangemeld apparaat nodig. Meld je laptop aan met de Veilig-agent (pagina Apparaten).".into(),
                en: "This needs an enrolled device. Enrol your laptop with the Veilig agent (Devices page).".into(),
            }));
        }
        if need_cert && !active.iter().any(|d| d.fresh) {
            let hours = self.policy().await?.max_report_hours;
            return Ok(Some(Refusal {
                code: "device.certificate",
                nl: format!(
                    "Geen van je apparaten heeft zich de laatste {hours} uur met zijn certificaat gemeld. Start de Veilig-agent (veilig agent run --once)."
                ),
                en: format!(
                    "None of your devices has reported with its certificate in the last {hours} hours. Start the Veilig agent (veilig agent run --once)."
                ),
            }));
        }
        if need_compliant && !active.iter().any(|d| d.compliance.verdict == Verdict::Compliant) {
            let first = active.iter().flat_map(|d| d.compliance.findings.iter()).find(|f| f.status != Status::Ok);
            let (nl, en) = first.map(|f| (f.nl.clone(), f.en.clone())).unwrap_or_default();
            return Ok(Some(Refusal {
                code: "device.not_compliant",
                nl: format!("Hiervoor moet een van je apparaten aan het beleid voldoen. Eerst oplossen: {nl}"),
                en: format!("This needs one of your devices to meet the policy. Fix first: {en}"),
            }));
        }
        Ok(None)
    }
}

pub fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Compliant => "compliant",
        Verdict::NotCompliant => "not_compliant",
        Verdict::Unknown => "unknown",
    }
}
