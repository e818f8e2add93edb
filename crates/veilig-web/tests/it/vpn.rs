//! The VPN's pages and API without a data plane: devices, keys, the address pool, access
//! rules and the refusals.

use serde_json::json;
use veilig_testkit::http;

use crate::{TestApp, assert_security_headers};

const GOOD_KEY: &str = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

#[test]
fn an_employee_adds_devices_with_a_made_or_a_pasted_key() {
    let app = TestApp::start();
    app.sign_in_admin();
    let (anna, _) = app.employee("anna@gemeente.nl", &[]);

    let r = anna.api("POST", "/api/v1/vpn/devices", Some(json!({"name": "Laptop"})));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = r.json();
    let conf = v["config"].as_str().unwrap();
    assert_eq!(v["device"]["address"], "10.13.0.2");
    assert!(conf.contains("PrivateKey = ") && conf.contains("Address = 10.13.0.2/32"), "{conf}");
    assert!(conf.contains("Endpoint = vpn.gemeente.nl:51820") && conf.contains("AllowedIPs = 10.20.0.0/16"), "{conf}");
    assert!(conf.contains(&format!("PublicKey = {}", app.vpn.status().public_key)));
    // The private key is nowhere in the database or the audit log.
    let private = conf.lines().find_map(|l| l.strip_prefix("PrivateKey = ")).unwrap().to_owned();
    let stored = app.rt.block_on(app.store.vpn_devices_all()).unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].public_key, private);
    let audit = app.rt.block_on(app.store.audit_list(&Default::default(), 100)).unwrap();
    assert!(audit.iter().any(|r| r.action == "vpn.device_added" && r.actor == "anna@gemeente.nl"));
    assert!(audit.iter().all(|r| !r.details.contains(&private)));

    let pasted = anna.api("POST", "/api/v1/vpn/devices", Some(json!({"name": "Telefoon", "public_key": GOOD_KEY})));
    assert_eq!(pasted.status, 201, "{}", pasted.body);
    let pv = pasted.json();
    assert_eq!(pv["device"]["address"], "10.13.0.3");
    assert!(!pv["config"].as_str().unwrap().lines().any(|l| l.starts_with("PrivateKey")), "no private key for a pasted public key");

    let list = anna.api("GET", "/api/v1/vpn/devices", None).json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    // The settings file can be fetched again, never with a private key.
    let id = pv["device"]["id"].as_str().unwrap();
    let file = anna.get(&format!("/vpn/devices/{id}/config"));
    assert_eq!(file.status, 200);
    assert!(file.header("content-disposition").unwrap().contains("Telefoon.conf"));
    assert!(file.body.contains(&format!("PublicKey = {}", app.vpn.status().public_key)));

    // Another employee sees none of it; staff see everything.
    let (bert, _) = app.employee("bert@gemeente.nl", &[]);
    assert_eq!(bert.api("GET", "/api/v1/vpn/devices", None).json(), json!([]));
    assert_eq!(bert.get(&format!("/vpn/devices/{id}/config")).status, 404);
    assert_eq!(bert.api("DELETE", &format!("/api/v1/vpn/devices/{id}"), None).status, 404);
    assert_eq!(bert.api("GET", "/api/v1/vpn/devices?all=true", None).status, 403);
    assert_eq!(app.api("GET", "/api/v1/vpn/devices?all=true", None).json().as_array().unwrap().len(), 2);

    assert_eq!(anna.api("DELETE", &format!("/api/v1/vpn/devices/{id}"), None).status, 204);
    assert_eq!(anna.api("GET", "/api/v1/vpn/devices", None).json().as_array().unwrap().len(), 1);
}

