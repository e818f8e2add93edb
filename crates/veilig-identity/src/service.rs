//! [`Identity`]: the rules of this crate combined with the store, the clock and the audit chain.

use veilig_audit::{Entry, Outcome};
use veilig_core::{Event, EventBus, SharedClock};
use veilig_store::{FactorRecord, SessionRecord, Store, TokenRecord, Tx, UserColumn, UserRecord};

use crate::crypto::{self, SecretBox};
use crate::email::Email;
use crate::password::{self, Hasher};
use crate::role::Role;
use crate::throttle::{Policy, State};
use crate::{IdentityError, Result, totp};

/// Timeouts and lifetimes, from the configuration.
#[derive(Debug, Clone)]
pub struct IdentitySettings {
    pub session_idle_ms: i64,
    pub session_max_ms: i64,
    pub setup_valid_ms: i64,
    pub enroll_valid_ms: i64,
    /// Shown in authenticator apps next to the account.
    pub issuer: String,
    /// Where employees reach Veilig, for links in mail.
    pub public_url: String,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        IdentitySettings {
            session_idle_ms: 30 * 60_000,
            session_max_ms: 12 * 3_600_000,
            setup_valid_ms: 24 * 3_600_000,
            enroll_valid_ms: 7 * 24 * 3_600_000,
            issuer: "Veilig".to_owned(),
            public_url: "http://127.0.0.1:8080".to_owned(),
        }
    }
}

/// Who is acting and from where, for the audit chain.
#[derive(Debug, Clone)]
pub struct Actor {
    pub email: String,
    pub user_id: Option<String>,
    pub ip: String,
}

impl Actor {
    pub fn anonymous(ip: impl Into<String>) -> Actor {
        Actor { email: "anonymous".to_owned(), user_id: None, ip: ip.into() }
    }

    pub fn system() -> Actor {
        Actor { email: "system".to_owned(), user_id: None, ip: String::new() }
    }

    fn entry(&self, action: &str, target: &str) -> Entry {
        Entry::new(&self.email, action, target).ip(&self.ip)
    }
}

/// A valid session and whose it is.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub session: SessionRecord,
    pub user: UserRecord,
    pub role: Role,
}

impl SessionInfo {
    pub fn actor(&self) -> Actor {
        Actor { email: self.user.email.clone(), user_id: Some(self.user.id.clone()), ip: self.session.ip.clone() }
    }

    pub fn is_full(&self) -> bool {
        self.session.stage == STAGE_FULL
    }
}

/// The result of the password step.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// The new session (its stage is `password`: a second factor must follow).
    pub session_token: String,
    pub methods: Vec<&'static str>,
}

/// A new TOTP factor waiting for its first code.
#[derive(Debug, Clone)]
pub struct TotpEnrollment {
    pub factor_id: String,
    pub secret_base32: String,
    pub otpauth_uri: String,
}

pub const STAGE_ENROLL: &str = "enroll";
pub const STAGE_PASSWORD: &str = "password";
pub const STAGE_FULL: &str = "full";

#[derive(Clone)]
pub struct Identity {
    pub store: Store,
    pub clock: SharedClock,
    pub hasher: Hasher,
    pub secrets: SecretBox,
    pub bus: EventBus,
    pub settings: IdentitySettings,
    /// The WebAuthn relying party; `None` when the public URL has no domain name.
    pub passkeys: Option<std::sync::Arc<crate::webauthn::Passkeys>>,
}

