use veilig_core::Overrides;

use crate::{TestApp, assert_security_headers};

#[test]
fn healthz_reports_version_and_database() {
    let app = TestApp::start();
    let r = app.get("/healthz");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["version"], veilig_core::VERSION);
    assert_eq!(v["database"]["reachable"], true);
    assert!(v["database"]["kind"] == "sqlite" || v["database"]["kind"] == "postgres");
    assert_security_headers(&r);
}

#[test]
fn healthz_says_degraded_when_the_database_is_gone() {
    let app = TestApp::start();
    app.sign_in_admin();
    app.rt.block_on(app.store.close());
    let r = app.get("/healthz");
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["database"]["reachable"], false);
    let status = app.get("/api/v1/status");
    assert_eq!(status.status, 503);
    assert_eq!(status.json()["error"]["code"], "unavailable");
}

#[test]
fn audit_api_lists_pages_and_validates() {
    let app = TestApp::start();
    app.sign_in_admin();
    for i in 0..5 {
        app.audit(&format!("user{i}@example.nl"), "test.event");
    }
    let all = app.get("/api/v1/audit?action=test.&limit=2").json();
    assert_eq!(all["records"].as_array().unwrap().len(), 2);
    assert_eq!(all["records"][0]["actor"], "user4@example.nl");
    let next = all["next_before"].as_i64().unwrap();
    let older = app.get(&format!("/api/v1/audit?action=test.&limit=2&before={next}")).json();
    assert_eq!(older["records"][0]["actor"], "user2@example.nl");

    let today = app.get("/api/v1/audit?action=test.&from=2026-11-20&to=2026-11-20").json();
    assert_eq!(today["records"].as_array().unwrap().len(), 5);
    let tomorrow = app.get("/api/v1/audit?action=test.&from=2026-11-21").json();
    assert_eq!(tomorrow["records"].as_array().unwrap().len(), 0);

    for bad in ["/api/v1/audit?before=abc", "/api/v1/audit?outcome=maybe", "/api/v1/audit?to=31-12-2026", "/api/v1/audit?limit=-1"] {
        let r = app.get(bad);
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json()["error"]["code"], "invalid_query", "{bad}");
    }
}

#[test]
fn the_audit_log_is_for_staff_only() {
    let app = TestApp::start();
    assert_eq!(app.get("/api/v1/audit").status, 401);
    assert_eq!(app.get("/api/v1/audit").json()["error"]["code"], "unauthenticated");
    let page = app.get("/audit");
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), Some("/login?next=/audit"));
    assert_eq!(app.get("/audit/export").status, 303);
}

#[test]
fn verify_api_reports_an_intact_chain() {
    let app = TestApp::start();
    app.sign_in_admin();
    let v = app.get("/api/v1/audit/verify").json();
    assert_eq!(v["intact"], true);
    let n = v["records"].as_u64().unwrap();
    assert!(n >= 3, "setting up the administrator is audited");
    assert_eq!(v["head_seq"].as_u64(), Some(n));
    let partial = app.get("/audit/verify");
    assert!(partial.body.contains(&format!("Keten intact ({n})")));
}

#[test]
fn exports_are_complete_and_audited() {
    let app = TestApp::start();
    app.sign_in_admin();
    app.audit("a@example.nl", "test.one");
    app.audit("b@example.nl", "test.two");
    let csv = app.get("/audit/export?format=csv&action=test.");
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv.header("content-disposition").unwrap().contains("veilig-audit.csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "seq,time,actor,action,target,ip,outcome,details,prev_hash,hash");
    assert_eq!(lines.len(), 3);
    assert!(lines[1].contains("test.one") && lines[2].contains("test.two"), "oldest first");

    let json = app.get("/audit/export?format=json&action=test.two");
    let records: serde_json::Value = json.json();
    assert_eq!(records.as_array().unwrap().len(), 1);

    let exported = app.get("/api/v1/audit?action=audit.exported").json();
    assert_eq!(exported["records"].as_array().unwrap().len(), 2, "each export is recorded");
    assert_eq!(exported["records"][0]["ip"], "127.0.0.1");
    assert_eq!(exported["records"][0]["actor"], "beheer@gemeente.nl");
    assert_eq!(app.get("/audit/export?format=xml").status, 400);
}

#[test]
fn forwarded_addresses_are_trusted_only_from_the_proxy() {
    let direct = TestApp::start();
    direct.sign_in_admin();
    direct.get_with("/audit/export", &[("x-forwarded-for", "203.0.113.50")]);
    let r = direct.get("/api/v1/audit?action=audit.exported").json();
    assert_eq!(r["records"][0]["ip"], "127.0.0.1", "a client cannot choose its own address");

    let proxied = TestApp::with(Overrides { behind_proxy: Some("127.0.0.0/8".into()), ..Default::default() });
    proxied.sign_in_admin();
    proxied.get_with("/audit/export", &[("x-forwarded-for", "203.0.113.50"), ("x-forwarded-proto", "https")]);
    let r = proxied.get("/api/v1/audit?action=audit.exported").json();
    assert_eq!(r["records"][0]["ip"], "203.0.113.50");
}

#[test]
fn openapi_describes_routes_that_exist() {
    let app = TestApp::start();
    app.sign_in_admin();
    let doc = app.get("/api/v1/openapi.json").json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v1/audit") && paths.contains_key("/healthz"));
    assert!(paths.contains_key("/api/v1/login") && paths.contains_key("/api/v1/users/{id}"));
    for (path, ops) in paths.iter().filter(|(p, _)| !p.contains('{')) {
        if ops.get("get").is_some() {
            let r = app.get(path);
            assert_ne!(r.status, 404, "{path} is documented but not routed");
            assert_ne!(r.status, 405, "{path} is documented as GET");
        }
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[test]
fn metrics_count_requests_by_route() {
    let app = TestApp::start();
    app.get("/healthz");
    app.get("/healthz");
    app.get("/api/v1/nope");
    let m = app.get("/metrics");
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    assert!(m.body.contains("veilig_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"), "{}", m.body);
    assert!(m.body.contains("route=\"unmatched\",status=\"404\"} 1"));
    assert!(m.body.contains("veilig_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"} 2"));
    assert!(m.body.contains("veilig_db_up 1"));
    assert!(m.body.contains("veilig_db_pool_max_connections 4"));
}

#[test]
fn wrong_methods_get_405_in_the_error_shape() {
    let app = TestApp::start();
    let r = app.post_raw("/api/v1/audit", "application/json", b"{not json");
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["error"]["code"], "method_not_allowed");
    let page = app.post_raw("/audit", "application/x-www-form-urlencoded", b"a=b");
    assert_eq!(page.status, 405);
}
