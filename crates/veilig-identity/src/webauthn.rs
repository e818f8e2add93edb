//! Passkeys and security keys (WebAuthn, through webauthn-rs): as a second factor after the
//! password, and as a passwordless sign-in with user verification.

use veilig_audit::Outcome;
use veilig_core::Event;
use veilig_store::FactorRecord;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url,
    Uuid, Webauthn, WebauthnBuilder,
};

use crate::service::{Actor, STAGE_FULL, STAGE_PASSWORD, SessionInfo};
use crate::{Identity, IdentityError, Result, crypto};

/// The relying party: Veilig at its public address.
pub struct Passkeys {
    webauthn: Webauthn,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passkeys")
    }
}

impl Passkeys {
    /// Passkeys are bound to a domain name: with an IP address as the public URL there are
    /// none (browsers refuse them), and the error says so.
    pub fn new(public_url: &str, organisation: &str) -> std::result::Result<Passkeys, String> {
        let url = Url::parse(public_url).map_err(|e| format!("public_url: {e}"))?;
        let host = url.domain().ok_or("passkeys need a domain name in public_url, not an IP address")?.to_owned();
        let webauthn =
            WebauthnBuilder::new(&host, &url).and_then(|b| b.rp_name(organisation).build()).map_err(|e| format!("passkeys: {e}"))?;
        Ok(Passkeys { webauthn })
    }
}

fn user_uuid(user_id: &str) -> Result<Uuid> {
    let bytes = hex::decode(user_id).map_err(|_| IdentityError::Internal("user id is not hex".to_owned()))?;
    Uuid::from_slice(&bytes).map_err(|_| IdentityError::Internal("user id is not 16 bytes".to_owned()))
}

fn rejected(e: impl std::fmt::Display) -> IdentityError {
    tracing::info!(error = %e, "passkey refused");
    IdentityError::BadCode
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| IdentityError::Internal(e.to_string()))
}

fn passkeys_of(factors: &[FactorRecord]) -> Vec<(String, Passkey)> {
    factors
        .iter()
        .filter(|f| f.kind == "passkey" && f.confirmed)
        .filter_map(|f| serde_json::from_str::<Passkey>(&f.secret).ok().map(|p| (f.id.clone(), p)))
        .collect()
}

impl Identity {
    fn passkeys(&self) -> Result<&Passkeys> {
        self.passkeys.as_deref().ok_or_else(|| {
            IdentityError::Invalid("passkeys need Veilig's public_url to be a domain name (https://veilig.example.nl)".to_owned())
        })
    }

    /// Starts registering a passkey for the session's user; returns the browser's options.
    pub async fn passkey_register_begin(&self, s: &SessionInfo) -> Result<serde_json::Value> {
        if s.session.stage == STAGE_PASSWORD {
            return Err(IdentityError::SecondFactorRequired);
        }
        let pk = self.passkeys()?;
        let existing = passkeys_of(&self.store.factors_of(&s.user.id).await?);
        let exclude = existing.iter().map(|(_, p)| p.cred_id().clone()).collect::<Vec<_>>();
        let (options, state) = pk
            .webauthn
            .start_passkey_registration(user_uuid(&s.user.id)?, &s.user.email, &s.user.display_name, Some(exclude))
            .map_err(|e| IdentityError::Internal(e.to_string()))?;
        self.store.session_set_pending(&s.session.id_hash, &to_json(&state)?).await?;
        serde_json::to_value(options).map_err(|e| IdentityError::Internal(e.to_string()))
    }