impl Identity {
    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    async fn commit_audited(&self, mut tx: Tx, entries: &[Entry]) -> Result<()> {
        let now = self.now();
        for e in entries {
            tx.audit(now, e).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Writes one audit record on its own (for events that change nothing else).
    pub async fn audit(&self, entry: Entry) -> Result<()> {
        self.store.audit(self.now(), &entry).await?;
        Ok(())
    }

    // ---- Setup and invitations -------------------------------------------------------------

    /// True while no administrator can sign in.
    pub async fn setup_needed(&self) -> Result<bool> {
        Ok(self.store.active_admins().await? == 0)
    }

    /// Issues a new single-use setup link token, revoking earlier ones.
    pub async fn issue_setup_token(&self) -> Result<String> {
        let now = self.now();
        let token = crypto::random_token("");
        let mut tx = self.store.begin().await?;
        tx.tokens_revoke("setup", None, now).await?;
        tx.token_insert(&TokenRecord {
            id: crypto::random_id(),
            kind: "setup".to_owned(),
            hash: crypto::token_hash(&token),
            user_id: None,
            name: "first administrator".to_owned(),
            scopes: String::new(),
            created_ms: now,
            expires_ms: Some(now + self.settings.setup_valid_ms),
            used_ms: None,
            revoked_ms: None,
        })
        .await?;
        let e = Actor::system()
            .entry("identity.setup_link_issued", "setup")
            .details(serde_json::json!({"valid_hours": self.settings.setup_valid_ms / 3_600_000}));
        self.commit_audited(tx, &[e]).await?;
        Ok(token)
    }

    /// The token if it is of `kind`, unused, unrevoked and unexpired.
    pub async fn valid_token(&self, token: &str, kind: &str) -> Result<TokenRecord> {
        if token.is_empty() || token.len() > 200 {
            return Err(IdentityError::BadToken);
        }
        let now = self.now();
        match self.store.token_by_hash(&crypto::token_hash(token)).await? {
            Some(t) if t.kind == kind && t.used_ms.is_none() && t.revoked_ms.is_none() && t.expires_ms.is_none_or(|e| e > now) => Ok(t),
            _ => Err(IdentityError::BadToken),
        }
    }

    /// The setup link's form: creates the first administrator and an enrolment session.
    pub async fn complete_setup(
        &self,
        token: &str,
        email: &str,
        name: &str,
        password: &str,
        ip: &str,
        user_agent: &str,
    ) -> Result<(String, UserRecord)> {
        let t = self.valid_token(token, "setup").await?;
        if !self.setup_needed().await? {
            return Err(IdentityError::BadToken);
        }
        let email = Email::parse(email).map_err(IdentityError::Invalid)?;
        let name = clean_name(name, &email)?;
        password::check_policy(password, &[email.as_str(), &name]).map_err(IdentityError::Invalid)?;
        let hash = self.hasher.hash(password).await.map_err(IdentityError::Internal)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        if !tx.token_use(&t.id, now).await? {
            return Err(IdentityError::BadToken);
        }
        let user = match tx.user_by_email(email.as_str()).await? {
            // An administrator who started but did not finish enrolment starts again.
            Some(existing) if existing.status == "invited" => {
                tx.user_set(&existing.id, UserColumn::PasswordHash, Some(hash), now).await?;
                tx.user_set(&existing.id, UserColumn::Role, Some("admin".to_owned()), now).await?;
                existing
            }
            Some(_) => return Err(IdentityError::Conflict("this e-mail address already has an account".to_owned())),
            None => {
                let u = UserRecord {
                    id: crypto::random_id(),
                    email: email.to_string(),
                    display_name: name,
                    role: Role::Admin.as_str().to_owned(),
                    status: "invited".to_owned(),
                    password_hash: Some(hash),
                    language: None,
                    created_ms: now,
                    updated_ms: now,
                };
                tx.user_insert(&u).await?;
                u
            }
        };
        let session = self.new_session(&mut tx, &user.id, STAGE_ENROLL, ip, user_agent).await?;
        let e = Actor::anonymous(ip).entry("identity.setup_completed", &user.email).details(serde_json::json!({"role": "admin"}));
        self.commit_audited(tx, &[e]).await?;
        Ok((session, user))
    }

    /// Invites a user: creates the account and returns the enrolment token for the link.
    pub async fn invite(&self, actor: &Actor, email: &str, name: &str, role: Role, groups: &[String]) -> Result<(UserRecord, String)> {
        let email = Email::parse(email).map_err(IdentityError::Invalid)?;
        let name = clean_name(name, &email)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        if tx.user_by_email(email.as_str()).await?.is_some() {
            return Err(IdentityError::Conflict(format!("{email} already has an account")));
        }
        let user = UserRecord {
            id: crypto::random_id(),
            email: email.to_string(),
            display_name: name,
            role: role.as_str().to_owned(),
            status: "invited".to_owned(),
            password_hash: None,
            language: None,
            created_ms: now,
            updated_ms: now,
        };
        tx.user_insert(&user).await?;
        for g in groups {
            let gid = tx.group_id(g).await?.ok_or_else(|| IdentityError::Invalid(format!("there is no group {g}")))?;
            tx.membership_add(&user.id, &gid).await?;
        }
        let token = self.new_enroll_token(&mut tx, &user.id).await?;
        let e = actor.entry("identity.user_invited", &user.email).details(serde_json::json!({"role": role.as_str(), "groups": groups}));
        self.commit_audited(tx, &[e]).await?;
        self.announce_link(&user.id, &token);
        Ok((user, token))
    }

    async fn new_enroll_token(&self, tx: &mut Tx, user_id: &str) -> Result<String> {
        let now = self.now();
        tx.tokens_revoke("enroll", Some(user_id), now).await?;
        let token = crypto::random_token("");
        tx.token_insert(&TokenRecord {
            id: crypto::random_id(),
            kind: "enroll".to_owned(),
            hash: crypto::token_hash(&token),
            user_id: Some(user_id.to_owned()),
            name: "enrolment".to_owned(),
            scopes: String::new(),
            created_ms: now,
            expires_ms: Some(now + self.settings.enroll_valid_ms),
            used_ms: None,
            revoked_ms: None,
        })
        .await?;
        Ok(token)
    }

    /// A new enrolment link for a user who has not finished enrolling (the old one stops working).
    pub async fn resend_invitation(&self, actor: &Actor, user_id: &str) -> Result<(UserRecord, String)> {
        let user = self.user(user_id).await?;
        if user.status != "invited" {
            return Err(IdentityError::Conflict("this user has already enrolled".to_owned()));
        }
        let mut tx = self.store.begin().await?;
        let token = self.new_enroll_token(&mut tx, &user.id).await?;
        let e = actor.entry("identity.invitation_resent", &user.email);
        self.commit_audited(tx, &[e]).await?;
        self.announce_link(&user.id, &token);
        Ok((user, token))
    }

    /// The enrolment link for a token.
    pub fn enrollment_url(&self, token: &str) -> String {
        format!("{}/enroll/{token}", self.settings.public_url)
    }

    fn announce_link(&self, user_id: &str, token: &str) {
        self.bus.publish(Event::InvitationIssued { user_id: user_id.to_owned(), url: self.enrollment_url(token) });
    }

    /// The enrolment link's first step: choose a password. Returns an enrolment session.
    pub async fn enroll_password(&self, token: &str, password: &str, ip: &str, user_agent: &str) -> Result<(String, UserRecord)> {
        let t = self.valid_token(token, "enroll").await?;
        let user_id = t.user_id.clone().ok_or(IdentityError::BadToken)?;
        let user = self.user(&user_id).await?;
        if user.status != "invited" {
            return Err(IdentityError::BadToken);
        }
        password::check_policy(password, &[&user.email, &user.display_name]).map_err(IdentityError::Invalid)?;
        let hash = self.hasher.hash(password).await.map_err(IdentityError::Internal)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        if !tx.token_use(&t.id, now).await? {
            return Err(IdentityError::BadToken);
        }
        tx.user_set(&user.id, UserColumn::PasswordHash, Some(hash), now).await?;
        let session = self.new_session(&mut tx, &user.id, STAGE_ENROLL, ip, user_agent).await?;
        let e = Actor { email: user.email.clone(), user_id: Some(user.id.clone()), ip: ip.to_owned() }
            .entry("identity.password_set", &user.email);
        self.commit_audited(tx, &[e]).await?;
        Ok((session, user))
    }

    // ---- Second factors ------------------------------------------------------------------

    /// Starts adding a TOTP factor (during enrolment or later): a new secret, not yet confirmed.
    pub async fn totp_begin(&self, s: &SessionInfo) -> Result<TotpEnrollment> {
        if s.session.stage == STAGE_PASSWORD {
            return Err(IdentityError::SecondFactorRequired);
        }
        let secret = totp::generate_secret();
        let factor_id = crypto::random_id();
        let sealed = self.secrets.seal(&secret, &format!("factor:{factor_id}")).map_err(IdentityError::Internal)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        // Unconfirmed attempts left behind are replaced.
        tx.execute("DELETE FROM factors WHERE user_id = $1 AND confirmed = 0", &[s.user.id.as_str().into()]).await?;
        tx.factor_insert(&FactorRecord {
            id: factor_id.clone(),
            user_id: s.user.id.clone(),
            kind: "totp".to_owned(),
            name: "Authenticator app".to_owned(),
            secret: sealed,
            confirmed: false,
            last_step: None,
            last_used_ms: None,
            created_ms: now,
        })
        .await?;
        tx.commit().await?;
        Ok(TotpEnrollment {
            factor_id,
            secret_base32: totp::base32(&secret),
            otpauth_uri: totp::otpauth_uri(&self.settings.issuer, &s.user.email, &secret),
        })
    }

    fn open_totp(&self, f: &FactorRecord) -> Result<Vec<u8>> {
        self.secrets.open(&f.secret, &format!("factor:{}", f.id)).map_err(IdentityError::Internal)
    }

    /// Confirms the pending TOTP factor with its first code. When it is the user's first factor,
    /// the account becomes active and recovery codes are made (returned once). The session is
    /// returned renewed and fully signed in.
    pub async fn totp_confirm(&self, s: &SessionInfo, code: &str, name: Option<&str>) -> Result<(Option<Vec<String>>, String)> {
        if s.session.stage == STAGE_PASSWORD {
            return Err(IdentityError::SecondFactorRequired);
        }
        let factors = self.store.factors_of(&s.user.id).await?;
        let pending = factors
            .iter()
            .find(|f| f.kind == "totp" && !f.confirmed)
            .ok_or(IdentityError::Invalid("start adding an authenticator app first".to_owned()))?;
        let secret = self.open_totp(pending)?;
        let unix = self.clock.now().unix_timestamp();
        let step = totp::verify(&secret, code, unix, None).ok_or(IdentityError::BadCode)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        if !tx.factor_use_step(&pending.id, step, now).await? {
            return Err(IdentityError::BadCode);
        }
        if let Some(n) = name.map(str::trim).filter(|n| !n.is_empty()) {
            tx.factor_rename(&pending.id, &s.user.id, &n.chars().take(60).collect::<String>()).await?;
        }
        let first = !factors.iter().any(|f| f.confirmed);
        let (codes, entries) = self.after_first_factor(&mut tx, s, first, "totp").await?;
        let session = self.renew_session(&mut tx, s, STAGE_FULL).await?;
        self.commit_audited(tx, &entries).await?;
        self.bus.publish(Event::FactorChanged { user_id: s.user.id.clone(), added: true, kind: "totp".to_owned() });
        Ok((codes, session))
    }

    /// Shared by TOTP and passkey enrolment: activates the account and makes recovery codes
    /// when this was the first factor.
    pub(crate) async fn after_first_factor(
        &self,
        tx: &mut Tx,
        s: &SessionInfo,
        first: bool,
        kind: &str,
    ) -> Result<(Option<Vec<String>>, Vec<Entry>)> {
        let now = self.now();
        let actor = s.actor();
        let mut entries = vec![actor.entry("identity.factor_added", &s.user.email).details(serde_json::json!({"kind": kind}))];
        let mut codes = None;
        if first {
            let new_codes = crypto::recovery_codes();
            let hashes: Vec<String> = new_codes.iter().map(|c| crypto::token_hash(c)).collect();
            tx.recovery_replace(&s.user.id, &hashes).await?;
            codes = Some(new_codes);
            entries.push(actor.entry("identity.recovery_codes_created", &s.user.email));
        }
        if s.user.status == "invited" {
            tx.user_set(&s.user.id, UserColumn::Status, Some("active".to_owned()), now).await?;
            entries.push(actor.entry("identity.enrolled", &s.user.email).details(serde_json::json!({"role": s.user.role})));
        }
        Ok((codes, entries))
    }

    /// New recovery codes, replacing the old ones.
    pub async fn regenerate_recovery_codes(&self, s: &SessionInfo) -> Result<Vec<String>> {
        require_full(s)?;
        let codes = crypto::recovery_codes();
        let hashes: Vec<String> = codes.iter().map(|c| crypto::token_hash(c)).collect();
        let mut tx = self.store.begin().await?;
        tx.recovery_replace(&s.user.id, &hashes).await?;
        self.commit_audited(tx, &[s.actor().entry("identity.recovery_codes_created", &s.user.email)]).await?;
        Ok(codes)
    }

    pub async fn rename_factor(&self, s: &SessionInfo, factor_id: &str, name: &str) -> Result<()> {
        require_full(s)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(IdentityError::Invalid("a name of 1 to 60 characters".to_owned()));
        }
        let mut tx = self.store.begin().await?;
        if tx.factor_rename(factor_id, &s.user.id, name).await? == 0 {
            return Err(IdentityError::NotFound("factor"));
        }
        self.commit_audited(
            tx,
            &[s.actor().entry("identity.factor_renamed", &s.user.email).details(serde_json::json!({"factor": factor_id}))],
        )
        .await
    }

    /// Removes one of the user's own factors; never the last confirmed one.
    pub async fn remove_factor(&self, s: &SessionInfo, factor_id: &str) -> Result<()> {
        require_full(s)?;
        let mut tx = self.store.begin().await?;
        let count = tx.confirmed_factor_count(&s.user.id).await?;
        let factor =
            self.store.factor_by_id(factor_id).await?.filter(|f| f.user_id == s.user.id).ok_or(IdentityError::NotFound("factor"))?;
        if factor.confirmed && count <= 1 {
            return Err(IdentityError::Conflict("this is your only second factor; add another before removing it".to_owned()));
        }
        tx.factor_delete(factor_id, &s.user.id).await?;
        let e = s
            .actor()
            .entry("identity.factor_removed", &s.user.email)
            .details(serde_json::json!({"kind": factor.kind, "name": factor.name}));
        self.commit_audited(tx, &[e]).await
    }

    // ---- Login -------------------------------------------------------------------------

    pub(crate) async fn throttle_state_pub(&self, key: &str) -> Result<State> {
        self.throttle_state(key).await
    }

    pub(crate) async fn fail_pub(&self, email: &str, ip: &str, reason: &str) -> Result<()> {
        self.fail(email, ip, reason).await
    }

    pub(crate) async fn new_session_pub(&self, tx: &mut Tx, user_id: &str, stage: &str, ip: &str, user_agent: &str) -> Result<String> {
        self.new_session(tx, user_id, stage, ip, user_agent).await
    }

    async fn throttle_state(&self, key: &str) -> Result<State> {
        Ok(self
            .store
            .throttle_get(key)
            .await?
            .map(|(failures, window_start_ms, blocked_until_ms)| State { failures, window_start_ms, blocked_until_ms })
            .unwrap_or_default())
    }

    /// Refuses when either the account or the address is blocked.
    async fn check_throttle(&self, email_key: &str, ip_key: &str) -> Result<()> {
        let now = self.now();
        let a = Policy::ACCOUNT.blocked_for(&self.throttle_state(email_key).await?, now);
        let b = Policy::ADDRESS.blocked_for(&self.throttle_state(ip_key).await?, now);
        match a.into_iter().chain(b).max() {
            Some(ms) => Err(IdentityError::Throttled { retry_after_secs: (ms + 999) / 1000 }),
            None => Ok(()),
        }
    }

    /// Counts a failure for the account and the address; audits the start of a block.
    async fn fail(&self, email: &str, ip: &str, reason: &str) -> Result<()> {
        let now = self.now();
        for (key, policy) in [(format!("email:{email}"), Policy::ACCOUNT), (format!("ip:{ip}"), Policy::ADDRESS)] {
            let state = self.throttle_state(&key).await?;
            let (next, blocked) = policy.fail(&state, now);
            self.store.throttle_put(&key, next.failures, next.window_start_ms, next.blocked_until_ms).await?;
            if blocked {
                let secs = (next.blocked_until_ms - now) / 1000;
                let e = Entry::new("system", "identity.locked", &key)
                    .ip(ip)
                    .outcome(Outcome::Denied)
                    .details(serde_json::json!({"seconds": secs, "failures": next.failures}));
                self.audit(e).await?;
            }
        }
        self.audit(
            Entry::new(email, "identity.login_failed", email)
                .ip(ip)
                .outcome(Outcome::Failure)
                .details(serde_json::json!({"reason": reason})),
        )
        .await?;
        self.bus.publish(Event::LoginFailed { email: email.to_owned(), ip: ip.to_owned(), reason: reason.to_owned() });
        Ok(())
    }

    /// Step one: e-mail and password. The same error, after the same work, whether or not the
    /// account exists.
    pub async fn login_password(&self, email: &str, password: &str, ip: &str, user_agent: &str) -> Result<LoginOutcome> {
        let email = match Email::parse(email) {
            Ok(e) => e,
            Err(_) => {
                // Spend the same time as a real check.
                let _ = self.hasher.verify(password, None).await;
                return Err(IdentityError::BadCredentials);
            }
        };
        let email_key = format!("email:{email}");
        let ip_key = format!("ip:{ip}");
        if let Err(e) = self.check_throttle(&email_key, &ip_key).await {
            self.audit(Entry::new(email.as_str(), "identity.login_throttled", email.as_str()).ip(ip).outcome(Outcome::Denied)).await?;
            return Err(e);
        }
        let user = self.store.user_by_email(email.as_str()).await?;
        let ok =
            self.hasher.verify(password, user.as_ref().and_then(|u| u.password_hash.as_deref())).await.map_err(|_| IdentityError::Busy)?;
        let user = match user {
            Some(u) if ok && u.status == "active" => u,
            Some(u) if ok && u.status == "disabled" => {
                self.fail(email.as_str(), ip, "disabled").await?;
                return Err(IdentityError::BadCredentials);
            }
            Some(u) if ok && u.status == "invited" => {
                self.audit(
                    Entry::new(email.as_str(), "identity.login_failed", email.as_str())
                        .ip(ip)
                        .outcome(Outcome::Failure)
                        .details(serde_json::json!({"reason": "not enrolled"})),
                )
                .await?;
                let _ = u;
                return Err(IdentityError::Invalid(
                    "enrolment is not finished: open the invitation link again, or ask for a new one".to_owned(),
                ));
            }
            _ => {
                self.fail(email.as_str(), ip, "password").await?;
                return Err(IdentityError::BadCredentials);
            }
        };
        self.store.throttle_clear(&email_key).await?;
        let factors = self.store.factors_of(&user.id).await?;
        let mut methods = Vec::new();
        if factors.iter().any(|f| f.confirmed && f.kind == "totp") {
            methods.push("totp");
        }
        if factors.iter().any(|f| f.confirmed && f.kind == "passkey") {
            methods.push("passkey");
        }
        methods.push("recovery");
        let mut tx = self.store.begin().await?;
        let session_token = self.new_session(&mut tx, &user.id, STAGE_PASSWORD, ip, user_agent).await?;
        let e = Entry::new(&user.email, "identity.password_accepted", &user.email).ip(ip);
        self.commit_audited(tx, &[e]).await?;
        Ok(LoginOutcome { session_token, methods })
    }

    /// Step two with a TOTP code. Returns the renewed, fully signed-in session token.
    pub async fn login_totp(&self, s: &SessionInfo, code: &str) -> Result<String> {
        self.second_step(s, "totp", |this, s| {
            let code = code.to_owned();
            async move {
                let unix = this.clock.now().unix_timestamp();
                for f in this.store.factors_of(&s.user.id).await?.into_iter().filter(|f| f.kind == "totp" && f.confirmed) {
                    let secret = this.open_totp(&f)?;
                    if let Some(step) = totp::verify(&secret, &code, unix, f.last_step) {
                        let mut tx = this.store.begin().await?;
                        if tx.factor_use_step(&f.id, step, this.now()).await? {
                            return Ok(Some(tx));
                        }
                    }
                }
                Ok(None)
            }
        })
        .await
    }

    /// Step two with a recovery code (each works once).
    pub async fn login_recovery(&self, s: &SessionInfo, code: &str) -> Result<String> {
        let hash = crypto::token_hash(&crypto::normalise_recovery_code(code));
        let result = self
            .second_step(s, "recovery", |this, s| {
                let hash = hash.clone();
                async move {
                    let mut tx = this.store.begin().await?;
                    if tx.recovery_use(&s.user.id, &hash, this.now()).await? { Ok(Some(tx)) } else { Ok(None) }
                }
            })
            .await?;
        let left = self.store.unused_recovery_codes(&s.user.id).await?;
        self.audit(s.actor().entry("identity.recovery_code_used", &s.user.email).details(serde_json::json!({"left": left}))).await?;
        Ok(result)
    }

    /// The shared part of every second step: throttling, the check itself (which returns an
    /// open transaction when it passed), renewing the session, auditing and announcing.
    pub(crate) async fn second_step<F, Fut>(&self, s: &SessionInfo, method: &str, check: F) -> Result<String>
    where
        F: FnOnce(Identity, SessionInfo) -> Fut,
        Fut: std::future::Future<Output = Result<Option<Tx>>>,
    {
        if s.session.stage != STAGE_PASSWORD {
            return Err(IdentityError::NoSession);
        }
        let email_key = format!("email:{}", s.user.email);
        let ip_key = format!("ip:{}", s.session.ip);
        self.check_throttle(&email_key, &ip_key).await?;
        match check(self.clone(), s.clone()).await? {
            Some(mut tx) => {
                let token = self.renew_session(&mut tx, s, STAGE_FULL).await?;
                let e = s.actor().entry("identity.login", &s.user.email).details(serde_json::json!({"method": method}));
                self.commit_audited(tx, &[e]).await?;
                self.store.throttle_clear(&email_key).await?;
                self.bus.publish(Event::LoginSucceeded {
                    user_id: s.user.id.clone(),
                    email: s.user.email.clone(),
                    ip: s.session.ip.clone(),
                });
                Ok(token)
            }
            None => {
                self.fail(&s.user.email, &s.session.ip, method).await?;
                Err(IdentityError::BadCode)
            }
        }
    }

    // ---- Sessions ------------------------------------------------------------------------

    async fn new_session(&self, tx: &mut Tx, user_id: &str, stage: &str, ip: &str, user_agent: &str) -> Result<String> {
        let now = self.now();
        let token = crypto::random_token("");
        tx.session_insert(&SessionRecord {
            id_hash: crypto::token_hash(&token),
            user_id: user_id.to_owned(),
            stage: stage.to_owned(),
            created_ms: now,
            last_seen_ms: now,
            expires_ms: now + self.settings.session_max_ms,
            ip: ip.to_owned(),
            user_agent: user_agent.chars().take(300).collect(),
            pending: String::new(),
        })
        .await?;
        Ok(token)
    }

    /// Replaces a session with a new id at a new stage, so an id seen before sign-in is worth
    /// nothing after it.
    pub(crate) async fn renew_session(&self, tx: &mut Tx, s: &SessionInfo, stage: &str) -> Result<String> {
        tx.session_delete(&s.session.id_hash).await?;
        self.new_session(tx, &s.user.id, stage, &s.session.ip, &s.session.user_agent).await
    }

    /// The session behind a cookie, if it is still valid. Ends sessions that passed a limit or
    /// whose user may no longer sign in.
    pub async fn session(&self, token: &str) -> Result<SessionInfo> {
        if token.is_empty() || token.len() > 100 {
            return Err(IdentityError::NoSession);
        }
        let now = self.now();
        let hash = crypto::token_hash(token);
        let session = self.store.session_by_hash(&hash).await?.ok_or(IdentityError::NoSession)?;
        let idle = now - session.last_seen_ms > self.settings.session_idle_ms;
        if idle || now >= session.expires_ms {
            let mut tx = self.store.begin().await?;
            tx.session_delete(&hash).await?;
            let reason = if idle { "idle" } else { "lifetime" };
            tx.commit().await?;
            self.bus.publish(Event::SessionEnded { user_id: session.user_id.clone(), reason: reason.to_owned() });
            return Err(IdentityError::NoSession);
        }
        let user = self.store.user_by_id(&session.user_id).await?.ok_or(IdentityError::NoSession)?;
        if user.status == "disabled" {
            let mut tx = self.store.begin().await?;
            tx.sessions_delete_user(&user.id).await?;
            tx.commit().await?;
            return Err(IdentityError::NoSession);
        }
        let role = Role::parse(&user.role).ok_or_else(|| IdentityError::Internal(format!("unknown role {}", user.role)))?;
        // Touch at most every 15 seconds: idle time does not need millisecond precision.
        if now - session.last_seen_ms > 15_000 {
            self.store.session_touch(&hash, now).await?;
        }
        Ok(SessionInfo { session, user, role })
    }

    pub async fn logout(&self, s: &SessionInfo) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.session_delete(&s.session.id_hash).await?;
        self.commit_audited(tx, &[s.actor().entry("identity.logout", &s.user.email)]).await?;
        self.bus.publish(Event::SessionEnded { user_id: s.user.id.clone(), reason: "logout".to_owned() });
        Ok(())
    }

