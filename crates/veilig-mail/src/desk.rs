//! The phishing desk's report mailbox: a task that reads the IMAP mailbox to which employees
//! forward suspicious mail (IDLE where the server offers it, otherwise polling), finds the
//! original in each report, has `veilig-phish` analyse it, files it under a campaign and answers
//! the employee in their language. A report is known by its Message-ID (or its SHA-256), so a
//! restart, a lost connection or a server that forgets `\Seen` never makes Veilig answer twice.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use veilig_audit::{Entry, Outcome};
use veilig_core::config::{ImapConfig, ImapTls};
use veilig_core::{Lang, SharedClock};
use veilig_phish::{Analysis, Context, Verdict};
use veilig_store::{PhishReportRecord, Store};

use crate::Mailer;
use crate::imap::{Idle, Imap, ImapError, Security};

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("database: {0}")]
    Store(#[from] veilig_store::StoreError),
    #[error("phishing engine: {0}")]
    Engine(String),
    #[error(transparent)]
    Imap(#[from] ImapError),
}

/// What happened to one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Analysed, filed under the campaign and (when mail is set up) answered.
    New { report_id: String, campaign_id: String, verdict: Verdict },
    /// Seen before and answered then: nothing done.
    Duplicate,
}

/// Analyses, files and answers reports.
#[derive(Clone)]
pub struct Desk {
    store: Store,
    clock: SharedClock,
    mailer: Option<Mailer>,
    org_domains: Vec<String>,
    organisation: String,
    default_lang: Lang,
    dkim: Option<Arc<crate::dkim::DkimVerifier>>,
}

impl Desk {
    pub fn new(
        store: Store,
        clock: SharedClock,
        mailer: Option<Mailer>,
        org_domains: Vec<String>,
        organisation: String,
        default_lang: Lang,
    ) -> Desk {
        Desk { store, clock, mailer, org_domains, organisation, default_lang, dkim: None }
    }

    /// Also checks the DKIM signatures of attached originals against DNS.
    pub fn with_dkim(mut self, verifier: crate::dkim::DkimVerifier) -> Desk {
        self.dkim = Some(Arc::new(verifier));
        self
    }

    /// Handles one report as it came from the mailbox.
    pub async fn handle(&self, raw: &[u8]) -> Result<Handled, DeskError> {
        let reported = veilig_phish::reported_message(raw);
        let key = match &reported.report_id {
            Some(id) if !id.trim().is_empty() => format!("mid:{}", id.trim()),
            _ => format!("sha:{}", hex::encode(Sha256::digest(raw))),
        };
        if let Some(existing) = self.store.phish_report_by_key(&key).await? {
            if existing.answered_ms.is_none() {
                // Stored, but the answer did not go out (mail server down): try again.
                self.answer(&existing, reported.report_subject.as_deref()).await?;
                return Ok(Handled::New {
                    report_id: existing.id,
                    campaign_id: existing.campaign_id,
                    verdict: parse_verdict(&existing.verdict),
                });
            }
            return Ok(Handled::Duplicate);
        }
        let ctx = context(&self.store, &self.org_domains).await?;
        // An inline forward lost the signed headers; an attached original or the report itself
        // still has them.
        let verified = match (&self.dkim, reported.form) {
            (Some(v), veilig_phish::Form::Attached | veilig_phish::Form::Direct) => v.verify(&reported.message).await,
            _ => veilig_phish::Verified::default(),
        };
        let analysis = veilig_phish::analyse_verified(&reported.message, &ctx, &verified);
        let reporter = reported.reporter.clone().unwrap_or_else(|| "unknown".to_owned());
        let now = self.clock.now_ms();
        let record = PhishReportRecord {
            id: veilig_core::random_id(),
            campaign_id: String::new(),
            report_key: key,
            reporter: reporter.clone(),
            form: match reported.form {
                veilig_phish::Form::Attached => "attached",
                veilig_phish::Form::Inline => "inline",
                veilig_phish::Form::Direct => "direct",
            }
            .to_owned(),
            sender: analysis.fingerprint.from.clone().unwrap_or_default(),
            subject: analysis.subject.clone().unwrap_or_default(),
            verdict: analysis.verdict.as_str().to_owned(),
            score: i64::from(analysis.score),
            reasons: reasons_json(&analysis),
            received_ms: now,
            answered_ms: None,
            answer_error: None,
        };
        let entry = Entry {
            actor: reporter,
            action: "phishing.reported".to_owned(),
            target: record.sender.clone(),
            ip: String::new(),
            outcome: Outcome::Success,
            details: serde_json::json!({"verdict": record.verdict, "score": record.score, "subject": record.subject, "form": record.form}),
        };
        let campaign_id = self.store.phish_report_insert(&record, &campaign_keys(&analysis), &veilig_core::random_id(), &entry).await?;
        let stored = PhishReportRecord { campaign_id: campaign_id.clone(), ..record };
        self.answer(&stored, reported.report_subject.as_deref()).await?;
        Ok(Handled::New { report_id: stored.id, campaign_id, verdict: analysis.verdict })
    }

