//! Awareness messages: staff send a shipped template to everyone or a group; employees get it
//! by mail in their language and in the portal; opening it counts as read; the security officer
//! sees who read it, administrators the totals only.

use veilig_testkit::http;

use crate::mail::{SmtpSink, unfold};

#[test]
fn an_awareness_message_reaches_everyone_and_reads_are_counted() {
    let sink = SmtpSink::start();
    let port = sink.port.to_string();
    let env = [
        ("VEILIG_SMTP_HOST", "127.0.0.1"),
        ("VEILIG_SMTP_PORT", port.as_str()),
        ("VEILIG_SMTP_TLS", "none"),
        ("VEILIG_SMTP_FROM", "Veilig <veilig@gemeente.nl>"),
    ];
    let server = veilig_testkit::ServerProcess::start_with_env(std::path::Path::new(crate::BIN), &crate::database(), &[], &env);
    let (admin, csrf) = crate::admin_agent(&server);
    let api = |agent: &http::Agent, csrf: &str, method: &str, path: &str, body: Option<serde_json::Value>| {
        http::send(agent, method, &server.url(path), &[("x-csrf-token", csrf)], body.as_ref())
    };
    assert_eq!(
        api(&admin, &csrf, "POST", "/api/v1/groups", Some(serde_json::json!({"name": "wijkteam", "description": "Wijkteam Noord"}))).status,
        201
    );
    let mut links = Vec::new();
    for (email, name, role, groups) in [
        ("marieke@gemeente.nl", "Marieke de Vries", "employee", vec!["wijkteam"]),
        ("cor@gemeente.nl", "Cor Veiligheid", "security_officer", vec![]),
    ] {
        let r = api(
            &admin,
            &csrf,
            "POST",
            "/api/v1/users",
            Some(serde_json::json!({"email": email, "name": name, "role": role, "groups": groups})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        links.push(r.json()["enrollment_url"].as_str().unwrap().to_owned());
    }
    let (marieke, marieke_csrf) = crate::enrolled_agent(&server, &links[0], "groene appel naast de kachel");
    let (cor, cor_csrf) = crate::enrolled_agent(&server, &links[1], "blauwe tram langs de gracht");

    // The administrator starts from a shipped template on the page and sends it to everyone.
    let page = http::get(&admin, &server.url("/awareness?template=crisis_lures"));
    assert!(page.body.contains("Let extra op: phishing die inspeelt op het nieuws"), "the template fills the form");
    let bad = api(
        &admin,
        &csrf,
        "POST",
        "/api/v1/awareness",
        Some(serde_json::json!({"title_nl": "", "body_nl": "x", "title_en": "x", "body_en": "x"})),
    );
    assert_eq!(bad.status, 422);
    let nobody = serde_json::json!({"title_nl": "a", "body_nl": "b", "title_en": "c", "body_en": "d", "groups": ["bestaat-niet"]});
    assert_eq!(api(&admin, &csrf, "POST", "/api/v1/awareness", Some(nobody)).status, 422);
    let message = serde_json::json!({
        "title_nl": "Let extra op: phishing over de energietoeslag",
        "body_nl": "Criminelen mailen nu over de energietoeslag.\n\nKlik niet: stuur zo'n mail door naar het meldpunt.",
        "title_en": "Take care: phishing about the energy allowance",
        "body_en": "Criminals are mailing about the energy allowance.\n\nDo not click: forward such mail to the report desk.",
    });
    let sent = api(&admin, &csrf, "POST", "/api/v1/awareness", Some(message));
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert_eq!(sent.json()["recipients"], 3, "the administrator, the officer and the employee");
    let id = sent.json()["id"].as_str().unwrap().to_owned();
    let mail = unfold(&sink.wait_for("marieke@gemeente.nl", "energietoeslag"));
    assert!(mail.contains(&format!("/awareness/{id}")), "the mail links to the portal: {mail}");

    // A message to the group reaches only its member.
    let group_message = serde_json::json!({"title_nl": "Wijkteam: nieuwe laptops", "body_nl": "Zet de VPN aan.", "title_en": "Team: new laptops", "body_en": "Switch on the VPN.", "groups": ["wijkteam"]});
    let to_group = api(&admin, &csrf, "POST", "/api/v1/awareness", Some(group_message));
    assert_eq!(to_group.json()["recipients"], 1, "{}", to_group.body);

    // Marieke sees both on her page, unread, and reads one by opening it.
    let me = http::get(&marieke, &server.url("/me"));
    assert!(
        me.body.contains("Let extra op: phishing over de energietoeslag") && me.body.contains("Wijkteam: nieuwe laptops"),
        "{}",
        me.body
    );
    let opened = http::get(&marieke, &server.url(&format!("/awareness/{id}")));
    assert_eq!(opened.status, 200);
    assert!(opened.body.contains("Criminelen mailen nu over de energietoeslag."));
    assert!(!opened.body.contains("cor@gemeente.nl"), "an employee sees no readers");
    assert_eq!(api(&marieke, &marieke_csrf, "POST", &format!("/api/v1/awareness/{id}/read"), None).status, 204, "reading again is fine");
    assert_eq!(api(&marieke, &marieke_csrf, "GET", "/api/v1/awareness", None).status, 403, "employees see no totals");
    // Her own data, as one document: the account and both messages, one read.
    let export = api(&marieke, &marieke_csrf, "GET", "/api/v1/me/export", None).json();
    assert_eq!(export["account"]["email"], "marieke@gemeente.nl");
    let got = export["awareness"].as_array().unwrap();
    assert_eq!(got.len(), 2, "{export}");
    assert_eq!(got.iter().filter(|m| !m["read_ms"].is_null()).count(), 1, "{export}");
    assert!(export["phishing_reports"].as_array().unwrap().is_empty());

    // Totals for the administrator; who read it for the security officer only.
    let list = api(&admin, &csrf, "GET", "/api/v1/awareness", None).json();
    let first = list.as_array().unwrap().iter().find(|m| m["id"] == id.as_str()).unwrap().clone();
    assert_eq!((first["recipients"].as_i64(), first["read"].as_i64()), (Some(3), Some(1)), "{first}");
    assert_eq!(api(&admin, &csrf, "GET", &format!("/api/v1/awareness/{id}/readers"), None).status, 403);
    let readers = api(&cor, &cor_csrf, "GET", &format!("/api/v1/awareness/{id}/readers"), None).json();
    let read: Vec<&str> =
        readers.as_array().unwrap().iter().filter(|r| !r["read_ms"].is_null()).map(|r| r["email"].as_str().unwrap()).collect();
    assert_eq!(read, vec!["marieke@gemeente.nl"], "{readers}");
    let audit = api(&admin, &csrf, "GET", "/api/v1/audit?action=awareness.", None).json();
    assert!(audit.to_string().contains("awareness.sent"), "{audit}");

    // What the staff and the employee see.
    let session = crate::session_cookie;
    let b = veilig_testkit::Browser::start(1280, 900);
    b.goto(&server.url("/login"));
    b.add_cookie("veilig_session", &session(&admin));
    b.goto(&server.url("/awareness?lang=nl&template=recognise_phishing"));
    b.wait_for_text("h1", "Bewustwording");
    b.wait_for_text("table", "1/3");
    b.save_screenshot("awareness-nl.png");
    let phone = veilig_testkit::Browser::start(390, 844);
    phone.goto(&server.url("/login"));
    phone.add_cookie("veilig_session", &session(&marieke));
    phone.goto(&server.url(&format!("/awareness/{id}?lang=nl")));
    phone.wait_for_text("h1", "energietoeslag");
    phone.save_screenshot("awareness-message-nl-phone.png");
}
