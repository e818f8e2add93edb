//! The texts of Veilig's own mail, in Dutch and English, the task that sends security
//! notices when identity events happen, and monitoring's daily digest.

use veilig_core::{Event, EventBus, Lang};
use veilig_store::Store;

use crate::Mailer;

/// A message to send: subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

pub fn invitation(lang: Lang, organisation: &str, url: &str) -> Mail {
    match lang {
        Lang::Nl => Mail {
            subject: format!("Uw account bij {organisation}: activeer het met deze link"),
            body: format!(
                "Hallo,\n\nU hebt een account gekregen voor Veilig van {organisation}, waarmee u veilig thuiswerkt.\n\n\
                 Open deze persoonlijke link om een wachtwoord te kiezen en een tweede factor in te stellen\n\
                 (een authenticator-app op uw telefoon, of een passkey):\n\n  {url}\n\n\
                 De link werkt één keer en verloopt over 7 dagen. Hebt u dit niet verwacht? Neem dan contact op met uw IT-afdeling\n\
                 en klik niet op de link.\n"
            ),
        },
        Lang::En => Mail {
            subject: format!("Your account at {organisation}: activate it with this link"),
            body: format!(
                "Hello,\n\nYou have been given an account for Veilig at {organisation}, for working safely from home.\n\n\
                 Open this personal link to choose a password and set up a second factor\n\
                 (an authenticator app on your phone, or a passkey):\n\n  {url}\n\n\
                 The link works once and expires in 7 days. Did you not expect this? Contact your IT department and do not\n\
                 click the link.\n"
            ),
        },
    }
}

pub fn new_sign_in(lang: Lang, organisation: &str, ip: &str, when: &str) -> Mail {
    match lang {
        Lang::Nl => Mail {
            subject: format!("Nieuwe aanmelding bij {organisation}"),
            body: format!(
                "Er is zojuist op uw account aangemeld.\n\n  Tijd: {when}\n  Adres: {ip}\n\n\
                 Was u dit? Dan hoeft u niets te doen. Was u dit niet? Meld het direct bij uw IT-afdeling.\n"
            ),
        },
        Lang::En => Mail {
            subject: format!("New sign-in at {organisation}"),
            body: format!(
                "Someone just signed in to your account.\n\n  Time: {when}\n  Address: {ip}\n\nWas this you? Then there is nothing to do. Was it not? Tell your IT department at once.\n"
            ),
        },
    }
}

/// The security officer's answer to an employee's report of a cloud service.
pub fn cloud_report_answered(lang: Lang, organisation: &str, what: &str, status: &str, reply: &str, public_url: &str) -> Mail {
    let what: String = what.chars().filter(|c| !c.is_control()).take(100).collect();
    let link = format!("{public_url}/cloud");
    match lang {
        Lang::Nl => {
            let head = match status {
                "approved" => format!("U mag {what} gebruiken."),
                "rejected" => format!("Gebruik {what} liever niet. Gebruik in plaats daarvan: {reply}"),
                _ => format!("Over {what} heeft de securityfunctionaris een vraag: {reply}"),
            };
            let extra = if status == "approved" && !reply.is_empty() { format!("\n\n{reply}") } else { String::new() };
            Mail {
                subject: format!("Antwoord op uw melding van {what} bij {organisation}"),
                body: format!("{head}{extra}\n\nUw meldingen en de goedgekeurde diensten per taak: {link}\n"),
            }
        }
        Lang::En => {
            let head = match status {
                "approved" => format!("You may use {what}."),
                "rejected" => format!("Please do not use {what}. Use this instead: {reply}"),
                _ => format!("The security officer has a question about {what}: {reply}"),
            };
            let extra = if status == "approved" && !reply.is_empty() { format!("\n\n{reply}") } else { String::new() };
            Mail {
                subject: format!("Answer to your report of {what} at {organisation}"),
                body: format!("{head}{extra}\n\nYour reports and the approved services per task: {link}\n"),
            }
        }
    }
}