    /// Mails the verdict to the reporter in their language and records the outcome.
    async fn answer(&self, report: &PhishReportRecord, report_subject: Option<&str>) -> Result<(), DeskError> {
        let Some(mailer) = &self.mailer else { return Ok(()) };
        if !report.reporter.contains('@') {
            self.store.phish_report_answered(&report.id, self.clock.now_ms(), Some("the report has no sender address")).await?;
            return Ok(());
        }
        let lang = match self.store.user_by_email(&report.reporter).await? {
            Some(u) => u.language.as_deref().and_then(Lang::parse).unwrap_or(self.default_lang),
            None => self.default_lang,
        };
        let reasons = explain(&report.reasons, lang);
        let mail = crate::notices::phishing_answer(
            lang,
            &self.organisation,
            parse_verdict(&report.verdict),
            &report.subject,
            &reasons,
            &report.id,
        );
        let subject = match report_subject.map(str::trim) {
            Some(s) if !s.is_empty() => format!("{} ({s})", mail.subject),
            _ => mail.subject.clone(),
        };
        let result = mailer.send(&report.reporter, &subject, &mail.body).await;
        let error = result.as_ref().err().map(|e| e.to_string());
        if let Some(e) = &error {
            tracing::warn!(report = %report.id, error = %e, "could not answer a phishing report");
        }
        self.store.phish_report_answered(&report.id, self.clock.now_ms(), error.as_deref()).await?;
        Ok(())
    }
}

/// The engine's view of the organisation: its domains and the names of its people (from the
/// user list, so a forger borrowing a colleague's name is caught). For the mailbox and for
/// checks on request alike.
pub async fn context(store: &Store, org_domains: &[String]) -> Result<Context, DeskError> {
    let mut ctx = Context::new().map_err(|e| DeskError::Engine(e.to_string()))?;
    for d in org_domains {
        ctx = ctx.org_domain(d).map_err(|e| DeskError::Engine(e.to_string()))?;
    }
    for u in store.users_list().await? {
        ctx = ctx.person(&u.display_name);
    }
    Ok(ctx)
}

/// A stored report's reasons (`[{"code", "detail"}]`) explained in `lang`; unknown codes are
/// left out.
pub fn explain(reasons_json: &str, lang: Lang) -> Vec<String> {
    serde_json::from_str::<Vec<serde_json::Value>>(reasons_json)
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            let code = veilig_phish::Code::ALL.iter().find(|c| Some(c.as_str()) == r["code"].as_str())?;
            Some(code.message(phish_lang(lang), r["detail"].as_str().unwrap_or("")))
        })
        .collect()
}

/// The engine's language for an interface language.
pub fn phish_lang(lang: Lang) -> veilig_phish::Lang {
    match lang {
        Lang::Nl => veilig_phish::Lang::Nl,
        Lang::En => veilig_phish::Lang::En,
    }
}

fn parse_verdict(s: &str) -> Verdict {
    Verdict::parse(s).unwrap_or(Verdict::Suspicious)
}

fn reasons_json(a: &Analysis) -> String {
    let list: Vec<serde_json::Value> = a.reasons.iter().map(|r| serde_json::json!({"code": r.code.as_str(), "detail": r.detail})).collect();
    serde_json::Value::Array(list).to_string()
}

/// What ties reports of one campaign together: the sender, the subject pattern (when it says
/// something), every URL outside the organisation and every attachment.
fn campaign_keys(a: &Analysis) -> Vec<(String, String)> {
    let f = &a.fingerprint;
    let mut keys = Vec::new();
    if let Some(from) = &f.from {
        keys.push(("sender".to_owned(), from.clone()));
    }
    if f.subject.chars().filter(|c| c.is_alphabetic()).count() >= 8 {
        keys.push(("subject".to_owned(), f.subject.clone()));
    }
    keys.extend(f.urls.iter().map(|u| ("url".to_owned(), u.clone())));
    keys.extend(f.attachments.iter().map(|h| ("attachment".to_owned(), h.clone())));
    keys
}

