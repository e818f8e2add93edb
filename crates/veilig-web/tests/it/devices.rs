//! Device compliance through the API and the pages: tokens, enrolment, the inventory, the
//! policy, and the conditions that gate the portal and the VPN.

use serde_json::json;

use crate::TestApp;

/// A certificate request as the agent makes it.
fn csr() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "laptop-anna");
    params.serialize_request(&key).unwrap().pem().unwrap()
}

fn report(app: &TestApp, firewall_on: bool) -> Vec<u8> {
    let now = veilig_core::Clock::now(&*app.clock).unix_timestamp();
    let fw = if firewall_on {
        json!({"item": "firewall", "status": "ok", "detail": "nftables"})
    } else {
        json!({"item": "firewall", "status": "not_ok", "detail": "ufw inactive"})
    };
    serde_json::to_vec(&json!({"seq": now, "report": {
    "agent_version": "0.1.0", "hostname": "laptop-anna",
    "os": {"family": "linux", "name": "debian", "version": "12", "build": "bookworm"},
    "checked_at": now,
    "checks": [
        {"item": "os_supported", "status": "ok", "detail": "Debian 12"},
        {"item": "updates", "status": "ok", "detail": "2 days", "value": 2},
        {"item": "scanner", "status": "ok", "detail": "ClamAV"},
        {"item": "signatures", "status": "ok", "detail": "1 day", "value": 1},
        {"item": "disk_encryption", "status": "ok", "detail": "LUKS on /"},
        fw,
        {"item": "screen_lock", "status": "ok", "detail": "5 minutes", "value": 5}
    ]}}))
    .unwrap()
}

/// Enrols a device for whoever `who` is signed in as; returns the certificate's SHA-256.
fn enrol(app: &TestApp, who: &TestApp) -> String {
    let t = who.api("POST", "/api/v1/devices/tokens", Some(json!({})));
    assert_eq!(t.status, 201, "{}", t.body);
    let token = t.json()["token"].as_str().unwrap().to_owned();
    let anonymous = app.another_browser();
    let e = anonymous.api("POST", "/api/v1/agent/enroll", Some(json!({"token": token, "csr": csr(), "hostname": "laptop-anna"})));
    assert_eq!(e.status, 201, "{}", e.body);
    let pem = e.json()["certificate"].as_str().unwrap().to_owned();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine;
    veilig_compliance::fingerprint(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap())
}

#[test]
fn enrolment_needs_a_valid_token_and_bad_input_gets_clear_errors() {
    let app = TestApp::start();
    app.sign_in_admin();
    let anonymous = app.another_browser();
    let r = anonymous.api("POST", "/api/v1/agent/enroll", Some(json!({"token": "vdt_nope", "csr": csr(), "hostname": "x"})));
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (401, Some("invalid_token")), "{}", r.body);
    let r = anonymous.post_raw("/api/v1/agent/enroll", "application/json", b"{\"token\": 12");
    assert!(r.status == 400 || r.status == 422, "{} {}", r.status, r.body);
    let t = app.api("POST", "/api/v1/devices/tokens", Some(json!({}))).json()["token"].as_str().unwrap().to_owned();
    let r = anonymous.api("POST", "/api/v1/agent/enroll", Some(json!({"token": t, "csr": "garbage", "hostname": "x"})));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("csr"), "{}", r.body);
    // the token survived the broken request
    let r = anonymous.api("POST", "/api/v1/agent/enroll", Some(json!({"token": t, "csr": csr(), "hostname": "laptop"})));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["report_url"], "https://agent.veilig.test:8444");
    // a token for someone who does not exist; a policy out of range; only administrators change it
    assert_eq!(app.api("POST", "/api/v1/devices/tokens", Some(json!({"user": "niemand@gemeente.nl"}))).status, 404);
    let mut policy = app.api("GET", "/api/v1/devices/policy", None).json();
    policy["max_signature_days"] = json!(0);
    let r = app.api("PUT", "/api/v1/devices/policy", Some(policy.clone()));
    assert_eq!(r.status, 422, "{}", r.body);
    let (anna, _) = app.employee("anna@gemeente.nl", &[]);
    policy["max_signature_days"] = json!(3);
    assert_eq!(anna.api("PUT", "/api/v1/devices/policy", Some(policy.clone())).status, 403);
    assert_eq!(app.api("PUT", "/api/v1/devices/policy", Some(policy)).status, 200);
    assert_eq!(app.api("GET", "/api/v1/devices/policy", None).json()["max_signature_days"], 3);
    // the agent's report route is not on the portal
    assert_eq!(app.post_raw("/agent/v1/report", "application/json", b"{}").status, 404);
}

