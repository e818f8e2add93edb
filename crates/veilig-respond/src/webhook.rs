//! Alerts to chat and ticket systems: generic JSON, Microsoft Teams (an Adaptive Card, as the
//! Teams "Workflows" webhooks take it) and Slack/Mattermost (`text` in their markdown).
//!
//! Alerts arriving within two seconds go out as one message. Per webhook, the same rule and
//! source within ten minutes is sent once, and at most [`PER_HOUR`] messages go out an hour;
//! what is held back is counted and named in the next message that goes out.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde::Serialize;
use veilig_audit::Entry;
use veilig_core::Event;
use veilig_monitor::response::Severity;
use veilig_store::WebhookRecord;

use crate::{RespondError, Responder, Result, invalid};

/// Messages per webhook per hour.
pub const PER_HOUR: usize = 20;
/// The same rule and source within this time is one notification.
pub const DEDUP_MS: i64 = 10 * 60 * 1000;
/// Alerts this close together go out as one message.
pub const GROUP_WINDOW: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Json,
    Teams,
    Slack,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "json" => Some(Kind::Json),
            "teams" => Some(Kind::Teams),
            "slack" => Some(Kind::Slack),
            _ => None,
        }
    }
}

/// One alert as the webhooks tell it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub id: String,
    pub rule: String,
    pub severity: String,
    pub source: String,
    pub user: Option<String>,
    pub summary: String,
}

/// The body for one message about `notes`, with `held_back` alerts that were not sent before.
pub fn payload(kind: Kind, notes: &[Note], held_back: usize, base_url: &str) -> serde_json::Value {
    let link = format!("{base_url}/alerts");
    let title = match notes.len() {
        1 => format!("Veilig: {} alert {} from {}", notes[0].severity, notes[0].rule, notes[0].source),
        n => format!("Veilig: {n} alerts"),
    };
    let more = if held_back > 0 {
        format!("{held_back} more alerts were held back by the rate limit; see the alerts page.")
    } else {
        String::new()
    };
    match kind {
        Kind::Json => serde_json::json!({
            "source": "veilig",
            "title": title,
            "alerts": notes.iter().map(|n| serde_json::json!({
                "id": n.id, "rule": n.rule, "severity": n.severity, "source": n.source, "user": n.user,
                "summary": n.summary, "url": format!("{link}/{}", n.id),
            })).collect::<Vec<_>>(),
            "held_back": held_back,
            "url": link,
        }),
        Kind::Slack => {
            let mut text = format!("*{title}*\n");
            for n in notes {
                text.push_str(&format!(
                    "• `{}` *{}* {}: {} (<{link}/{}|open>)\n",
                    n.severity,
                    escape_slack(&n.rule),
                    escape_slack(&n.source),
                    escape_slack(&n.summary),
                    n.id
                ));
            }
            if !more.is_empty() {
                text.push_str(&format!("_{more}_\n"));
            }
            serde_json::json!({ "text": text })
        }
        Kind::Teams => {
            let mut body =
                vec![serde_json::json!({"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": title, "wrap": true})];
            for n in notes {
                body.push(serde_json::json!({
                    "type": "FactSet",
                    "facts": [
                        {"title": "Rule", "value": n.rule},
                        {"title": "Severity", "value": n.severity},
                        {"title": "Source", "value": n.source},
                        {"title": "User", "value": n.user.clone().unwrap_or_else(|| "-".to_owned())},
                    ]
                }));
                body.push(serde_json::json!({"type": "TextBlock", "text": n.summary, "wrap": true}));
            }
            if !more.is_empty() {
                body.push(serde_json::json!({"type": "TextBlock", "text": more, "wrap": true, "isSubtle": true}));
            }
            serde_json::json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": body,
                        "actions": [{"type": "Action.OpenUrl", "title": "Open the alerts", "url": link}],
                    }
                }]
            })
        }
    }
}