    /// Finishes the registration. Like TOTP, a first factor activates the account and makes
    /// recovery codes; the session is renewed fully signed in.
    pub async fn passkey_register_finish(
        &self,
        s: &SessionInfo,
        credential: &serde_json::Value,
        name: &str,
    ) -> Result<(Option<Vec<String>>, String)> {
        let pk = self.passkeys()?;
        let state: PasskeyRegistration =
            serde_json::from_str(&s.session.pending).map_err(|_| IdentityError::Invalid("start adding the passkey again".to_owned()))?;
        let reg: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|_| IdentityError::Invalid("the browser's answer is not a WebAuthn credential".to_owned()))?;
        let passkey = pk.webauthn.finish_passkey_registration(&reg, &state).map_err(rejected)?;
        let name: String = name.trim().chars().take(60).collect();
        let factors = self.store.factors_of(&s.user.id).await?;
        let first = !factors.iter().any(|f| f.confirmed);
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        tx.factor_insert(&FactorRecord {
            id: crypto::random_id(),
            user_id: s.user.id.clone(),
            kind: "passkey".to_owned(),
            name: if name.is_empty() { "Passkey".to_owned() } else { name },
            secret: to_json(&passkey)?,
            confirmed: true,
            last_step: None,
            last_used_ms: None,
            created_ms: now,
        })
        .await?;
        let (codes, entries) = self.after_first_factor(&mut tx, s, first, "passkey").await?;
        let session = self.renew_session(&mut tx, s, STAGE_FULL).await?;
        let at = self.clock.now_ms();
        for e in &entries {
            tx.audit(at, e).await?;
        }
        tx.commit().await?;
        self.bus.publish(Event::FactorChanged { user_id: s.user.id.clone(), added: true, kind: "passkey".to_owned() });
        Ok((codes, session))
    }

    /// Second step with a passkey: the options for the browser.
    pub async fn passkey_login_begin(&self, s: &SessionInfo) -> Result<serde_json::Value> {
        if s.session.stage != STAGE_PASSWORD {
            return Err(IdentityError::NoSession);
        }
        let pk = self.passkeys()?;
        let keys: Vec<Passkey> = passkeys_of(&self.store.factors_of(&s.user.id).await?).into_iter().map(|(_, p)| p).collect();
        if keys.is_empty() {
            return Err(IdentityError::Invalid("this account has no passkey".to_owned()));
        }
        let (options, state) = pk.webauthn.start_passkey_authentication(&keys).map_err(|e| IdentityError::Internal(e.to_string()))?;
        self.store.session_set_pending(&s.session.id_hash, &to_json(&state)?).await?;
        serde_json::to_value(options).map_err(|e| IdentityError::Internal(e.to_string()))
    }

    /// Second step with a passkey: checks the browser's answer.
    pub async fn passkey_login_finish(&self, s: &SessionInfo, credential: &serde_json::Value) -> Result<String> {
        let credential = credential.clone();
        self.second_step(s, "passkey", |this, s| async move {
            let pk = this.passkeys()?;
            let Ok(state) = serde_json::from_str::<PasskeyAuthentication>(&s.session.pending) else { return Ok(None) };
            let Ok(cred) = serde_json::from_value::<PublicKeyCredential>(credential) else { return Ok(None) };
            let Ok(result) = pk.webauthn.finish_passkey_authentication(&cred, &state) else { return Ok(None) };
            let mut tx = this.store.begin().await?;
            for (id, mut key) in passkeys_of(&this.store.factors_of(&s.user.id).await?) {
                if key.cred_id() == result.cred_id() {
                    key.update_credential(&result);
                    tx.factor_update_secret(&id, &to_json(&key)?, this.clock.now_ms()).await?;
                }
            }
            Ok(Some(tx))
        })
        .await
    }

    /// Passwordless sign-in, step one: a challenge any of this site's passkeys can answer.
    /// Returns the challenge's id (for the second call) and the browser's options.
    pub async fn passwordless_begin(&self) -> Result<(String, serde_json::Value)> {
        let pk = self.passkeys()?;
        let (options, state) = pk.webauthn.start_discoverable_authentication().map_err(|e| IdentityError::Internal(e.to_string()))?;
        let id = crypto::random_token("");
        let now = self.clock.now_ms();
        self.store.challenge_put(&crypto::token_hash(&id), &to_json(&state)?, now + 5 * 60_000, now).await?;
        let mut options = serde_json::to_value(options).map_err(|e| IdentityError::Internal(e.to_string()))?;
        // The challenge is started by a button, not by the browser's autofill.
        if let Some(o) = options.as_object_mut() {
            o.remove("mediation");
        }
        Ok((id, options))
    }

    /// Passwordless sign-in, step two: the passkey (with user verification) is both factors.
    /// Returns a fully signed-in session.
    pub async fn passwordless_finish(
        &self,
        challenge_id: &str,
        credential: &serde_json::Value,
        ip: &str,
        user_agent: &str,
    ) -> Result<String> {
        let pk = self.passkeys()?;
        let ip_key = format!("ip:{ip}");
        let now = self.clock.now_ms();
        if let Some(ms) = crate::throttle::Policy::ADDRESS.blocked_for(&self.throttle_state_pub(&ip_key).await?, now) {
            return Err(IdentityError::Throttled { retry_after_secs: (ms + 999) / 1000 });
        }
        let state = self.store.challenge_take(&crypto::token_hash(challenge_id), now).await?;
        let outcome = self.passwordless_check(pk, state, credential).await?;
        let Some((user, factor_id, key)) = outcome else {
            self.fail_pub("passkey", ip, "passkey").await?;
            return Err(IdentityError::BadCode);
        };
        if user.status != "active" {
            self.fail_pub(&user.email, ip, "disabled").await?;
            return Err(IdentityError::BadCode);
        }
        let mut tx = self.store.begin().await?;
        tx.factor_update_secret(&factor_id, &to_json(&key)?, now).await?;
        let token = self.new_session_pub(&mut tx, &user.id, STAGE_FULL, ip, user_agent).await?;
        let actor = Actor { email: user.email.clone(), user_id: Some(user.id.clone()), ip: ip.to_owned() };
        let e = veilig_audit::Entry::new(&actor.email, "identity.login", &user.email)
            .ip(ip)
            .outcome(Outcome::Success)
            .details(serde_json::json!({"method": "passkey_passwordless"}));
        tx.audit(now, &e).await?;
        tx.commit().await?;
        self.bus.publish(Event::LoginSucceeded { user_id: user.id, email: user.email, ip: ip.to_owned() });
        Ok(token)
    }

    async fn passwordless_check(
        &self,
        pk: &Passkeys,
        state: Option<String>,
        credential: &serde_json::Value,
    ) -> Result<Option<(veilig_store::UserRecord, String, Passkey)>> {
        let Some(state) = state else { return Ok(None) };
        let Ok(state) = serde_json::from_str::<DiscoverableAuthentication>(&state) else { return Ok(None) };
        let Ok(cred) = serde_json::from_value::<PublicKeyCredential>(credential.clone()) else { return Ok(None) };
        let Ok((uuid, cred_id)) = pk.webauthn.identify_discoverable_authentication(&cred) else { return Ok(None) };
        let user_id = hex::encode(uuid.as_bytes());
        let Some(user) = self.store.user_by_id(&user_id).await? else { return Ok(None) };
        let keys = passkeys_of(&self.store.factors_of(&user.id).await?);
        let Some((factor_id, mut key)) = keys.into_iter().find(|(_, k)| AsRef::<[u8]>::as_ref(k.cred_id()) == cred_id) else {
            return Ok(None);
        };
        let Ok(result) = pk.webauthn.finish_discoverable_authentication_v2(&cred, state, &key) else { return Ok(None) };
        if !result.user_verified() {
            return Ok(None);
        }
        key.update_credential(&result);
        Ok(Some((user, factor_id, key)))
    }
}
