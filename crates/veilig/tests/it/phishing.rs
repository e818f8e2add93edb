//! The phishing desk end to end: employees forward suspicious mail to a real Dovecot IMAP
//! server (started by the test), Veilig reads the mailbox over IMAPS with IDLE, answers each
//! employee through a real SMTP server process, and the security officer finds the reports
//! grouped by campaign. The mailbox survives a server restart and never answers twice.

use std::time::{Duration, Instant};

use veilig_testkit::dovecot::Dovecot;
use veilig_testkit::http;

use crate::mail::{SmtpSink, unfold};

/// A corona-themed phishing mail as it reached Marieke: a forged GGD sender that fails DMARC,
/// a link that shows ggd.nl and goes elsewhere, pressure and DigiD.
const CORONA: &str = "Return-Path: <bounce@ggd-uitslag.example>\r\n\
Authentication-Results: mx.zorggroephorizon.nl; spf=fail smtp.mailfrom=ggd-uitslag.example; dkim=none; dmarc=fail (p=reject) header.from=ggd.nl\r\n\
From: GGD Nederland <uitslag@ggd.nl>\r\nTo: m.devries@zorggroephorizon.nl\r\nSubject: Uw coronatest uitslag staat klaar\r\n\
Date: Thu, 26 Nov 2026 08:14:00 +0100\r\nMessage-ID: <uitslag-8812@ggd-uitslag.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<p>Beste cli&euml;nt,</p><p>De uitslag van uw coronatest staat klaar. Bekijk hem binnen 24 uur met DigiD, anders vervalt uw afspraak:</p>\
<p><a href=\"https://ggd-uitslag.example/digid/inloggen\">https://www.ggd.nl/mijn-uitslag</a></p><p>GGD Nederland</p>\r\n";

/// Marieke forwards the mail as an attachment, as Outlook's "Forward as attachment" does.
fn forwarded_as_attachment(from: &str, message_id: &str) -> String {
    format!(
        "From: Marieke de Vries <{from}>\r\nTo: meldpunt@zorggroephorizon.nl\r\nSubject: FW: Uw coronatest uitslag staat klaar\r\n\
         Message-ID: <{message_id}>\r\nDate: Thu, 26 Nov 2026 08:20:00 +0100\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"fw1\"\r\n\r\n\
         --fw1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIk vertrouw deze niet.\r\n--fw1\r\nContent-Type: message/rfc822\r\n\
         Content-Disposition: attachment; filename=\"uitslag.eml\"\r\n\r\n{CORONA}\r\n--fw1--\r\n"
    )
}

/// Pieter forwards the same campaign inline, as a phone's mail app does.
const INLINE: &str = "From: Pieter Jansen <p.jansen@zorggroephorizon.nl>\r\nTo: meldpunt@zorggroephorizon.nl\r\nSubject: Fwd: Uw coronatest uitslag staat klaar\r\n\
Message-ID: <fwd-pieter-1@zorggroephorizon.nl>\r\nDate: Thu, 26 Nov 2026 08:31:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Verstuurd vanaf mijn telefoon\r\n\r\n---------- Doorgestuurd bericht ---------\r\nVan: GGD Nederland <uitslag@ggd.nl>\r\n\
Datum: do 26 nov. 2026 om 08:14\r\nOnderwerp: Uw coronatest uitslag staat klaar\r\nAan: <p.jansen@zorggroephorizon.nl>\r\n\r\n\
De uitslag van uw coronatest staat klaar. Bekijk hem binnen 24 uur met DigiD: https://ggd-uitslag.example/digid/inloggen\r\n";

/// A real newsletter that an employee was unsure about.
const NEWSLETTER: &str = "From: Sanne Bakker <s.bakker@zorggroephorizon.nl>\r\nTo: meldpunt@zorggroephorizon.nl\r\nSubject: Fwd: Nieuwsbrief Zorgvisie november\r\n\
Message-ID: <fwd-sanne-1@zorggroephorizon.nl>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"n\"\r\n\r\n--n\r\nContent-Type: text/plain\r\n\r\nEcht?\r\n\
--n\r\nContent-Type: message/rfc822\r\n\r\n\
Authentication-Results: mx.zorggroephorizon.nl; spf=pass smtp.mailfrom=nieuwsbrief.zorgvisie.example; dkim=pass header.d=zorgvisie.example; dmarc=pass header.from=zorgvisie.example\r\n\
From: Zorgvisie <redactie@zorgvisie.example>\r\nTo: s.bakker@zorggroephorizon.nl\r\nSubject: Nieuwsbrief november\r\nList-Unsubscribe: <https://zorgvisie.example/afmelden>\r\n\
Content-Type: text/plain\r\n\r\nDeze maand: personeelstekort in de wijkverpleging. Lees meer op https://zorgvisie.example/nieuws/wijkverpleging\r\n--n--\r\n";

