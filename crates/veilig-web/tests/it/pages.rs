use crate::{TestApp, assert_security_headers};

#[test]
fn home_speaks_dutch_by_default_and_english_when_asked() {
    let app = TestApp::start();
    app.sign_in_admin();
    let nl = app.get("/");
    assert_eq!(nl.status, 200);
    assert!(nl.body.contains("<html lang=\"nl\">") && nl.body.contains("<h1>Overzicht</h1>"), "{}", nl.body);
    assert_security_headers(&nl);
    assert!(nl.header("strict-transport-security").is_none(), "no HSTS over plain HTTP");

    let en = app.get_with("/", &[("accept-language", "en-GB,en;q=0.9")]);
    assert!(en.body.contains("<h1>Overview</h1>"));
    let de_then_en = app.get_with("/", &[("accept-language", "de-DE,de;q=0.9,en;q=0.5")]);
    assert!(de_then_en.body.contains("<h1>Overview</h1>"));
}

#[test]
fn the_language_switch_is_remembered() {
    let app = TestApp::start();
    app.sign_in_admin();
    let switched = app.get_with("/?lang=en", &[("accept-language", "nl")]);
    assert!(switched.body.contains("<h1>Overview</h1>"));
    let cookie = switched.header("set-cookie").expect("a language cookie");
    assert!(cookie.starts_with("veilig_lang=en;") && cookie.contains("SameSite=Lax") && cookie.contains("HttpOnly"), "{cookie}");
    let later = app.get_with("/audit", &[("accept-language", "nl")]);
    assert!(later.body.contains("<h1>Audit log</h1>"), "the cookie is remembered");
    let fresh = veilig_testkit::http::agent();
    let garbage = veilig_testkit::http::get_with(&fresh, &format!("{}/login?lang=xx", app.base), &[("cookie", "veilig_lang=<script>")]);
    assert!(garbage.body.contains("<h1>Inloggen</h1>"));
    assert!(garbage.headers.iter().all(|(k, v)| k != "set-cookie" || !v.starts_with("veilig_lang")));
}

#[test]
fn home_shows_each_capability_and_its_state() {
    let app = TestApp::start();
    app.sign_in_admin();
    let page = app.get("/");
    assert!(page.body.contains("Platform") && (page.body.contains("SQLite") || page.body.contains("PostgreSQL")));
    assert!(page.body.contains("badge ok\">In orde</span>"));
    assert!(page.body.contains("Alleen lokaal"), "plain HTTP on loopback is shown as local only");
}

#[test]
fn audit_page_lists_filters_and_escapes() {
    let app = TestApp::start();
    app.sign_in_admin();
    app.audit("<script>alert(1)</script>", "identity.login");
    app.audit("beheer@gemeente.nl", "platform.started");
    let page = app.get("/audit");
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>alert(1)"), "{}", page.body);
    assert!(page.body.contains("&#60;script&#62;alert(1)") || page.body.contains("&lt;script&gt;alert(1)"));
    assert!(page.body.contains("<svg"), "the activity chart is drawn");
    assert!(page.body.contains("<title>"), "each bar has a tooltip");

    let rows = app.get("/audit/rows?action=platform.");
    assert!(!rows.body.contains("<html"), "the htmx partial is a fragment");
    assert!(rows.body.contains("platform.started") && !rows.body.contains("alert(1)"));

    let bad = app.get("/audit?from=yesterday");
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["code"], "invalid_query");
}

#[test]
fn unknown_pages_get_a_page_and_unknown_api_routes_json() {
    let app = TestApp::start();
    let page = app.get("/nergens");
    assert_eq!(page.status, 404);
    assert!(page.body.contains("Pagina niet gevonden"));
    assert_security_headers(&page);
    let api = app.get("/api/v1/nergens");
    assert_eq!(api.status, 404);
    assert_eq!(api.json()["error"]["code"], "not_found");
    assert_security_headers(&api);
}

#[test]
fn static_files_are_embedded() {
    let app = TestApp::start();
    let css = app.get("/static/veilig.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    let js = app.get("/static/htmx.min.js");
    assert_eq!(js.status, 200);
    assert!(js.body.len() > 10_000);
    assert_eq!(app.get("/static/../Cargo.toml").status, 404);
    assert_eq!(app.get("/static/nope.js").status, 404);
}