#[test]
fn bad_keys_duplicates_and_a_full_pool_are_refused_clearly() {
    let app = TestApp::with_config(Default::default(), |c| c.vpn.pool = "10.13.0.0/29".parse().unwrap());
    app.sign_in_admin();
    let add = |name: &str, key: Option<&str>| app.api("POST", "/api/v1/vpn/devices", Some(json!({"name": name, "public_key": key})));

    for (key, why) in [
        ("abc", "44 characters"),
        ("!wdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=", "base64"),
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "low order"),
    ] {
        let r = add("Laptop", Some(key));
        assert_eq!(r.status, 422, "{key}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "invalid");
        assert!(r.json()["error"]["message"].as_str().unwrap().contains(why), "{}", r.body);
    }
    assert_eq!(add("", None).status, 422);
    assert_eq!(add(&"x".repeat(61), None).status, 422);
    assert_eq!(add("Laptop", Some(&app.vpn.status().public_key)).status, 422, "the gateway's own key");
    assert_eq!(add("Laptop", Some(GOOD_KEY)).status, 201);
    let dup = add("Laptop 2", Some(GOOD_KEY));
    assert_eq!(dup.status, 409, "{}", dup.body);
    assert!(dup.json()["error"]["message"].as_str().unwrap().contains("already exists"));
    // A /29 holds five devices; the sixth finds the pool full.
    for i in 0..4 {
        assert_eq!(add(&format!("d{i}"), None).status, 201);
    }
    let full = add("one too many", None);
    assert_eq!(full.status, 409, "{}", full.body);
    assert!(full.json()["error"]["message"].as_str().unwrap().contains("pool 10.13.0.0/29 is full"), "{}", full.body);
    // Nothing half-made: still five devices.
    assert_eq!(app.rt.block_on(app.store.vpn_devices_all()).unwrap().len(), 5);
    assert_eq!(app.api("POST", "/api/v1/vpn/devices", Some(json!({"name": 5}))).status, 422);
}

#[test]
fn access_rules_are_checked_and_only_administrators_change_them() {
    let app = TestApp::start();
    app.sign_in_admin();
    assert_eq!(app.api("POST", "/api/v1/groups", Some(json!({"name": "Thuiswerkers"}))).status, 201);
    let rule = |network: &str, protocol: &str, ports: &str| {
        app.api(
            "POST",
            "/api/v1/vpn/rules",
            Some(json!({"group": "Thuiswerkers", "network": network, "protocol": protocol, "ports": ports})),
        )
    };
    let r = rule("10.20.1.0/24", "tcp", "443");
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    for (network, protocol, ports, why) in [
        ("10.20.1.9/32", "tcp", "443", "overlaps"),
        ("192.168.1.0/24", "any", "", "not inside the internal networks"),
        ("10.20.1.7/24", "tcp", "", "host bits"),
        ("10.20.2.0/24", "icmp", "80", "ports only apply"),
        ("10.20.2.0/24", "tcp", "99999", "not a port"),
        ("nonsense", "tcp", "", "not a network"),
    ] {
        let r = rule(network, protocol, ports);
        assert_eq!(r.status, 422, "{network}: {}", r.body);
        assert!(r.json()["error"]["message"].as_str().unwrap().contains(why), "{}", r.body);
    }
    let no_group = app.api("POST", "/api/v1/vpn/rules", Some(json!({"group": "Niemand", "network": "10.20.3.0/24"})));
    assert_eq!(no_group.status, 422);
    assert_eq!(rule("10.20.1.0/24", "tcp", "8080").status, 201);
    assert_eq!(app.api("GET", "/api/v1/vpn/rules", None).json().as_array().unwrap().len(), 2);

    let (anna, _) = app.employee("anna@gemeente.nl", &["Thuiswerkers"]);
    assert_eq!(anna.api("GET", "/api/v1/vpn/rules", None).status, 403);
    assert_eq!(anna.api("POST", "/api/v1/vpn/rules", Some(json!({"group": "Thuiswerkers", "network": "10.20.0.0/16"}))).status, 403);
    let rules =
        app.rt.block_on(app.vpn.rules_for(&app.rt.block_on(app.store.user_by_email("anna@gemeente.nl")).unwrap().unwrap().id)).unwrap();
    assert_eq!(rules.len(), 2, "anna's devices get her group's rules");

    assert_eq!(app.api("DELETE", &format!("/api/v1/vpn/rules/{id}"), None).status, 204);
    assert_eq!(app.api("DELETE", &format!("/api/v1/vpn/rules/{id}"), None).status, 404);
    assert_eq!(app.api("PUT", "/api/v1/vpn/limits/Thuiswerkers", Some(json!({"minutes": 120}))).status, 204);
    assert_eq!(app.api("PUT", "/api/v1/vpn/limits/Thuiswerkers", Some(json!({"minutes": 0}))).status, 422);
    assert_eq!(app.rt.block_on(app.vpn.group_limits()).unwrap(), vec![("Thuiswerkers".to_owned(), 7200)]);
}

