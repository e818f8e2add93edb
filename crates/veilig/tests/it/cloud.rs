//! `veilig cloud discover` on the engine's hand-made sample logs, and its bad input.

use crate::veilig;

fn samples() -> String {
    format!("{}/../veilig-cloud/tests/it/samples", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn discover_prints_one_json_object_per_service_then_the_unknown_domains_then_a_summary() {
    let dir = samples();
    let (code, out, err) = veilig(&["cloud", "discover", "--json", &format!("{dir}/dnsmasq.log"), &format!("{dir}/zeek-ssl.log")]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let zoom = lines.iter().find(|v| v["service"] == "zoom").unwrap();
    for key in ["service", "domains", "functions", "register_status", "queries", "clients", "first_seen", "last_seen"] {
        assert!(zoom.get(key).is_some(), "{key} missing: {zoom}");
    }
    assert_eq!((zoom["queries"].as_u64(), zoom["clients"].as_u64()), (Some(5), Some(3)), "3/2 in dnsmasq.log, 2/1 in zeek-ssl.log");
    assert_eq!(zoom["first_seen"], "2026-11-26T13:05:20Z", "epoch 1795698320 in zeek-ssl.log");
    assert!(lines.iter().any(|v| v["unknown_domain"] == "nu.nl"), "{out}");
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!((summary["queries"].as_u64(), summary["malformed"].as_u64()), (Some(42), Some(5)), "{summary}");
    assert!(!out.contains("192.168.") && !out.contains("10.40."), "no client address is printed");
}

#[test]
fn discover_reads_each_services_status_from_the_register() {
    use veilig_testkit::http;
    let db = crate::database();
    let server = veilig_testkit::ServerProcess::start(std::path::Path::new(crate::BIN), &db, &[]);
    let (admin, csrf) = crate::admin_agent(&server);
    let r = http::send(
        &admin,
        "POST",
        &server.url("/api/v1/cloud/services"),
        &[("x-csrf-token", &csrf)],
        Some(&serde_json::json!({"catalog_id": "zoom", "status": "approved"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let log = format!("{}/dnsmasq.log", samples());
    let (code, out, err) = veilig(&["cloud", "discover", "--json", "--register", "--database-url", &db.url, &log]);
    assert_eq!(code, 0, "{err}");
    let status = |id: &str| {
        out.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|v| v["service"] == id)
            .map(|v| v["register_status"].clone())
    };
    assert_eq!(status("zoom"), Some(serde_json::json!("approved")));
    assert_eq!(status("deepl"), Some(serde_json::json!("not_in_register")));
    // without --register the command line does not know
    let (_, out, _) = veilig(&["cloud", "discover", "--json", &log]);
    assert!(out.contains("\"register_status\":\"unknown\""), "{out}");
}

#[test]
fn discover_says_what_is_wrong_with_its_input() {
    let (code, _, err) = veilig(&["cloud", "discover", "--format", "syslog", "x.log"]);
    assert_eq!(code, 2);
    assert!(err.contains("--format") && err.contains("windows-dns"), "{err}");
    let (code, _, err) = veilig(&["cloud", "discover", "/no/such/file.log"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read /no/such/file.log"), "{err}");
    let dir = std::env::temp_dir().join(format!("veilig-cloud-{}", veilig_core::random_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.log");
    std::fs::write(&junk, "hello\nthis is not a log\n\u{0}\u{1}binary\n").unwrap();
    let (code, out, err) = veilig(&["cloud", "discover", junk.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("no line was understood"), "{err}");
    assert!(out.contains("3 not understood") && out.contains("not understood: hello"), "{out}");
}

/// Issue #7's flow in Chromium: the security officer starts the register from the catalog; an
/// employee reports the free translator they use; the officer approves it; the employee is told
/// by mail (a real SMTP server) and sees the answer on the page.
#[test]
fn an_employee_reports_a_service_the_officer_triages_and_the_employee_is_told_in_chromium() {
    use veilig_testkit::{Browser, http};
    let sink = crate::mail::SmtpSink::start();
    let port = sink.port.to_string();
    let env = [
        ("VEILIG_SMTP_HOST", "127.0.0.1"),
        ("VEILIG_SMTP_PORT", port.as_str()),
        ("VEILIG_SMTP_TLS", "none"),
        ("VEILIG_SMTP_FROM", "Veilig <veilig@gemeente.nl>"),
    ];
    let server = veilig_testkit::ServerProcess::start_with_env(std::path::Path::new(crate::BIN), &crate::database(), &[], &env);
    let (admin, csrf) = crate::admin_agent(&server);
    let r = http::send(
        &admin,
        "POST",
        &server.url("/api/v1/users"),
        &[("x-csrf-token", &csrf)],
        Some(&serde_json::json!({"email": "fatima@gemeente.nl", "name": "Fatima"})),
    );
    let (emp, _) = crate::enrolled_agent(&server, r.json()["enrollment_url"].as_str().unwrap(), "groene appel naast de kachel");
    let cookie = crate::session_cookie;
    // the register starts from the catalog (API and page alike)
    for (id, status) in [("microsoft-365", "approved"), ("zivver", "approved"), ("wetransfer", "not_allowed")] {
        let r = http::send(
            &admin,
            "POST",
            &server.url("/api/v1/cloud/services"),
            &[("x-csrf-token", &csrf)],
            Some(&serde_json::json!({"catalog_id": id, "status": status})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }

    let b = Browser::start(1280, 1000);
    b.goto(&server.url("/login"));
    b.add_cookie("veilig_session", &cookie(&emp));
    b.goto(&server.url("/cloud?lang=nl"));
    b.wait_for_text("h1", "Clouddiensten");
    b.wait_for_text("#which", "Zivver");
    assert!(!b.text(&b.find("#which")).contains("WeTransfer"), "a service that is not allowed is not offered");
    crate::browser::fill(
        &b,
        &[("#what", "https://www.deepl.com/translator"), ("#purpose", "brieven vertalen"), ("#data", "namen van cliënten")],
        "#report-form button",
    );
    b.wait_for_text("#report-sent", "Bedankt");
    b.wait_for_text("#my-reports", "In behandeling");

    let a = Browser::start(1280, 1500);
    a.goto(&server.url("/login"));
    a.add_cookie("veilig_session", &cookie(&admin));
    a.goto(&server.url("/admin/cloud?lang=en"));
    a.wait_for_text("h1", "Cloud register");
    a.wait_for_text("article.report", "deepl.com");
    assert_eq!(
        a.execute("return document.querySelector('article.report input[name=catalog_id]').value", vec![]),
        "deepl",
        "the catalog recognised the address"
    );
    a.save_screenshot("cloud-admin-en.png");
    a.type_text(&a.find("article.report input[name=reply]"), "Use the business account with your work e-mail.");
    a.click(&a.find("article.report button"));
    a.wait_for_text("#register", "DeepL");

    let mail = crate::mail::unfold(&sink.wait_for("fatima@gemeente.nl", "deepl"));
    assert!(mail.contains("U mag") && mail.contains("/cloud"), "{mail}");
    b.goto(&server.url("/cloud?lang=nl"));
    b.wait_for_text("#my-reports", "Goedgekeurd");
    b.wait_for_text("#which", "DeepL");
    b.save_screenshot("cloud-employee-nl.png");
    let csv = http::get(&admin, &server.url("/api/v1/cloud/export.csv"));
    assert_eq!(csv.status, 200);
    assert!(csv.body.lines().count() == 5 && csv.body.contains("\"DeepL\""), "{}", csv.body);

    // the officer assesses DeepL with evidence: a link and a signed agreement as PDF
    a.goto(&server.url("/admin/cloud?lang=en"));
    a.click(&a.find("#register a"));
    a.wait_for_text("h1", "DeepL");
    let before: u32 = a.text(&a.find("#risk-score")).parse().unwrap();
    a.click(&a.find("input[name=data_personal]"));
    a.click(&a.find("#details-h ~ form button"));
    a.wait_for_text("#risk-reasons", "data-processing agreement");
    for (field, value) in
        [("data_location", "eu"), ("dpa_signed", "yes"), ("mfa_enforced", "yes"), ("public_links_off", "yes"), ("revenue", "paid")]
    {
        a.execute(&format!("document.getElementById('{field}').value = '{value}'"), vec![]);
    }
    a.execute("document.getElementById('iso27001_expires').value = '2027-04-30'", vec![]);
    a.execute("document.getElementById('terms_reviewed').value = '2026-11-20'", vec![]);
    a.type_text(&a.find("#exit_plan"), "Export glossaries; documents are never stored there");
    a.click(&a.find("#assessment-form button"));
    a.wait_for_text("h1", "DeepL");
    let after: u32 = a.text(&a.find("#risk-score")).parse().unwrap();
    assert!(after < 25 && after < before, "assessed: {before} -> {after}");
    a.type_text(&a.find("#ev-url"), "https://www.deepl.com/pro-data-security");
    a.execute("document.getElementById('ev-dated').value = '2026-11-20'", vec![]);
    a.click(&a.find("#evidence-link-form button"));
    a.wait_for_text("#evidence", "pro-data-security");
    let pdf = std::env::temp_dir().join(format!("verwerkersovereenkomst-{}.pdf", veilig_core::random_id()));
    std::fs::write(&pdf, b"%PDF-1.7\n% signed data-processing agreement\n").unwrap();
    a.execute("document.getElementById('evf-question').value = 'dpa_signed'", vec![]);
    a.execute("document.getElementById('evf-dated').value = '2026-02-01'", vec![]);
    a.type_text(&a.find("#evf-file"), pdf.to_str().unwrap());
    a.click(&a.find("#evidence-file-form button"));
    a.wait_for_text("#evidence", "verwerkersovereenkomst");
    a.execute("window.scrollTo(0, 0)", vec![]);
    a.save_screenshot("cloud-assessment-en.png");

    // discovery in the portal: a Pi-hole log uploaded on the register page, one click starts a review
    a.goto(&server.url("/admin/cloud?lang=en"));
    let log = std::fs::canonicalize(format!("{}/pihole.log", samples())).unwrap();
    a.type_text(&a.find("#discovery-file"), log.to_str().unwrap());
    a.click(&a.find("#discovery-form button"));
    a.wait_for_text("#discovered", "Kahoot!");
    let row = a.execute(
        "return Array.from(document.querySelectorAll('#discovered tr')).find(r => r.textContent.includes('Microsoft 365')).textContent",
        vec![],
    );
    assert!(row.as_str().unwrap().contains("Approved"), "a registered service shows its status: {row}");
    a.execute("document.getElementById('disc-h').scrollIntoView()", vec![]);
    a.save_screenshot("cloud-discovery-en.png");
    a.execute(
        "Array.from(document.querySelectorAll('#discovered tr')).find(r => r.textContent.includes('Kahoot!')).querySelector('button').click()",
        vec![],
    );
    a.wait_for_text("#register", "Kahoot!");
    let d = http::get(&admin, &server.url("/api/v1/cloud/discovery")).json();
    let kahoot = d["services"].as_array().unwrap().iter().find(|s| s[0]["service"] == "kahoot").unwrap();
    assert_eq!(kahoot[1], "under_review");
    assert!(!d.to_string().contains("10.0.0."), "no client address is kept");
}