pub fn factor_changed(lang: Lang, organisation: &str, added: bool, kind: &str) -> Mail {
    let (nl_kind, en_kind) = match kind {
        "passkey" => ("een passkey", "a passkey"),
        "totp" => ("een authenticator-app", "an authenticator app"),
        _ => ("een tweede factor", "a second factor"),
    };
    match (lang, added) {
        (Lang::Nl, true) => Mail {
            subject: format!("Tweede factor toegevoegd bij {organisation}"),
            body: format!(
                "Aan uw account is {nl_kind} toegevoegd als tweede factor.\n\nWas u dit niet? Meld het direct bij uw IT-afdeling.\n"
            ),
        },
        (Lang::Nl, false) => Mail {
            subject: format!("Tweede factor verwijderd bij {organisation}"),
            body: format!(
                "Van uw account is {nl_kind} verwijderd als tweede factor.\n\nWas u dit niet? Meld het direct bij uw IT-afdeling.\n"
            ),
        },
        (Lang::En, true) => Mail {
            subject: format!("Second factor added at {organisation}"),
            body: format!(
                "{en_kind} was added to your account as a second factor.\n\nWas this not you? Tell your IT department at once.\n"
            ),
        },
        (Lang::En, false) => Mail {
            subject: format!("Second factor removed at {organisation}"),
            body: format!(
                "{en_kind} was removed from your account as a second factor.\n\nWas this not you? Tell your IT department at once.\n"
            ),
        },
    }
}

/// The phishing desk's answer to an employee who reported a message.
pub fn phishing_answer(
    lang: Lang,
    organisation: &str,
    verdict: veilig_phish::Verdict,
    subject: &str,
    reasons: &[String],
    reference: &str,
) -> Mail {
    use veilig_phish::Verdict;
    let list = |none: &str| {
        if reasons.is_empty() { format!("  - {none}\n") } else { reasons.iter().map(|r| format!("  - {r}\n")).collect::<String>() }
    };
    match lang {
        Lang::Nl => {
            let (headline, advice) = match verdict {
                Verdict::Phishing => (
                    "Dit is phishing.",
                    "Wat u nu doet:\n  - Klik niet op links en open geen bijlagen; verwijder het bericht.\n  - Hebt u al geklikt, iets ingevuld of een bijlage geopend? \
                     Wijzig meteen uw wachtwoord en bel de ICT-servicedesk: snel melden beperkt de schade.\n  - Antwoord de afzender niet.",
                ),
                Verdict::Suspicious => (
                    "Dit bericht is verdacht.",
                    "Wat u nu doet:\n  - Klik niet op links en open geen bijlagen zolang u twijfelt.\n  - Verwacht u dit bericht van iemand die u kent? \
                     Bel die persoon dan op een nummer dat u zelf opzoekt, niet op een nummer uit de mail.\n  - De beveiligingsfunctionaris kijkt er ook naar.",
                ),
                Verdict::Clean => (
                    "Wij vonden geen tekenen van phishing.",
                    "Blijf opletten: vertrouwt u het toch niet, bel dan de afzender op een nummer dat u zelf opzoekt. Goed dat u het meldde.",
                ),
            };
            Mail {
                subject: format!("Uw melding: {headline}"),
                body: format!(
                    "Beste collega,\n\nDank u voor uw melding van het bericht \"{subject}\".\n\n{headline}\n\nWaarom:\n{}\n{advice}\n\n\
                     Referentie: {reference}\n-- \nVeilig, het meldpunt phishing van {organisation}\n",
                    list("geen bijzonderheden")
                ),
            }
        }
        Lang::En => {
            let (headline, advice) = match verdict {
                Verdict::Phishing => (
                    "This is phishing.",
                    "What to do now:\n  - Do not click links or open attachments; delete the message.\n  - Did you already click, fill something in or open an attachment? \
                     Change your password at once and call the IT service desk: reporting quickly limits the damage.\n  - Do not reply to the sender.",
                ),
                Verdict::Suspicious => (
                    "This message is suspicious.",
                    "What to do now:\n  - Do not click links or open attachments while in doubt.\n  - Do you expect this message from someone you know? \
                     Call them on a number you look up yourself, not one from the mail.\n  - The security officer is looking at it too.",
                ),
                Verdict::Clean => (
                    "We found no signs of phishing.",
                    "Stay alert: if you still do not trust it, call the sender on a number you look up yourself. Thank you for reporting it.",
                ),
            };
            Mail {
                subject: format!("Your report: {headline}"),
                body: format!(
                    "Dear colleague,\n\nThank you for reporting the message \"{subject}\".\n\n{headline}\n\nWhy:\n{}\n{advice}\n\n\
                     Reference: {reference}\n-- \nVeilig, the phishing desk of {organisation}\n",
                    list("nothing in particular")
                ),
            }
        }
    }
}

