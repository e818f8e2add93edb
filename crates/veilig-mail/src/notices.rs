//! The texts of Veilig's own mail, in Dutch and English, and the task that sends security
//! notices when identity events happen.

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
}