#[test]
fn connect_needs_a_running_gateway_a_device_and_a_signed_in_person() {
    let app = TestApp::start();
    app.sign_in_admin();
    let r = app.api("POST", "/api/v1/vpn/sessions", None);
    assert_eq!(r.status, 503, "no gateway runs in this test: {}", r.body);
    assert_eq!(r.json()["error"]["code"], "vpn_unavailable");
    let token = app.api("POST", "/api/v1/tokens", Some(json!({"name": "script", "scopes": ["admin"], "days": 1}))).json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bot = http::agent();
    let r = http::send(&bot, "POST", &format!("{}/api/v1/vpn/sessions", app.base), &[("authorization", &format!("Bearer {token}"))], None);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "second_factor_required");
    let anonymous = http::agent();
    assert_eq!(http::send(&anonymous, "POST", &format!("{}/api/v1/vpn/sessions", app.base), &[], None).status, 401);
    assert_eq!(app.api("GET", "/api/v1/vpn/sessions", None).json(), json!([]));
}

#[test]
fn the_pages_guide_an_employee_to_a_qr_code_in_dutch() {
    let app = TestApp::start();
    app.sign_in_admin();
    let (anna, _) = app.employee("anna@gemeente.nl", &[]);
    let page = anna.get_with("/vpn", &[("accept-language", "nl")]);
    assert_eq!(page.status, 200);
    assert_security_headers(&page);
    assert!(page.body.contains("Apparaat toevoegen") && page.body.contains("Niet verbonden"), "{}", page.body);
    let csrf = anna.csrf.borrow().clone();
    let created = http::post_form(
        &anna.agent,
        &format!("{}/vpn/devices", anna.base),
        &[("csrf", &csrf), ("name", "Telefoon van Anna"), ("public_key", "")],
    );
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.header("cache-control"), Some("no-store"));
    assert!(created.body.contains("id=\"vpn-qr\"") && created.body.contains("PrivateKey = "), "the QR code and the key are shown");
    assert!(created.body.contains("download=\"Telefoon-van-An.conf\""), "the file is named for the app");
    assert!(created.body.contains("maar één keer"));

    let bad = http::post_form(
        &anna.agent,
        &format!("{}/vpn/devices", anna.base),
        &[("csrf", &csrf), ("name", "Laptop"), ("public_key", "geen sleutel")],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Dat lukte niet") && bad.body.contains("is 44 tekens en eindigt op"), "the reason in Dutch");
    assert!(bad.body.contains("value=\"Laptop\""), "what was typed is kept");
    let forged = http::post_form(&anna.agent, &format!("{}/vpn/devices", anna.base), &[("csrf", "nope"), ("name", "Laptop")]);
    assert_eq!(forged.status, 403);

    assert_eq!(anna.get("/admin/vpn").status, 403);
    let admin = app.get_with("/admin/vpn?lang=en", &[]);
    assert_eq!(admin.status, 200);
    assert!(
        admin.body.contains("VPN gateway") && admin.body.contains("anna@gemeente.nl") && admin.body.contains("Telefoon van Anna"),
        "{}",
        admin.body
    );
}