fn escape_slack(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Checks a webhook URL: `https://`, or `http://` to this machine only; at most 2,000
/// characters. Returns what the pages may show of it (scheme and host, never the path, which
/// often is the secret).
pub fn check_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    if url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the URL is too long or has spaces in it".to_owned());
    }
    let (scheme, rest) = url.split_once("://").ok_or("give a full URL, starting with https://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return Err("the URL has no host".to_owned());
    }
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err("use https:// (plain http is allowed only to this machine)".to_owned()),
        _ => return Err("give an https:// URL".to_owned()),
    }
    Ok(format!("{}://{host_port}/…", scheme.to_ascii_lowercase()))
}

/// Per-webhook de-duplication and rate limit. Pure: the caller gives the time.
#[derive(Debug, Default)]
pub struct Limiter {
    sent: VecDeque<i64>,
    seen: HashMap<(String, String), i64>,
    held_back: usize,
}

impl Limiter {
    /// Which of `notes` go out now, and how many were held back before; `None` when nothing
    /// goes out (all duplicates, or the hour's messages are used up: then they are counted).
    pub fn admit(&mut self, now_ms: i64, notes: Vec<Note>) -> Option<(Vec<Note>, usize)> {
        self.seen.retain(|_, t| now_ms - *t < DEDUP_MS);
        while self.sent.front().is_some_and(|t| now_ms - t >= 3_600_000) {
            self.sent.pop_front();
        }
        let mut fresh = Vec::new();
        for n in notes {
            if let std::collections::hash_map::Entry::Vacant(slot) = self.seen.entry((n.rule.clone(), n.source.clone())) {
                slot.insert(now_ms);
                fresh.push(n);
            }
        }
        if fresh.is_empty() {
            return None;
        }
        if self.sent.len() >= PER_HOUR {
            self.held_back += fresh.len();
            return None;
        }
        self.sent.push_back(now_ms);
        Some((fresh, std::mem::take(&mut self.held_back)))
    }
}

fn post(url: &str, body: &serde_json::Value) -> Result<u16, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .max_redirects(0)
        .build()
        .into();
    match agent.post(url).send_json(body) {
        Ok(r) => Ok(r.status().as_u16()),
        // The error text can hold the URL, which is a secret: say only what kind of failure.
        Err(ureq::Error::Timeout(_)) => Err("timed out".to_owned()),
        Err(ureq::Error::Io(e)) => Err(format!("connection failed ({})", e.kind())),
        Err(ureq::Error::HostNotFound) => Err("host not found".to_owned()),
        Err(_) => Err("request failed".to_owned()),
    }
}

impl Responder {
    pub async fn webhooks(&self) -> Result<Vec<WebhookRecord>> {
        Ok(self.store().webhooks().await?)
    }

    pub async fn add_webhook(&self, actor: &str, kind: &str, url: &str, min_severity: &str) -> Result<WebhookRecord> {
        if Kind::parse(kind).is_none() {
            return Err(invalid("kind", kind, "the kind is json, teams or slack"));
        }
        if Severity::parse(min_severity).is_none() {
            return Err(invalid("severity", min_severity, "the minimum severity is low, medium, high or critical"));
        }
        let hint = check_url(url).map_err(|e| invalid("url", "", e))?;
        let id = veilig_core::random_id();
        let sealed = self.secrets().seal(url.trim().as_bytes(), &format!("webhook:{id}")).map_err(|e| invalid("url", "", e))?;
        let w = WebhookRecord {
            id,
            kind: kind.to_owned(),
            url_sealed: sealed,
            url_hint: hint,
            min_severity: min_severity.to_owned(),
            created_by: actor.to_owned(),
            created_ms: self.now_ms(),
            last_ms: None,
            last_status: None,
        };
        let entry = Entry::new(actor, "monitor.webhook_added", &w.url_hint)
            .details(serde_json::json!({"kind": kind, "min_severity": min_severity}));
        self.store().webhook_insert(&w, &entry).await?;
        Ok(w)
    }