    /// Ends one session: the user's own, or anyone's for an administrator.
    pub async fn end_session(&self, actor: &SessionInfo, id_hash: &str) -> Result<()> {
        require_full(actor)?;
        let target = self.store.session_by_hash(id_hash).await?.ok_or(IdentityError::NotFound("session"))?;
        if target.user_id != actor.user.id && actor.role != Role::Admin {
            return Err(IdentityError::Forbidden);
        }
        let owner = self.user(&target.user_id).await?;
        let mut tx = self.store.begin().await?;
        tx.session_delete(id_hash).await?;
        self.commit_audited(tx, &[actor.actor().entry("identity.session_ended", &owner.email)]).await?;
        self.bus.publish(Event::SessionEnded { user_id: owner.id, reason: "ended".to_owned() });
        Ok(())
    }

    // ---- Administration ------------------------------------------------------------------

    pub async fn user(&self, user_id: &str) -> Result<UserRecord> {
        self.store.user_by_id(user_id).await?.ok_or(IdentityError::NotFound("user"))
    }

    /// Disables a user: their sessions end at once and the event tells other capabilities.
    pub async fn disable_user(&self, actor: &Actor, user_id: &str) -> Result<()> {
        let user = self.user(user_id).await?;
        if actor.user_id.as_deref() == Some(user_id) {
            return Err(IdentityError::Conflict("you cannot disable yourself".to_owned()));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        tx.user_set(&user.id, UserColumn::Status, Some("disabled".to_owned()), now).await?;
        let ended = tx.sessions_delete_user(&user.id).await?;
        tx.tokens_revoke("api", Some(&user.id), now).await?;
        tx.tokens_revoke("enroll", Some(&user.id), now).await?;
        self.commit_audited(
            tx,
            &[actor.entry("identity.user_disabled", &user.email).details(serde_json::json!({"sessions_ended": ended}))],
        )
        .await?;
        self.bus.publish(Event::UserDisabled { user_id: user.id });
        Ok(())
    }

    pub async fn enable_user(&self, actor: &Actor, user_id: &str) -> Result<()> {
        let user = self.user(user_id).await?;
        if user.status != "disabled" {
            return Ok(());
        }
        let has_factor = self.store.factors_of(&user.id).await?.iter().any(|f| f.confirmed);
        let status = if has_factor { "active" } else { "invited" };
        let mut tx = self.store.begin().await?;
        tx.user_set(&user.id, UserColumn::Status, Some(status.to_owned()), self.now()).await?;
        self.commit_audited(tx, &[actor.entry("identity.user_enabled", &user.email)]).await
    }

    /// Removes every second factor and recovery code, ends the sessions and makes a new
    /// enrolment link: the user must enrol again.
    pub async fn reset_factors(&self, actor: &Actor, user_id: &str) -> Result<(UserRecord, String)> {
        let user = self.user(user_id).await?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        tx.factors_delete_all(&user.id).await?;
        tx.recovery_replace(&user.id, &[]).await?;
        tx.sessions_delete_user(&user.id).await?;
        tx.user_set(&user.id, UserColumn::Status, Some("invited".to_owned()), now).await?;
        tx.user_set(&user.id, UserColumn::PasswordHash, None, now).await?;
        let token = self.new_enroll_token(&mut tx, &user.id).await?;
        self.commit_audited(tx, &[actor.entry("identity.factors_reset", &user.email)]).await?;
        self.bus.publish(Event::FactorsReset { user_id: user.id.clone() });
        self.announce_link(&user.id, &token);
        Ok((user, token))
    }

    pub async fn set_role(&self, actor: &Actor, user_id: &str, role: Role) -> Result<()> {
        let user = self.user(user_id).await?;
        if actor.user_id.as_deref() == Some(user_id) && role != Role::Admin {
            return Err(IdentityError::Conflict("you cannot take away your own administrator role".to_owned()));
        }
        let mut tx = self.store.begin().await?;
        tx.user_set(&user.id, UserColumn::Role, Some(role.as_str().to_owned()), self.now()).await?;
        self.commit_audited(
            tx,
            &[actor.entry("identity.role_changed", &user.email).details(serde_json::json!({"from": user.role, "to": role.as_str()}))],
        )
        .await
    }

    pub async fn set_language(&self, s: &SessionInfo, lang: veilig_core::Lang) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.user_set(&s.user.id, UserColumn::Language, Some(lang.code().to_owned()), self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Erases a user (AVG/GDPR): the account, factors, sessions, tokens and memberships go; the
    /// audit chain keeps its records, which the law allows for security logging.
    pub async fn erase_user(&self, actor: &Actor, user_id: &str) -> Result<()> {
        let user = self.user(user_id).await?;
        if actor.user_id.as_deref() == Some(user_id) {
            return Err(IdentityError::Conflict("you cannot erase yourself".to_owned()));
        }
        let mut tx = self.store.begin().await?;
        tx.user_delete(&user.id).await?;
        self.commit_audited(tx, &[actor.entry("identity.user_erased", &user.email)]).await?;
        self.bus.publish(Event::UserDisabled { user_id: user.id.clone() });
        self.bus.publish(Event::UserErased { user_id: user.id, email: user.email });
        Ok(())
    }

    /// Lifts a brute-force block on an account.
    pub async fn unlock(&self, actor: &Actor, email: &str) -> Result<()> {
        let email = Email::parse(email).map_err(IdentityError::Invalid)?;
        self.store.throttle_clear(&format!("email:{email}")).await?;
        self.audit(actor.entry("identity.unlocked", email.as_str())).await
    }

    pub async fn create_group(&self, actor: &Actor, name: &str, description: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || !name.chars().all(|c| c.is_alphanumeric() || "-_ .".contains(c)) {
            return Err(IdentityError::Invalid("a group name has 1 to 64 letters, digits, spaces, dots, dashes or underscores".to_owned()));
        }
        let description: String = description.trim().chars().take(300).collect();
        let mut tx = self.store.begin().await?;
        if tx.group_id(name).await?.is_some() {
            return Err(IdentityError::Conflict(format!("there is already a group {name}")));
        }
        tx.group_insert(&crypto::random_id(), name, &description, self.now()).await?;
        self.commit_audited(tx, &[actor.entry("identity.group_created", name)]).await
    }

    pub async fn delete_group(&self, actor: &Actor, name: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if tx.group_delete(name).await? == 0 {
            return Err(IdentityError::NotFound("group"));
        }
        self.commit_audited(tx, &[actor.entry("identity.group_deleted", name)]).await
    }

    pub async fn set_membership(&self, actor: &Actor, user_id: &str, group: &str, member: bool) -> Result<()> {
        let user = self.user(user_id).await?;
        let mut tx = self.store.begin().await?;
        let gid = tx.group_id(group).await?.ok_or(IdentityError::NotFound("group"))?;
        if member {
            tx.membership_add(&user.id, &gid).await?;
        } else {
            tx.membership_remove(&user.id, &gid).await?;
        }
        let action = if member { "identity.group_member_added" } else { "identity.group_member_removed" };
        self.commit_audited(tx, &[actor.entry(action, &user.email).details(serde_json::json!({"group": group}))]).await
    }

    // ---- API tokens --------------------------------------------------------------------

    /// Creates an API token acting as the administrator who made it, with the given scopes.
    /// The token is returned once and stored only as a hash.
    pub async fn create_api_token(
        &self,
        s: &SessionInfo,
        name: &str,
        scopes: &[String],
        valid_days: Option<i64>,
    ) -> Result<(String, TokenRecord)> {
        require_full(s)?;
        if s.role != Role::Admin {
            return Err(IdentityError::Forbidden);
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(IdentityError::Invalid("a token needs a name of 1 to 80 characters".to_owned()));
        }
        for scope in scopes {
            if !API_SCOPES.contains(&scope.as_str()) {
                return Err(IdentityError::Invalid(format!("unknown scope {scope}; known: {}", API_SCOPES.join(", "))));
            }
        }
        if scopes.is_empty() {
            return Err(IdentityError::Invalid("give at least one scope".to_owned()));
        }
        let days = valid_days.unwrap_or(90);
        if !(1..=730).contains(&days) {
            return Err(IdentityError::Invalid("a token is valid for 1 to 730 days".to_owned()));
        }
        let now = self.now();
        let token = crypto::random_token("vlg_");
        let record = TokenRecord {
            id: crypto::random_id(),
            kind: "api".to_owned(),
            hash: crypto::token_hash(&token),
            user_id: Some(s.user.id.clone()),
            name: name.to_owned(),
            scopes: scopes.join(" "),
            created_ms: now,
            expires_ms: Some(now + days * 86_400_000),
            used_ms: None,
            revoked_ms: None,
        };
        let mut tx = self.store.begin().await?;
        tx.token_insert(&record).await?;
        let e = s
            .actor()
            .entry("identity.api_token_created", name)
            .details(serde_json::json!({"scopes": scopes, "days": days, "id": record.id}));
        self.commit_audited(tx, &[e]).await?;
        Ok((token, record))
    }

    pub async fn revoke_api_token(&self, s: &SessionInfo, token_id: &str) -> Result<()> {
        require_full(s)?;
        if s.role != Role::Admin {
            return Err(IdentityError::Forbidden);
        }
        let mut tx = self.store.begin().await?;
        if tx.token_revoke(token_id, self.now()).await? == 0 {
            return Err(IdentityError::NotFound("token"));
        }
        self.commit_audited(tx, &[s.actor().entry("identity.api_token_revoked", token_id)]).await
    }

    /// The user and scopes behind a bearer token.
    pub async fn bearer(&self, token: &str) -> Result<(UserRecord, Role, Vec<String>)> {
        if !token.starts_with("vlg_") || token.len() > 100 {
            return Err(IdentityError::NoSession);
        }
        let now = self.now();
        let t = self.store.token_by_hash(&crypto::token_hash(token)).await?.ok_or(IdentityError::NoSession)?;
        if t.kind != "api" || t.revoked_ms.is_some() || t.expires_ms.is_some_and(|e| e <= now) {
            return Err(IdentityError::NoSession);
        }
        let user = self.user(t.user_id.as_deref().unwrap_or_default()).await.map_err(|_| IdentityError::NoSession)?;
        if user.status != "active" {
            return Err(IdentityError::NoSession);
        }
        let role = Role::parse(&user.role).ok_or(IdentityError::NoSession)?;
        Ok((user, role, t.scopes.split_whitespace().map(str::to_owned).collect()))
    }
}

/// What an API token may do: `admin` acts as its administrator in everything; `read` only reads.
pub const API_SCOPES: &[&str] = &["admin", "read"];

fn require_full(s: &SessionInfo) -> Result<()> {
    if s.is_full() { Ok(()) } else { Err(IdentityError::SecondFactorRequired) }
}

fn clean_name(name: &str, email: &Email) -> Result<String> {
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    if name.chars().count() > 100 {
        return Err(IdentityError::Invalid("the name is longer than 100 characters".to_owned()));
    }
    Ok(if name.is_empty() { email.as_str().split('@').next().unwrap_or_default().to_owned() } else { name })
}