pub fn monitor_alert(lang: Lang, organisation: &str, rule: &str, severity: &str, source: &str, url: &str) -> Mail {
    match lang {
        Lang::Nl => Mail {
            subject: format!("[{severity}] Veilig-melding bij {organisation}: {rule} vanaf {source}"),
            body: format!(
                "De bewaking van {organisation} heeft iets gevonden.\n\n  Regel: {rule}\n  Ernst: {severity}\n  Bron: {source}\n\n\
                 Bekijk de melding en wat eraan voorafging op:\n  {url}/alerts\n"
            ),
        },
        Lang::En => Mail {
            subject: format!("[{severity}] Veilig alert at {organisation}: {rule} from {source}"),
            body: format!(
                "Monitoring at {organisation} found something.\n\n  Rule: {rule}\n  Severity: {severity}\n  Source: {source}\n\n\
                 See the alert and what led to it at:\n  {url}/alerts\n"
            ),
        },
    }
}

/// What the daily digest counts: the alerts and blocks of a period.
pub fn digest(
    lang: Lang,
    organisation: &str,
    url: &str,
    until: &str,
    alerts: &[veilig_store::AlertRecord],
    blocks: &[veilig_store::DecisionRecord],
) -> Mail {
    let count = |sev: &str| alerts.iter().filter(|a| a.severity == sev).count();
    let open = alerts.iter().filter(|a| a.status == "open").count();
    let top = |key: &dyn Fn(&veilig_store::AlertRecord) -> String| -> Vec<(String, usize)> {
        let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
        for a in alerts {
            *counts.entry(key(a)).or_default() += 1;
        }
        let mut v: Vec<(String, usize)> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(5);
        v
    };
    let rules = top(&|a| a.rule.clone());
    let sources = top(&|a| a.source.clone());
    let blocked = |source: &str| blocks.iter().any(|d| d.network == format!("{source}/32") || d.network == format!("{source}/128"));
    let (n, b) = (alerts.len(), blocks.len());
    let (c, h, m, l) = (count("critical"), count("high"), count("medium"), count("low"));
    let lines = |list: &[(String, usize)], mark: &dyn Fn(&str) -> &'static str| -> String {
        list.iter().map(|(k, v)| format!("  {k:<28} {v:>5}{}\n", mark(k))).collect()
    };
    match lang {
        Lang::Nl => {
            let mut body = format!("Overzicht van de bewaking van {organisation}, de laatste 24 uur (tot {until}).\n\n");
            if n == 0 {
                body.push_str("Geen meldingen: het was rustig.\n");
            } else {
                body.push_str(&format!(
                    "Meldingen: {n} ({c} kritiek, {h} hoog, {m} middel, {l} laag); nog open: {open}.\nNieuwe blokkades: {b}.\n\n\
                     Meest gemelde regels:\n{}\nMeest actieve bronnen:\n{}",
                    lines(&rules, &|_| ""),
                    lines(&sources, &|s| if blocked(s) { "  (geblokkeerd)" } else { "" })
                ));
            }
            body.push_str(&format!("\nAlles bekijken: {url}/alerts\nBlokkades: {url}/blocks\n"));
            Mail { subject: format!("Veilig: dagelijks overzicht {organisation} — {n} meldingen, {b} blokkades"), body }
        }
        Lang::En => {
            let mut body = format!("Monitoring at {organisation}, the last 24 hours (until {until}).\n\n");
            if n == 0 {
                body.push_str("No alerts: all quiet.\n");
            } else {
                body.push_str(&format!(
                    "Alerts: {n} ({c} critical, {h} high, {m} medium, {l} low); still open: {open}.\nNew blocks: {b}.\n\n\
                     Rules that fired most:\n{}\nMost active sources:\n{}",
                    lines(&rules, &|_| ""),
                    lines(&sources, &|s| if blocked(s) { "  (blocked)" } else { "" })
                ));
            }
            body.push_str(&format!("\nSee everything: {url}/alerts\nBlocks: {url}/blocks\n"));
            Mail { subject: format!("Veilig: daily digest {organisation} — {n} alerts, {b} blocks"), body }
        }
    }
}