/// Erases an employee's phishing reports when their account is erased (their awareness reads go
/// with the account itself), audited as `phishing.reports_erased`.
pub fn spawn_erasure(bus: &veilig_core::EventBus, store: Store, clock: SharedClock) {
    let mut rx = bus.subscribe();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(veilig_core::Event::UserErased { email, .. }) => {
                    let entry = Entry {
                        actor: "system".to_owned(),
                        action: "phishing.reports_erased".to_owned(),
                        target: email.clone(),
                        ip: String::new(),
                        outcome: Outcome::Success,
                        details: serde_json::json!({}),
                    };
                    match store.phish_erase_reporter(&email, clock.now_ms(), &entry).await {
                        Ok(n) => tracing::info!(reports = n, "erased the phishing reports of an erased user"),
                        Err(e) => tracing::warn!(error = %e, "could not erase the phishing reports of an erased user"),
                    }
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => tracing::warn!(missed = n, "phishing erasure missed events"),
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

/// The TLS settings for the IMAP server: the system's roots plus an extra CA when configured.
pub fn tls_config(ca_file: Option<&std::path::Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut added = 0;
        for cert in rustls_pki_types::pem::PemObject::pem_slice_iter(&pem) {
            let cert: rustls_pki_types::CertificateDer<'static> = cert.map_err(|e| format!("{}: {e}", path.display()))?;
            roots.add(cert).map_err(|e| format!("{}: {e}", path.display()))?;
            added += 1;
        }
        if added == 0 {
            return Err(format!("{}: no certificate in it", path.display()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Runs the report mailbox until the process ends: connects, handles every unseen report,
/// waits (IDLE or polling) and reconnects after any failure with a growing pause (1 s to 1 min).
pub fn spawn_mailbox(cfg: ImapConfig, desk: Desk, idle: Duration, tls: Arc<rustls::ClientConfig>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut pause = Duration::from_secs(1);
        loop {
            match session(&cfg, &desk, idle, tls.clone()).await {
                Ok(()) => pause = Duration::from_secs(1),
                Err(e) => {
                    tracing::warn!(error = %e, host = %cfg.host, "report mailbox: will try again in {} s", pause.as_secs());
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(60));
                }
            }
        }
    })
}

async fn session(cfg: &ImapConfig, desk: &Desk, idle: Duration, tls: Arc<rustls::ClientConfig>) -> Result<(), DeskError> {
    let security = match cfg.tls {
        ImapTls::Tls => Security::Tls,
        ImapTls::StartTls => Security::StartTls,
        ImapTls::None => Security::None,
    };
    let mut imap = Imap::connect(&cfg.host, cfg.port, security, tls, Duration::from_secs(20)).await?;
    imap.login(&cfg.username, secrecy::ExposeSecret::expose_secret(&cfg.password)).await?;
    imap.select(&cfg.mailbox).await?;
    tracing::info!(host = %cfg.host, mailbox = %cfg.mailbox, idle = imap.has("IDLE"), "report mailbox connected");
    loop {
        for uid in imap.unseen().await? {
            let Some(raw) = imap.fetch(uid).await? else { continue };
            match desk.handle(&raw).await {
                Ok(Handled::New { verdict, .. }) => tracing::info!(uid, verdict = verdict.as_str(), "phishing report handled"),
                Ok(Handled::Duplicate) => tracing::info!(uid, "phishing report seen before"),
                // The database is down: leave the message unseen for the next round.
                Err(DeskError::Store(e)) => return Err(DeskError::Store(e)),
                Err(e) => tracing::warn!(uid, error = %e, "phishing report could not be handled"),
            }
            imap.mark_seen(uid).await?;
        }
        if imap.has("IDLE") {
            if imap.idle(idle).await? == Idle::TimedOut {
                tracing::debug!("report mailbox: idle time over, checking again");
            }
        } else {
            tokio::time::sleep(idle).await;
            // NOOP-like refresh: SELECT again so the server tells about new mail.
            imap.select(&cfg.mailbox).await?;
        }
    }
}