#[test]
fn conditions_send_an_employee_to_enrol_and_open_the_portal_and_vpn_once_a_device_complies() {
    let app = TestApp::start();
    app.sign_in_admin();
    app.vpn.set_running(true);
    assert_eq!(app.api("POST", "/api/v1/groups", Some(json!({"name": "Thuiswerkers"}))).status, 201);
    let (anna, _) = app.employee("anna@gemeente.nl", &["Thuiswerkers"]);
    assert_eq!(anna.api("POST", "/api/v1/vpn/devices", Some(json!({"name": "Laptop"}))).status, 201);
    let c = app.api("PUT", "/api/v1/devices/conditions/Thuiswerkers", Some(json!({"portal_cert": true, "vpn_compliant": true})));
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(anna.api("PUT", "/api/v1/devices/conditions/Thuiswerkers", Some(json!({}))).status, 403);

    // the portal: pages lead to the Devices page, the API says why, enrolment stays open
    let page = anna.get("/vpn");
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.header("location"), Some("/devices?refused=1"));
    let api = anna.api("GET", "/api/v1/vpn/devices", None);
    assert_eq!((api.status, api.json()["error"]["code"].as_str()), (403, Some("device_required")), "{}", api.body);
    let devices = anna.get("/devices?refused=1&lang=nl");
    assert_eq!(devices.status, 200);
    assert!(devices.body.contains("Geen toegang") && devices.body.contains("Veilig-agent"), "{}", devices.body);
    // an administrator in the group is never held back by the portal condition (no lock-out)
    let admin_id = app.api("GET", "/api/v1/me", None).json()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.api("PUT", &format!("/api/v1/groups/Thuiswerkers/members/{admin_id}"), None).status, 204);
    assert_eq!(app.get("/admin/devices").status, 200);

    let sha = enrol(&app, &anna);
    app.rt.block_on(app.devices.report(&sha, &report(&app, false), "192.0.2.9")).unwrap();
    assert_eq!(anna.get("/vpn").status, 200, "the certificate reported: the portal opens");
    let vpn = anna.api("POST", "/api/v1/vpn/sessions", None);
    assert_eq!((vpn.status, vpn.json()["error"]["code"].as_str()), (403, Some("device_required")), "{}", vpn.body);
    assert!(vpn.json()["error"]["message"].as_str().unwrap().contains("firewall"), "{}", vpn.body);
    let page = anna.get("/devices?lang=nl");
    assert!(page.body.contains("Zet de firewall aan"), "the fix in plain Dutch: {}", page.body);
    assert!(page.body.contains("data-verdict=\"bad\""), "{}", page.body);

    app.clock.advance(time::Duration::minutes(1));
    app.rt.block_on(app.devices.report(&sha, &report(&app, true), "192.0.2.9")).unwrap();
    let vpn = anna.api("POST", "/api/v1/vpn/sessions", None);
    assert_eq!(vpn.status, 201, "{}", vpn.body);
    let page = anna.get("/devices?lang=en");
    assert!(page.body.contains("meets every requirement") && page.body.contains("data-verdict=\"ok\""), "{}", page.body);

    // the inventory and its summary
    let s = app.api("GET", "/api/v1/devices/summary", None).json();
    assert_eq!((s["total"].as_u64(), s["compliant"].as_u64()), (Some(1), Some(1)), "{s}");
    assert_eq!(anna.api("GET", "/api/v1/devices/summary", None).status, 403);
    let admin_page = app.get("/admin/devices?lang=nl");
    assert!(admin_page.body.contains("anna@gemeente.nl") && admin_page.body.contains("100%"), "{}", admin_page.body);
    assert!(admin_page.body.contains("<svg"), "the chart per check");
    // staff see every device, Anna her own
    assert_eq!(app.api("GET", "/api/v1/devices", None).json().as_array().unwrap().len(), 1);
    let (bert, _) = app.employee("bert@gemeente.nl", &[]);
    assert_eq!(bert.api("GET", "/api/v1/devices", None).json(), json!([]));
    let id = app.api("GET", "/api/v1/devices", None).json()[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(bert.api("GET", &format!("/api/v1/devices/{id}"), None).status, 404);
    assert_eq!(bert.api("POST", &format!("/api/v1/devices/{id}/revoke"), None).status, 404);

    // the employee's export carries the devices
    let export = anna.api("GET", "/api/v1/me/export", None).json();
    assert_eq!(export["devices"][0]["hostname"], "laptop-anna", "{export}");
}
