//! Monitoring's pages and API: filtering alerts, assigning and commenting, blocks by hand, the
//! allow-list, the blocklist URL and the webhooks (enforcement on a host is the respond
//! crate's test and the end-to-end test's).

use serde_json::json;
use veilig_store::AlertRecord;
use veilig_testkit::http;

use crate::{TestApp, assert_security_headers};

fn alert(app: &TestApp, rule: &str, severity: &str, source: &str, status: &str) -> String {
    let now = veilig_core::Clock::now_ms(&*app.clock);
    let a = AlertRecord {
        id: veilig_core::random_id(),
        rule: rule.into(),
        severity: severity.into(),
        source: source.into(),
        user: None,
        first_seen_ms: now - 60_000,
        last_seen_ms: now,
        count: 12,
        summary: format!("{rule} from {source}"),
        status: status.into(),
        created_ms: now,
        assignee: None,
        example: Some(format!("Nov 27 06:00:00 gw sshd[9]: Failed password for root from {source} port 4000 ssh2")),
    };
    app.rt.block_on(app.store.alert_insert(&a)).unwrap();
    a.id
}

#[test]
fn alerts_are_filtered_assigned_and_commented() {
    let app = TestApp::start();
    app.sign_in_admin();
    let ssh = alert(&app, "ssh_brute_force", "high", "203.0.113.7", "open");
    alert(&app, "port_scan_slow", "medium", "198.51.100.9", "open");
    alert(&app, "port_scan_fast", "high", "203.0.113.70", "closed");

    let ids = |q: &str| -> Vec<String> {
        let r = app.api("GET", &format!("/api/v1/alerts{q}"), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.json().as_array().unwrap().iter().map(|a| a["rule"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids("").len(), 3);
    assert_eq!(ids("?status=open").len(), 2);
    assert_eq!(ids("?severity=high&status=open"), ["ssh_brute_force"]);
    assert_eq!(ids("?source=203.0.113.7").len(), 2, "part of an address matches");
    assert_eq!(ids("?source=%25"), Vec::<String>::new(), "LIKE wildcards are taken literally");
    assert_eq!(ids("?rule=port_scan_slow"), ["port_scan_slow"]);

    // Assign to someone on duty; employees cannot be assigned.
    let (_anna, _) = app.employee("anna@gemeente.nl", &[]);
    let r = app.api("POST", &format!("/api/v1/alerts/{ssh}/assign"), Some(json!({"assignee": "anna@gemeente.nl"})));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(app.api("POST", &format!("/api/v1/alerts/{ssh}/assign"), Some(json!({"assignee": "Beheer@Gemeente.nl"}))).status, 204);
    assert_eq!(ids("?assignee=beheer@gemeente.nl"), ["ssh_brute_force"]);
    assert_eq!(app.api("POST", "/api/v1/alerts/nope/assign", Some(json!({"assignee": null}))).status, 404);

    // Comments, with their bounds.
    assert_eq!(app.api("POST", &format!("/api/v1/alerts/{ssh}/comments"), Some(json!({"body": "  "}))).status, 422);
    assert_eq!(app.api("POST", &format!("/api/v1/alerts/{ssh}/comments"), Some(json!({"body": "x".repeat(4001)}))).status, 422);
    let r = app.api("POST", &format!("/api/v1/alerts/{ssh}/comments"), Some(json!({"body": "Bekend adres van <script>scanner</script>"})));
    assert_eq!(r.status, 204, "{}", r.body);
    let detail = app.api("GET", &format!("/api/v1/alerts/{ssh}"), None).json();
    assert_eq!(detail["alert"]["assignee"], "beheer@gemeente.nl");
    assert_eq!(detail["comments"][0]["author"], "beheer@gemeente.nl");
    assert_eq!(app.api("GET", "/api/v1/alerts/nope", None).status, 404);

    // The detail page shows it all, escaped; the list page filters.
    let page = app.get(&format!("/alerts/{ssh}"));
    assert_eq!(page.status, 200);
    assert_security_headers(&page);
    assert!(page.body.contains("Bekend adres van ") && !page.body.contains("<script>scanner"), "comments are escaped");
    assert!(page.body.contains("beheer@gemeente.nl"));
    assert!(page.body.contains("Failed password for root from 203.0.113.7 port 4000"), "the example line is shown");
    assert!(detail["alert"]["example"].as_str().unwrap().contains("sshd[9]"));
    let list = app.get("/alerts?status=closed");
    assert!(list.body.contains("port_scan_fast") && !list.body.contains("port_scan_slow from"), "the filter applies to the page");

    // Employees see none of it; every change is audited.
    let (bert, _) = app.employee("bert@gemeente.nl", &[]);
    assert_eq!(bert.api("GET", &format!("/api/v1/alerts/{ssh}"), None).status, 403);
    assert_eq!(bert.get(&format!("/alerts/{ssh}")).status, 403);
    let audit = app.rt.block_on(app.store.audit_list(&Default::default(), 200)).unwrap();
    assert!(audit.iter().any(|r| r.action == "monitor.alert_assigned" && r.target == ssh));
    assert!(audit.iter().any(|r| r.action == "monitor.alert_commented" && r.target == ssh));
}

#[test]
fn staff_block_by_hand_keep_an_allow_list_and_feed_edge_firewalls() {
    let app = TestApp::start();
    app.sign_in_admin();

    // Bad input is a clear 422, never a 500.
    for body in [
        json!({"network": "not an ip", "reason": "x"}),
        json!({"network": "203.0.113.7", "reason": ""}),
        json!({"network": "203.0.113.7", "reason": "x", "duration_secs": 1}),
        json!({"network": "127.0.0.1", "reason": "x"}),
    ] {
        let r = app.api("POST", "/api/v1/decisions", Some(body.clone()));
        assert_eq!(r.status, 422, "{body}: {}", r.body);
    }
    assert_eq!(app.api("POST", "/api/v1/decisions", Some(json!({"network": 5}))).status, 422);

    let r = app.api("POST", "/api/v1/decisions", Some(json!({"network": "203.0.113.7", "reason": "phishing host", "duration_secs": 7200})));
    assert_eq!(r.status, 201, "{}", r.body);
    let d = r.json();
    assert_eq!((d["network"].as_str(), d["enforced"].as_str(), d["active"].as_bool()), (Some("203.0.113.7/32"), Some("off"), Some(true)));
    assert_eq!(d["until_ms"].as_i64().unwrap() - d["created_ms"].as_i64().unwrap(), 7_200_000);
    assert_eq!(app.api("POST", "/api/v1/decisions", Some(json!({"network": "203.0.113.7", "reason": "again"}))).status, 422);

    // The allow-list wins over any block.
    let a = app.api("POST", "/api/v1/allowlist", Some(json!({"network": "192.0.2.0/24", "note": "kantoor Utrecht"})));
    assert_eq!(a.status, 201, "{}", a.body);
    let r = app.api("POST", "/api/v1/decisions", Some(json!({"network": "192.0.2.9", "reason": "x"})));
    assert_eq!(r.status, 422);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("allow-list"));
    assert_eq!(app.api("GET", "/api/v1/allowlist", None).json()[0]["note"], "kantoor Utrecht");

    // The blocklist URL: a token shown once; without it, nothing.
    assert_eq!(http::get(&http::agent(), &format!("{}/blocklist/vbl_guess", app.base)).status, 404);
    let t = app.api("POST", "/api/v1/blocklist/token", None);
    assert_eq!(t.status, 201);
    assert_eq!(t.header("cache-control"), Some("no-store"));
    let url = t.json()["url"].as_str().unwrap().to_owned();
    assert!(url.contains("/blocklist/vbl_"), "{url}");
    let token = url.rsplit('/').next().unwrap();
    let feed = http::get(&http::agent(), &format!("{}/blocklist/{token}", app.base));
    assert_eq!(feed.status, 200);
    assert_eq!(feed.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(feed.body, "203.0.113.7\n");

    // Unblock: gone from the feed, listed as ended.
    let id = d["id"].as_str().unwrap();
    assert_eq!(app.api("DELETE", &format!("/api/v1/decisions/{id}"), None).status, 204);
    assert_eq!(app.api("DELETE", &format!("/api/v1/decisions/{id}"), None).status, 404);
    assert_eq!(http::get(&http::agent(), &format!("{}/blocklist/{token}", app.base)).body, "");
    let all = app.api("GET", "/api/v1/decisions?active=false", None).json();
    assert_eq!(all[0]["revoked_by"], "beheer@gemeente.nl");
    assert_eq!(app.api("GET", "/api/v1/decisions", None).json(), json!([]));

    // Webhooks: https only off this machine; the URL never comes back.
    let w = app.api(
        "POST",
        "/api/v1/webhooks",
        Some(json!({"kind": "teams", "url": "https://contoso.webhook.office.com/webhookb2/s3cr3t-path"})),
    );
    assert_eq!(w.status, 201, "{}", w.body);
    assert_eq!(w.json()["url"], "https://contoso.webhook.office.com/…");
    assert_eq!(app.api("POST", "/api/v1/webhooks", Some(json!({"kind": "teams", "url": "http://hooks.example/x"}))).status, 422);
    assert_eq!(app.api("POST", "/api/v1/webhooks", Some(json!({"kind": "irc", "url": "https://x.example/"}))).status, 422);
    assert!(!app.api("GET", "/api/v1/webhooks", None).body.contains("s3cr3t-path"));

    // The page, in Dutch, shows blocks, the allow-list and the webhooks; employees may not.
    let page = app.get_with("/blocks", &[("accept-language", "nl")]);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Uitzonderingslijst") && page.body.contains("192.0.2.0/24") && page.body.contains("contoso.webhook.office.com")
    );
    assert!(!page.body.contains("s3cr3t-path"));
    let (anna, _) = app.employee("anna@gemeente.nl", &[]);
    assert_eq!(anna.get("/blocks").status, 403);
    assert_eq!(anna.api("GET", "/api/v1/decisions", None).status, 403);

    let audit = app.rt.block_on(app.store.audit_list(&Default::default(), 200)).unwrap();
    for action in
        ["monitor.blocked", "monitor.unblocked", "monitor.allow_added", "monitor.blocklist_token_renewed", "monitor.webhook_added"]
    {
        assert!(audit.iter().any(|r| r.action == action), "{action} is audited");
    }
    assert!(audit.iter().all(|r| !r.details.contains("s3cr3t-path")), "the webhook URL is not in the audit log");
}

/// Per sender: lines, events and lines not understood, with samples of the latter, so an
/// administrator sees a device whose format Veilig does not read.
#[test]
fn inputs_are_counted_per_sender_with_samples_of_lines_not_understood() {
    let app = TestApp::start();
    app.sign_in_admin();
    let good = "Nov 27 06:00:00 gw sshd[9]: Failed password for root from 198.51.100.7 port 4000 ssh2";
    app.rt.block_on(app.ingest.message_from("192.0.2.10", &format!("{good}\n{good}\nthis is not a log line\n")));
    app.rt.block_on(app.ingest.message_from("file /var/log/ufw.log", &format!("{good}\n")));
    let r = app.api("GET", "/api/v1/inputs", None);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["senders"][0]["sender"], "192.0.2.10");
    assert_eq!(
        (v["senders"][0]["lines"].as_u64(), v["senders"][0]["events"].as_u64(), v["senders"][0]["unparsed"].as_u64()),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(v["senders"][1]["sender"], "file /var/log/ufw.log");
    assert_eq!(v["samples"][0]["line"], "this is not a log line");
    assert_eq!(v["samples"][0]["reason"], "no syslog header");
    let page = app.get("/alerts");
    assert!(page.body.contains("192.0.2.10") && page.body.contains("this is not a log line"));
    let (anna, _) = app.employee("anna@gemeente.nl", &[]);
    assert_eq!(anna.api("GET", "/api/v1/inputs", None).status, 403);
}