/// The digest's reminder of cloud services whose review is due (within 30 days or overdue);
/// empty when none is.
pub fn review_reminder(lang: Lang, url: &str, due: &[(String, String)]) -> String {
    if due.is_empty() {
        return String::new();
    }
    let list: String = due.iter().map(|(name, date)| format!("  {name:<28} {date}\n")).collect();
    match lang {
        Lang::Nl => format!("\nClouddiensten om opnieuw te beoordelen ({}):\n{list}Naar het register: {url}/admin/cloud\n", due.len()),
        Lang::En => format!("\nCloud services to review again ({}):\n{list}The register: {url}/admin/cloud\n", due.len()),
    }
}

/// Mails the digest of the 24 hours up to `now_ms` to every active administrator and security
/// officer, each in their language; returns how many were sent.
pub async fn send_digest(
    store: &Store,
    mailer: &Mailer,
    organisation: &str,
    default_lang: Lang,
    public_url: &str,
    now_ms: i64,
) -> Result<usize, String> {
    let since = now_ms - 86_400_000;
    let alerts = store.alerts_since(since, 100_000).await.map_err(|e| e.to_string())?;
    let blocks: Vec<veilig_store::DecisionRecord> =
        store.decisions_recent(10_000).await.map_err(|e| e.to_string())?.into_iter().filter(|d| d.created_ms >= since).collect();
    let until = time::OffsetDateTime::from_unix_timestamp(now_ms / 1000)
        .ok()
        .and_then(|t| t.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC")).ok())
        .unwrap_or_default();
    let staff = store.users_list().await.map_err(|e| e.to_string())?;
    let day = |ms: i64| time::OffsetDateTime::from_unix_timestamp(ms / 1000).map(|t| t.date().to_string()).unwrap_or_default();
    let due: Vec<(String, String)> = store
        .cloud_services()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter_map(|s| s.review_due_ms.filter(|d| *d <= now_ms + 30 * 86_400_000).map(|d| (s.name, day(d))))
        .collect();
    let mut sent = 0;
    for user in staff.iter().filter(|u| u.status == "active" && (u.role == "admin" || u.role == "security_officer")) {
        let lang = user.language.as_deref().and_then(Lang::parse).unwrap_or(default_lang);
        let mut mail = digest(lang, organisation, public_url, &until, &alerts, &blocks);
        mail.body.push_str(&review_reminder(lang, public_url, &due));
        mailer.send(&user.email, &mail.subject, &mail.body).await.map_err(|e| e.to_string())?;
        sent += 1;
    }
    Ok(sent)
}

/// Sends the digest every day at `hour`:00 UTC.
pub fn spawn_digest(store: Store, mailer: Mailer, organisation: String, default_lang: Lang, public_url: String, hour: u8) {
    tokio::spawn(async move {
        loop {
            let now = time::OffsetDateTime::now_utc();
            let today = now.replace_time(time::Time::from_hms(hour, 0, 0).unwrap_or(time::Time::MIDNIGHT));
            let next = if today > now { today } else { today + time::Duration::days(1) };
            let wait = (next - now).whole_milliseconds().max(1000) as u64;
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            let at = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
            match send_digest(&store, &mailer, &organisation, default_lang, &public_url, at).await {
                Ok(n) => tracing::info!(recipients = n, "daily digest sent"),
                Err(e) => tracing::warn!(error = %e, "could not send the daily digest"),
            }
        }
    });
}

/// At most this many alert mails per recipient in [`ALERT_MAIL_WINDOW_MS`]; the engine already
/// raises one alert per source and rule per window, this caps a storm of many sources.
pub const ALERT_MAILS_PER_WINDOW: usize = 10;
pub const ALERT_MAIL_WINDOW_MS: i64 = 10 * 60_000;

/// Listens to the event bus and mails invitations and security notices. Failures are logged
/// (without the message, which may hold a link) and never stop the task.
pub fn spawn(bus: &EventBus, store: Store, mailer: Mailer, organisation: String, default_lang: Lang, public_url: String) {
    let mut rx = bus.subscribe();
    tokio::spawn(async move {
        let mut alert_mails: std::collections::VecDeque<i64> = std::collections::VecDeque::new();
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "mail notices fell behind");
                    continue;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            let (user_id, make): (String, Box<dyn Fn(Lang) -> Mail + Send>) = match event {
                Event::InvitationIssued { user_id, url } => {
                    let org = organisation.clone();
                    (user_id, Box::new(move |l| invitation(l, &org, &url)))
                }
                Event::LoginSucceeded { user_id, ip, .. } => {
                    let org = organisation.clone();
                    let when = time::OffsetDateTime::now_utc()
                        .format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC"))
                        .unwrap_or_default();
                    (user_id, Box::new(move |l| new_sign_in(l, &org, &ip, &when)))
                }
                Event::FactorChanged { user_id, added, kind } => {
                    let org = organisation.clone();
                    (user_id, Box::new(move |l| factor_changed(l, &org, added, &kind)))
                }
                Event::CloudReportAnswered { user_id, what, status, reply } => {
                    let (org, url) = (organisation.clone(), public_url.clone());
                    (user_id, Box::new(move |l| cloud_report_answered(l, &org, &what, &status, &reply, &url)))
                }
                Event::MonitorAlert { rule, severity, source, .. } => {
                    // Everyone on duty: administrators and security officers.
                    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
                    while alert_mails.front().is_some_and(|t| now - t > ALERT_MAIL_WINDOW_MS) {
                        alert_mails.pop_front();
                    }
                    if alert_mails.len() >= ALERT_MAILS_PER_WINDOW {
                        tracing::warn!(%rule, %source, "alert mail skipped: too many alerts at once; see the alerts page");
                        continue;
                    }
                    alert_mails.push_back(now);
                    let staff = store.users_list().await.unwrap_or_default();
                    for user in staff.iter().filter(|u| u.status == "active" && (u.role == "admin" || u.role == "security_officer")) {
                        let lang = user.language.as_deref().and_then(Lang::parse).unwrap_or(default_lang);
                        let mail = monitor_alert(lang, &organisation, &rule, &severity, &source, &public_url);
                        if let Err(e) = mailer.send(&user.email, &mail.subject, &mail.body).await {
                            tracing::warn!(error = %e, "could not send an alert mail");
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            let user = match store.user_by_id(&user_id).await {
                Ok(Some(u)) => u,
                _ => continue,
            };
            let lang = user.language.as_deref().and_then(Lang::parse).unwrap_or(default_lang);
            let mail = make(lang);
            if let Err(e) = mailer.send(&user.email, &mail.subject, &mail.body).await {
                tracing::warn!(error = %e, "could not send a notice");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_reminds_of_cloud_reviews_and_the_report_answer_reads_well() {
        assert_eq!(review_reminder(Lang::Nl, "https://v.nl", &[]), "");
        let due = [("Zoom".to_owned(), "2026-12-01".to_owned())];
        let nl = review_reminder(Lang::Nl, "https://v.nl", &due);
        assert!(nl.contains("opnieuw te beoordelen (1)") && nl.contains("Zoom") && nl.contains("https://v.nl/admin/cloud"), "{nl}");
        let m = cloud_report_answered(Lang::Nl, "Gemeente", "DeepL", "rejected", "Zivver", "https://v.nl");
        assert!(m.body.starts_with("Gebruik DeepL liever niet. Gebruik in plaats daarvan: Zivver"), "{}", m.body);
        let m = cloud_report_answered(Lang::En, "Gemeente", "DeepL\r\nBcc: x@y", "approved", "", "https://v.nl");
        assert!(!m.subject.contains('\n') && !m.subject.contains('\r'), "{}", m.subject);
    }

    #[test]
    fn invitation_texts() {
        let m = invitation(Lang::Nl, "Gemeente Voorbeeld", "https://veilig.example.nl/enroll/abc");
        expect_test::expect![[r#"
            Uw account bij Gemeente Voorbeeld: activeer het met deze link
            Hallo,

            U hebt een account gekregen voor Veilig van Gemeente Voorbeeld, waarmee u veilig thuiswerkt.

            Open deze persoonlijke link om een wachtwoord te kiezen en een tweede factor in te stellen
            (een authenticator-app op uw telefoon, of een passkey):

              https://veilig.example.nl/enroll/abc

            De link werkt één keer en verloopt over 7 dagen. Hebt u dit niet verwacht? Neem dan contact op met uw IT-afdeling
            en klik niet op de link.
        "#]]
        .assert_eq(&format!("{}\n{}", m.subject, m.body));
        assert!(invitation(Lang::En, "X", "u").subject.starts_with("Your account"));
        assert!(factor_changed(Lang::En, "X", false, "passkey").body.starts_with("a passkey was removed"));
    }

    #[test]
    fn the_daily_digest_counts_rules_sources_and_blocks() {
        let alert = |rule: &str, severity: &str, source: &str, status: &str| veilig_store::AlertRecord {
            id: format!("{rule}{source}"),
            rule: rule.into(),
            severity: severity.into(),
            source: source.into(),
            user: None,
            first_seen_ms: 0,
            last_seen_ms: 0,
            count: 1,
            summary: String::new(),
            status: status.into(),
            created_ms: 0,
            assignee: None,
            example: None,
        };
        let alerts = [
            alert("port_scan_fast", "high", "203.0.113.7", "open"),
            alert("ssh_brute_force", "high", "203.0.113.7", "closed"),
            alert("port_scan_slow", "medium", "198.51.100.9", "open"),
        ];
        let block = veilig_store::DecisionRecord {
            id: "d".into(),
            network: "203.0.113.7/32".into(),
            reason: "port_scan_fast".into(),
            alert_id: None,
            origin: "auto".into(),
            level: 1,
            created_ms: 0,
            until_ms: 1,
            revoked_ms: None,
            revoked_by: None,
            enforced: "applied".into(),
        };
        let nl = digest(Lang::Nl, "Gemeente Zeewolde", "https://veilig.zeewolde.nl", "2026-11-27 07:00 UTC", &alerts, &[block]);
        expect_test::expect![[r#"
            Veilig: dagelijks overzicht Gemeente Zeewolde — 3 meldingen, 1 blokkades
            Overzicht van de bewaking van Gemeente Zeewolde, de laatste 24 uur (tot 2026-11-27 07:00 UTC).

            Meldingen: 3 (0 kritiek, 2 hoog, 1 middel, 0 laag); nog open: 2.
            Nieuwe blokkades: 1.

            Meest gemelde regels:
              port_scan_fast                   1
              port_scan_slow                   1
              ssh_brute_force                  1

            Meest actieve bronnen:
              203.0.113.7                      2  (geblokkeerd)
              198.51.100.9                     1

            Alles bekijken: https://veilig.zeewolde.nl/alerts
            Blokkades: https://veilig.zeewolde.nl/blocks
        "#]]
        .assert_eq(&format!("{}\n{}", nl.subject, nl.body));
        let quiet = digest(Lang::En, "Gemeente Zeewolde", "https://veilig.zeewolde.nl", "2026-11-27 07:00 UTC", &[], &[]);
        assert!(quiet.body.contains("No alerts: all quiet.") && quiet.subject.contains("0 alerts, 0 blocks"), "{}", quiet.body);
    }
}
