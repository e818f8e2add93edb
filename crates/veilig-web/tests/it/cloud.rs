//! The cloud register's API: who may do what, and bad input answered clearly.

use serde_json::json;

use crate::TestApp;

#[test]
fn the_register_api_checks_roles_and_input() {
    let app = TestApp::start();
    app.sign_in_admin();
    let (anna, _) = app.employee("anna@gemeente.nl", &[]);
    let s = app.api("POST", "/api/v1/cloud/services", Some(json!({"catalog_id": "zoom", "status": "approved"})));
    assert_eq!(s.status, 201, "{}", s.body);
    let id = s.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(s.json()["risk"]["level"], "high");
    assert_eq!(app.api("POST", "/api/v1/cloud/services", Some(json!({"catalog_id": "zoom"}))).status, 409);
    assert_eq!(app.api("POST", "/api/v1/cloud/services", Some(json!({"bogus": 1}))).status, 422);
    // employees read the catalog and "which tool", not the register
    assert_eq!(anna.api("GET", "/api/v1/cloud/services", None).status, 403);
    assert_eq!(anna.api("GET", "/api/v1/cloud/export.csv", None).status, 403);
    assert_eq!(anna.api("GET", "/api/v1/cloud/catalog?q=zivver", None).json()[0]["id"], "zivver");
    assert_eq!(anna.api("GET", "/api/v1/cloud/which", None).json()[0]["services"][0][0], "Zoom");
    // an assessment with a date that is not one; evidence of the wrong kind
    let r = app.api("PUT", &format!("/api/v1/cloud/services/{id}/assessment"), Some(json!({"iso27001_expires": "next year"})));
    assert_eq!(r.status, 422, "{}", r.body);
    let r = app.api("PUT", &format!("/api/v1/cloud/services/{id}/assessment"), Some(json!({"data_location": "mars"})));
    assert_eq!(r.status, 422, "{}", r.body);
    let ok = app.api("PUT", &format!("/api/v1/cloud/services/{id}/assessment"), Some(json!({"data_location": "eu", "mfa_enforced": true})));
    assert_eq!(ok.status, 200, "{}", ok.body);
    let csrf = app.csrf.borrow().clone();
    let url = format!("{}/api/v1/cloud/services/{id}/evidence?question=dpa_signed&dated=2026-02-01&file_name=dpa.exe", app.base);
    let r = veilig_testkit::http::send_bytes(
        &app.agent,
        "POST",
        &url,
        &[("x-csrf-token", &csrf), ("content-type", "application/octet-stream")],
        b"MZ\x90",
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let url = format!("{}/api/v1/cloud/services/{id}/evidence?question=dpa_signed&dated=2026-02-01&file_name=dpa.pdf", app.base);
    let r = veilig_testkit::http::send_bytes(
        &app.agent,
        "POST",
        &url,
        &[("x-csrf-token", &csrf), ("content-type", "application/pdf")],
        b"%PDF-1.7 signed",
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let file = app.get(&format!("/api/v1/cloud/evidence/{}", r.json()["id"].as_str().unwrap()));
    assert_eq!((file.status, file.header("content-type")), (200, Some("application/pdf")));
    // reports: employees make them, only staff triage them
    let rep = anna.api("POST", "/api/v1/cloud/reports", Some(json!({"what": "https://www.deepl.com", "purpose": "vertalen"})));
    assert_eq!(rep.status, 201, "{}", rep.body);
    let rid = rep.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        anna.api("POST", &format!("/api/v1/cloud/reports/{rid}/triage"), Some(json!({"decision": "question", "reply": "?"}))).status,
        403
    );
    let r = app.api("POST", &format!("/api/v1/cloud/reports/{rid}/triage"), Some(json!({"decision": "maybe"})));
    assert_eq!(r.status, 422, "{}", r.body);
    let r = app.api(
        "POST",
        &format!("/api/v1/cloud/reports/{rid}/triage"),
        Some(json!({"decision": "reject", "alternative": "DeepL zakelijk"})),
    );
    assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("rejected")), "{}", r.body);
    assert_eq!(anna.api("GET", "/api/v1/cloud/reports", None).json()[0]["reply"], "DeepL zakelijk");
    // discovery: a log as the body; an unknown format; an empty upload
    let url = format!("{}/api/v1/cloud/discovery?format=dnsmasq&name=dns.log", app.base);
    let log = b"Nov 27 09:12:01 dnsmasq[812]: query[A] us05web.zoom.us from 192.168.1.23\nNov 27 09:13:01 dnsmasq[812]: query[A] www.deepl.com from 192.168.1.24\ngarbage\n";
    let r = veilig_testkit::http::send_bytes(&app.agent, "POST", &url, &[("x-csrf-token", &csrf)], log);
    assert_eq!(r.status, 200, "{}", r.body);
    let found = r.json();
    assert_eq!(found["findings"]["malformed"], 1);
    let status = |id: &str| found["services"].as_array().unwrap().iter().find(|s| s[0]["service"] == id).map(|s| s[1].clone());
    assert_eq!(status("zoom"), Some(json!("approved")));
    assert_eq!(status("deepl"), Some(json!("not_in_register")));
    let bad = format!("{}/api/v1/cloud/discovery?format=syslog", app.base);
    assert_eq!(veilig_testkit::http::send_bytes(&app.agent, "POST", &bad, &[("x-csrf-token", &csrf)], log).status, 422);
    let empty = format!("{}/api/v1/cloud/discovery", app.base);
    assert_eq!(veilig_testkit::http::send_bytes(&app.agent, "POST", &empty, &[("x-csrf-token", &csrf)], b"").status, 422);
    let anna_url = format!("{}/api/v1/cloud/discovery", anna.base);
    let anna_csrf = anna.csrf.borrow().clone();
    assert_eq!(veilig_testkit::http::send_bytes(&anna.agent, "POST", &anna_url, &[("x-csrf-token", &anna_csrf)], log).status, 403);
    // live: DNS lines in the monitoring input show on the register page with their status
    app.rt.block_on(app.ingest.message_from("192.168.1.1", "Nov 27 09:12:01 gw dnsmasq[812]: query[A] us05web.zoom.us from 192.168.1.23"));
    let page = app.get("/admin/cloud?lang=en");
    let live = &page.body[page.body.find("id=\"live\"").expect("the live table")..];
    assert!(live.contains("Zoom") && live.contains("Approved"), "{live}");
    assert_eq!(app.api("DELETE", &format!("/api/v1/cloud/services/{id}"), None).status, 204);
    assert_eq!(app.api("GET", &format!("/api/v1/cloud/services/{id}"), None).status, 404);
}