    pub async fn remove_webhook(&self, actor: &str, id: &str) -> Result<()> {
        let entry = Entry::new(actor, "monitor.webhook_removed", id);
        if self.store().webhook_delete(id, self.now_ms(), &entry).await? { Ok(()) } else { Err(RespondError::NotFound) }
    }

    /// Sends one message about `notes` to webhook `w`; records and returns the outcome
    /// (`HTTP 204`, `failed: timed out`, ...).
    pub async fn deliver(&self, w: &WebhookRecord, notes: &[Note], held_back: usize) -> String {
        let Some(kind) = Kind::parse(&w.kind) else { return "failed: unknown kind".to_owned() };
        let url = match self.secrets().open(&w.url_sealed, &format!("webhook:{}", w.id)) {
            Ok(u) => String::from_utf8_lossy(&u).into_owned(),
            Err(e) => return format!("failed: {e}"),
        };
        let body = payload(kind, notes, held_back, self.public_url());
        let mut outcome = String::new();
        for attempt in 0..2 {
            let (u, b) = (url.clone(), body.clone());
            outcome = match tokio::task::spawn_blocking(move || post(&u, &b)).await {
                Ok(Ok(status)) if (200..300).contains(&status) => format!("HTTP {status}"),
                Ok(Ok(status)) => format!("failed: HTTP {status}"),
                Ok(Err(e)) => format!("failed: {e}"),
                Err(_) => "failed: the sender stopped".to_owned(),
            };
            if !outcome.starts_with("failed") || attempt == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        if let Err(e) = self.store().webhook_result(&w.id, self.now_ms(), &outcome).await {
            tracing::warn!(error = %e, "cannot record a webhook's outcome");
        }
        if outcome.starts_with("failed") {
            tracing::warn!(webhook = %w.url_hint, %outcome, "webhook delivery failed");
        }
        outcome
    }

    /// Sends a test message to one webhook and returns the outcome.
    pub async fn test_webhook(&self, id: &str) -> Result<String> {
        let w = self.webhooks().await?.into_iter().find(|w| w.id == id).ok_or(RespondError::NotFound)?;
        let note = Note {
            id: "test".to_owned(),
            rule: "test".to_owned(),
            severity: "low".to_owned(),
            source: "192.0.2.1".to_owned(),
            user: None,
            summary: "A test message from Veilig: this webhook works.".to_owned(),
        };
        Ok(self.deliver(&w, &[note], 0).await)
    }

    /// The task that sends alerts to the webhooks.
    pub fn spawn_webhooks(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        let mut rx = self.bus().subscribe();
        tokio::spawn(async move {
            let mut limiters: HashMap<String, Limiter> = HashMap::new();
            loop {
                let first = match rx.recv().await {
                    Ok(Event::MonitorAlert { id, rule, severity, source, user, summary }) => {
                        Note { id, rule, severity, source, user, summary }
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                };
                let mut batch = vec![first];
                let deadline = tokio::time::Instant::now() + GROUP_WINDOW;
                while batch.len() < 50 {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Ok(Event::MonitorAlert { id, rule, severity, source, user, summary })) => {
                            batch.push(Note { id, rule, severity, source, user, summary });
                        }
                        Ok(Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                        Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) | Err(_) => break,
                    }
                }
                let hooks = match me.webhooks().await {
                    Ok(h) => h,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the webhooks");
                        continue;
                    }
                };
                let now = me.now_ms();
                for w in hooks {
                    let min = Severity::parse(&w.min_severity).unwrap_or(Severity::High);
                    let notes: Vec<Note> =
                        batch.iter().filter(|n| Severity::parse(&n.severity).is_some_and(|s| s >= min)).cloned().collect();
                    if notes.is_empty() {
                        continue;
                    }
                    if let Some((notes, held_back)) = limiters.entry(w.id.clone()).or_default().admit(now, notes) {
                        me.deliver(&w, &notes, held_back).await;
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(rule: &str, source: &str) -> Note {
        Note {
            id: format!("id-{rule}-{source}"),
            rule: rule.to_owned(),
            severity: "high".to_owned(),
            source: source.to_owned(),
            user: None,
            summary: format!("{rule} from {source} <b>"),
        }
    }

    #[test]
    fn urls_must_be_https_off_this_machine_and_are_shown_without_their_path() {
        assert_eq!(check_url("https://example.webhook.office.com/webhookb2/secret").unwrap(), "https://example.webhook.office.com/…");
        assert_eq!(check_url("http://127.0.0.1:9000/hook").unwrap(), "http://127.0.0.1:9000/…");
        assert!(check_url("http://hooks.example/abc").unwrap_err().contains("https"));
        assert!(check_url("ftp://x/").is_err());
        assert!(check_url("hooks.example").is_err());
        assert!(check_url("https:///x").is_err());
        assert!(check_url("https://a b/").is_err());
    }

    #[test]
    fn duplicates_are_sent_once_and_the_hourly_limit_holds_back_and_counts() {
        let mut l = Limiter::default();
        let (sent, held) = l.admit(0, vec![note("ssh", "203.0.113.7"), note("scan", "203.0.113.7")]).unwrap();
        assert_eq!((sent.len(), held), (2, 0));
        assert!(l.admit(60_000, vec![note("ssh", "203.0.113.7")]).is_none(), "a duplicate within ten minutes");
        assert_eq!(l.admit(DEDUP_MS + 1, vec![note("ssh", "203.0.113.7")]).unwrap().0.len(), 1, "again after ten minutes");
        for i in 2..PER_HOUR {
            assert!(l.admit(DEDUP_MS + 2 + i as i64, vec![note("ssh", &format!("198.51.100.{i}"))]).is_some());
        }
        assert!(l.admit(DEDUP_MS + 100, vec![note("ssh", "192.0.2.1"), note("ssh", "192.0.2.2")]).is_none(), "the hour is used up");
        let (sent, held) = l.admit(3_600_000 + 1, vec![note("ssh", "192.0.2.3")]).unwrap();
        assert_eq!((sent.len(), held), (1, 2), "the next message names what was held back");
    }

    #[test]
    fn payloads_per_kind() {
        let notes = [note("ssh_brute_force", "203.0.113.7")];
        expect_test::expect![[r#"{"alerts":[{"id":"id-ssh_brute_force-203.0.113.7","rule":"ssh_brute_force","severity":"high","source":"203.0.113.7","summary":"ssh_brute_force from 203.0.113.7 <b>","url":"https://veilig.example/alerts/id-ssh_brute_force-203.0.113.7","user":null}],"held_back":0,"source":"veilig","title":"Veilig: high alert ssh_brute_force from 203.0.113.7","url":"https://veilig.example/alerts"}"#]]
        .assert_eq(&payload(Kind::Json, &notes, 0, "https://veilig.example").to_string());
        expect_test::expect![[r#"{"text":"*Veilig: high alert ssh_brute_force from 203.0.113.7*\n• `high` *ssh_brute_force* 203.0.113.7: ssh_brute_force from 203.0.113.7 &lt;b&gt; (<https://veilig.example/alerts/id-ssh_brute_force-203.0.113.7|open>)\n_3 more alerts were held back by the rate limit; see the alerts page._\n"}"#]]
        .assert_eq(&payload(Kind::Slack, &notes, 3, "https://veilig.example").to_string());
        let teams = payload(Kind::Teams, &notes, 0, "https://veilig.example");
        assert_eq!(teams["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(teams["attachments"][0]["content"]["body"][1]["facts"][2]["value"], "203.0.113.7");
        assert_eq!(teams["attachments"][0]["content"]["actions"][0]["url"], "https://veilig.example/alerts");
    }
}