#[test]
fn reported_phishing_is_answered_within_a_minute_and_grouped_by_campaign() {
    let sink = SmtpSink::start();
    let dir = veilig_testkit::temp_dir("phishdesk");
    let (_cert, cert_path, key_path) = crate::self_signed(&dir);
    let mut dovecot = Dovecot::start(&cert_path, &key_path, "meldpunt", "geheim wachtwoord");
    let secret = dir.join("imap-password");
    std::fs::write(&secret, "geheim wachtwoord\n").unwrap();
    let (smtp_port, imaps_port) = (sink.port.to_string(), dovecot.imaps_port.to_string());
    let env = [
        ("VEILIG_SMTP_HOST", "127.0.0.1"),
        ("VEILIG_SMTP_PORT", smtp_port.as_str()),
        ("VEILIG_SMTP_TLS", "none"),
        ("VEILIG_SMTP_FROM", "Veilig <veilig@zorggroephorizon.nl>"),
        ("VEILIG_PHISHING_IMAP_HOST", "localhost"),
        ("VEILIG_PHISHING_IMAP_PORT", imaps_port.as_str()),
        ("VEILIG_PHISHING_IMAP_TLS", "tls"),
        ("VEILIG_PHISHING_IMAP_USERNAME", "meldpunt@zorggroephorizon.nl"),
        ("VEILIG_PHISHING_IMAP_PASSWORD_FILE", secret.to_str().unwrap()),
        ("VEILIG_PHISHING_IMAP_CA_FILE", cert_path.to_str().unwrap()),
        ("VEILIG_PHISHING_IDLE_SECS", "20"),
    ];
    let server = veilig_testkit::ServerProcess::start_with_env(std::path::Path::new(crate::BIN), &crate::database(), &[], &env);
    let (agent, csrf) = crate::admin_agent(&server);
    let api = |method: &str, path: &str, body: Option<serde_json::Value>| {
        http::send(&agent, method, &server.url(path), &[("x-csrf-token", &csrf)], body.as_ref())
    };
    for (email, name) in [("m.devries@zorggroephorizon.nl", "Marieke de Vries"), ("p.jansen@zorggroephorizon.nl", "Pieter Jansen")] {
        assert_eq!(api("POST", "/api/v1/users", Some(serde_json::json!({"email": email, "name": name}))).status, 201);
    }

    // Marieke forwards the corona mail: she has Veilig's explained answer within a minute.
    let reported = Instant::now();
    dovecot.deliver(forwarded_as_attachment("m.devries@zorggroephorizon.nl", "fw-marieke-1@zorggroephorizon.nl").as_bytes());
    let answer = unfold(&sink.wait_for("m.devries@zorggroephorizon.nl", "Dit is phishing"));
    assert!(reported.elapsed() < Duration::from_secs(60), "answered after {:?}", reported.elapsed());
    for needle in ["DMARC mislukt", "Een link toont www.ggd.nl", "Klik niet op links", "Uw coronatest uitslag staat klaar"] {
        assert!(answer.contains(needle), "missing {needle:?} in:\n{answer}");
    }
    crate::mail::mail_screenshot(&answer, "phishing-answer-nl.png");

    // The server restarts (an update, a crash): Veilig reconnects and goes on.
    dovecot.restart();
    dovecot.deliver(INLINE.as_bytes());
    let answer = unfold(&sink.wait_for("p.jansen@zorggroephorizon.nl", "Dit is phishing"));
    assert!(answer.contains("ggd-uitslag.example"), "{answer}");

    // A third employee reports a real newsletter: told it looks fine, and it is no case.
    dovecot.deliver(NEWSLETTER.as_bytes());
    sink.wait_for("s.bakker@zorggroephorizon.nl", "geen tekenen van phishing");

    // The same report again (a mail program that sends twice, a server that forgot \Seen):
    // handled, never answered twice.
    dovecot.deliver(forwarded_as_attachment("m.devries@zorggroephorizon.nl", "fw-marieke-1@zorggroephorizon.nl").as_bytes());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !dovecot.unseen().is_empty() {
        assert!(Instant::now() < deadline, "the mailbox still has unseen reports: {:?}\n{}", dovecot.unseen(), server.stdout());
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let answers = sink.all_to("m.devries@zorggroephorizon.nl").into_iter().filter(|m| m.contains("Uw melding")).count();
    assert_eq!(answers, 1, "Marieke was answered twice");

    // The security officer sees one campaign, reported by two employees.
    let campaigns = api("GET", "/api/v1/phishing/campaigns", None).json();
    let list = campaigns.as_array().unwrap();
    assert_eq!(list.len(), 1, "{campaigns}");
    let c = &list[0];
    assert_eq!((c["verdict"].as_str(), c["reports"].as_i64(), c["reporters"].as_i64()), (Some("phishing"), Some(2), Some(2)), "{c}");
    assert_eq!(c["sender"], "uitslag@ggd.nl");
    let all = api("GET", "/api/v1/phishing/campaigns?all_verdicts=true", None).json();
    assert_eq!(all.as_array().unwrap().len(), 2, "the clean newsletter is a campaign of its own: {all}");
    let id = c["id"].as_str().unwrap().to_owned();

    // The officer notes what was done and keeps the engine's verdict; bad input is refused.
    let note = serde_json::json!({"body": "Melding aan GGD gedaan; link geblokkeerd in de webfilter."});
    assert_eq!(api("POST", &format!("/api/v1/phishing/campaigns/{id}/notes"), Some(note)).status, 204);
    assert_eq!(api("POST", &format!("/api/v1/phishing/campaigns/{id}/verdict"), Some(serde_json::json!({"verdict": "maybe"}))).status, 422);
    assert_eq!(api("POST", "/api/v1/phishing/campaigns/nope/notes", Some(serde_json::json!({"body": "x"}))).status, 404);
    let detail = api("GET", &format!("/api/v1/phishing/campaigns/{id}"), None).json();
    assert_eq!(detail["notes"][0]["author"], "beheer@gemeente.nl");
    let forms: Vec<&str> = detail["reports"].as_array().unwrap().iter().map(|r| r["form"].as_str().unwrap()).collect();
    assert_eq!(forms, vec!["inline", "attached"], "{detail}");
    let audit = api("GET", "/api/v1/audit?action=phishing.", None).json();
    assert!(audit.to_string().contains("phishing.reported") && audit.to_string().contains("phishing.note_added"), "{audit}");

    // The chart counts the three reports (the duplicate is not one), whatever the day.
    let page = http::get(&agent, &server.url("/phishing"));
    let total: usize = page.body.split(" – ").skip(1).filter_map(|s| s.split("</title>").next()?.parse::<usize>().ok()).sum();
    assert_eq!(total, 3, "{}", page.body);

    // What the officer sees.
    let session = crate::session_cookie(&agent);
    let b = veilig_testkit::Browser::start(1280, 900);
    b.goto(&server.url("/login"));
    b.add_cookie("veilig_session", &session);
    b.goto(&server.url("/phishing?lang=nl"));
    b.wait_for_text("h1", "Meldpunt phishing");
    b.wait_for_text("table", "Uw coronatest uitslag staat klaar");
    b.save_screenshot("phishing-campaigns-nl.png");
    b.goto(&server.url(&format!("/phishing/{id}?lang=en")));
    b.wait_for_text("h1", "Phishing");
    b.wait_for_text("main", "p.jansen@zorggroephorizon.nl");
    b.save_screenshot("phishing-campaign-en.png");

    // Marieke's account is erased: her report goes with it, Pieter's stays.
    let users = api("GET", "/api/v1/users", None).json();
    let marieke = users.as_array().unwrap().iter().find(|u| u["email"] == "m.devries@zorggroephorizon.nl").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(api("DELETE", &format!("/api/v1/users/{marieke}"), None).status, 204);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reporters: Vec<String> = api("GET", &format!("/api/v1/phishing/campaigns/{id}"), None).json()["reports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["reporter"].as_str().unwrap().to_owned())
            .collect();
        if reporters == ["p.jansen@zorggroephorizon.nl"] {
            break;
        }
        assert!(Instant::now() < deadline, "Marieke's report is still there: {reporters:?}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // The officer closes the case.
    assert_eq!(api("POST", &format!("/api/v1/phishing/campaigns/{id}/status"), Some(serde_json::json!({"status": "closed"}))).status, 204);
    assert!(api("GET", "/api/v1/phishing/campaigns", None).json().as_array().unwrap().is_empty());
    drop(dovecot);
}

#[test]
fn the_check_api_explains_one_message_in_the_callers_language() {
    let server = crate::start(&[]);
    let (agent, csrf) = crate::admin_agent(&server);
    let r = http::send_bytes(&agent, "POST", &server.url("/api/v1/phishing/check?lang=en"), &[("x-csrf-token", &csrf)], CORONA.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["verdict"], "phishing");
    assert!(v["reasons"].as_array().unwrap().iter().any(|r| r["message"].as_str().unwrap().contains("DMARC failed")), "{v}");
    // Anyone signed out is refused.
    let anon = http::send_bytes(&http::agent(), "POST", &server.url("/api/v1/phishing/check"), &[], CORONA.as_bytes());
    assert_eq!(anon.status, 401);
}