#[test]
fn sessions_follow_the_group_limit_and_only_staff_end_others() {
    let app = TestApp::start();
    app.sign_in_admin();
    app.vpn.set_running(true);
    assert_eq!(app.api("POST", "/api/v1/groups", Some(json!({"name": "Kort"}))).status, 201);
    assert_eq!(app.api("PUT", "/api/v1/vpn/limits/Kort", Some(json!({"minutes": 120}))).status, 204);
    let (anna, _) = app.employee("anna@gemeente.nl", &["Kort"]);
    let (bert, _) = app.employee("bert@gemeente.nl", &[]);

    let none = anna.api("POST", "/api/v1/vpn/sessions", None);
    assert_eq!(none.status, 409, "{}", none.body);
    assert!(none.json()["error"]["message"].as_str().unwrap().contains("add a device first"));
    for who in [&anna, &bert] {
        assert_eq!(who.api("POST", "/api/v1/vpn/devices", Some(json!({"name": "Laptop"}))).status, 201);
    }
    let a = anna.api("POST", "/api/v1/vpn/sessions", None);
    assert_eq!(a.status, 201, "{}", a.body);
    let a = a.json();
    assert_eq!(a["expires_ms"].as_i64().unwrap() - a["opened_ms"].as_i64().unwrap(), 7_200_000, "the group's two hours");
    let again = anna.api("POST", "/api/v1/vpn/sessions", None).json();
    assert_eq!(again["id"], a["id"], "Connect twice keeps the one session");
    let b = bert.api("POST", "/api/v1/vpn/sessions", None).json();
    assert_eq!(b["expires_ms"].as_i64().unwrap() - b["opened_ms"].as_i64().unwrap(), 36_000_000, "the default ten hours");

    assert_eq!(anna.api("GET", "/api/v1/vpn/sessions", None).json().as_array().unwrap().len(), 1);
    assert_eq!(app.api("GET", "/api/v1/vpn/sessions", None).json().as_array().unwrap().len(), 2);
    let bid = b["id"].as_str().unwrap();
    assert_eq!(anna.api("DELETE", &format!("/api/v1/vpn/sessions/{bid}"), None).status, 404, "not hers to end");
    assert_eq!(app.api("DELETE", &format!("/api/v1/vpn/sessions/{bid}"), None).status, 204);
    let aid = a["id"].as_str().unwrap();
    assert_eq!(anna.api("DELETE", &format!("/api/v1/vpn/sessions/{aid}"), None).status, 204);
    assert_eq!(app.api("GET", "/api/v1/vpn/sessions", None).json(), json!([]));
    let audit = app.rt.block_on(app.store.audit_list(&Default::default(), 200)).unwrap();
    let reasons: Vec<String> = audit.iter().filter(|r| r.action == "vpn.session_closed").map(|r| r.details.clone()).collect();
    assert!(
        reasons.iter().any(|d| d.contains("ended_by_administrator")) && reasons.iter().any(|d| d.contains("\"disconnect\"")),
        "{reasons:?}"
    );
}

/// A high alert from inside the tunnel (a device probing the network) ends its owner's VPN
/// session — the owner of the device's tunnel address, not a user an alert merely names.
#[test]
fn a_monitoring_alert_about_a_device_ends_its_owners_session() {
    let app = TestApp::start();
    app.sign_in_admin();
    app.vpn.set_running(true);
    let (anna, _) = app.employee("anna@gemeente.nl", &[]);
    let (bert, _) = app.employee("bert@gemeente.nl", &[]);
    let device = anna.api("POST", "/api/v1/vpn/devices", Some(json!({"name": "Laptop"}))).json();
    assert_eq!(bert.api("POST", "/api/v1/vpn/devices", Some(json!({"name": "Laptop"}))).status, 201);
    assert_eq!(anna.api("POST", "/api/v1/vpn/sessions", None).status, 201);
    assert_eq!(bert.api("POST", "/api/v1/vpn/sessions", None).status, 201);
    let address = device["device"]["address"].as_str().unwrap().to_owned();

    assert_eq!(app.rt.block_on(app.vpn.end_for_alert("203.0.113.7", "ssh_brute_force")).unwrap(), None, "not a device address");
    let ended = app.rt.block_on(app.vpn.end_for_alert(&address, "vpn_device_probing")).unwrap();
    assert!(ended.is_some());
    assert_eq!(anna.api("GET", "/api/v1/vpn/sessions", None).json(), json!([]), "Anna's session ended");
    assert_eq!(bert.api("GET", "/api/v1/vpn/sessions", None).json().as_array().unwrap().len(), 1, "Bert's did not");
    let audit = app.rt.block_on(app.store.audit_list(&Default::default(), 200)).unwrap();
    assert!(audit.iter().any(|r| r.action == "vpn.session_closed" && r.details.contains("monitoring_alert")));
}
