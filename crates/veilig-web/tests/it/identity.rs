//! Identity through the API and the forms: every rule of the second factor.

use serde_json::json;
use time::Duration;
use veilig_testkit::http;

use crate::{PASSWORD, TestApp};

fn audit_actions(app: &TestApp, prefix: &str) -> Vec<String> {
    let filter = veilig_store::AuditFilter { action: Some(prefix.to_owned()), ..Default::default() };
    app.rt.block_on(app.store.audit_list(&filter, 1000)).unwrap().into_iter().map(|r| r.action).collect()
}

#[test]
fn setup_makes_an_administrator_with_a_second_factor() {
    let app = TestApp::start();
    let admin = app.sign_in_admin();
    assert_eq!(admin.recovery_codes.len(), 10);
    let me = app.api("GET", "/api/v1/me", None).json();
    assert_eq!(me["email"], "beheer@gemeente.nl");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["status"], "active");
    let actions = audit_actions(&app, "identity.");
    for a in [
        "identity.setup_link_issued",
        "identity.setup_completed",
        "identity.factor_added",
        "identity.recovery_codes_created",
        "identity.enrolled",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
    // With an administrator in place, setup is over: no new link works.
    let token = app.rt.block_on(app.identity.issue_setup_token()).unwrap();
    let r = app.api("POST", "/api/v1/setup", Some(json!({"token": token, "email": "x@gemeente.nl", "password": PASSWORD})));
    assert_eq!(r.status, 410);
}

#[test]
fn setup_links_expire_and_work_once() {
    let app = TestApp::start();
    let old = app.rt.block_on(app.identity.issue_setup_token()).unwrap();
    let token = app.rt.block_on(app.identity.issue_setup_token()).unwrap();
    let body = |t: &str| json!({"token": t, "email": "beheer@gemeente.nl", "password": PASSWORD});
    assert_eq!(app.api("POST", "/api/v1/setup", Some(body(&old))).status, 410, "a new link revokes the old");
    app.clock.advance(Duration::hours(25));
    let r = app.api("POST", "/api/v1/setup", Some(body(&token)));
    assert_eq!(r.status, 410);
    assert_eq!(r.json()["error"]["code"], "invalid_link");
    let fresh = app.rt.block_on(app.identity.issue_setup_token()).unwrap();
    assert_eq!(app.api("POST", "/api/v1/setup", Some(body(&fresh))).status, 200);
    let again = http::agent();
    let r = http::post_json(&again, &format!("{}/api/v1/setup", app.base), &body(&fresh));
    assert_eq!(r.status, 410, "a used link is dead");
}

#[test]
fn weak_passwords_are_refused_and_nothing_is_half_made() {
    let app = TestApp::start();
    let token = app.rt.block_on(app.identity.issue_setup_token()).unwrap();
    for weak in ["kort", "password1234", "beheer@gemeente.nl"] {
        let r = app.api("POST", "/api/v1/setup", Some(json!({"token": token, "email": "beheer@gemeente.nl", "password": weak})));
        assert_eq!(r.status, 422, "{weak}");
    }
    assert!(app.rt.block_on(app.store.users_list()).unwrap().is_empty());
    // The link still works after refused attempts.
    let r = app.api("POST", "/api/v1/setup", Some(json!({"token": token, "email": "beheer@gemeente.nl", "password": PASSWORD})));
    assert_eq!(r.status, 200);
}

#[test]
fn the_password_alone_is_not_enough() {
    let app = TestApp::start();
    let admin = app.sign_in_admin();
    app.api("POST", "/api/v1/logout", None);
    assert_eq!(app.api("GET", "/api/v1/me", None).status, 401);
    let r = app.api("POST", "/api/v1/login", Some(json!({"email": admin.email, "password": PASSWORD})));
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["second_factor_required"], true);
    assert_eq!(v["methods"], json!(["totp", "recovery"]));
    *app.csrf.borrow_mut() = v["csrf_token"].as_str().unwrap().to_owned();
    let me = app.api("GET", "/api/v1/me", None);
    assert_eq!(me.status, 401);
    assert_eq!(me.json()["error"]["code"], "second_factor_required");
    assert_eq!(app.get("/").status, 303, "pages send a half-signed-in user to the second step");
    assert_eq!(app.get("/").header("location"), Some("/login/second"));

    assert_eq!(app.api("POST", "/api/v1/login/totp", Some(json!({"code": "000000"}))).status, 401);
    app.next_step();
    let ok = app.api("POST", "/api/v1/login/totp", Some(json!({"code": app.code(&admin.secret)})));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(app.api("GET", "/api/v1/me", None).status, 200);
    assert!(audit_actions(&app, "identity.login").iter().any(|a| a == "identity.login"));
}

#[test]
fn a_totp_code_works_once() {
    let app = TestApp::start();
    let admin = app.sign_in_admin();
    assert_eq!(app.login(&admin).status, 200);
    // Same step, same code: refused even with the right password.
    app.api("POST", "/api/v1/logout", None);
    let r = app.api("POST", "/api/v1/login", Some(json!({"email": admin.email, "password": PASSWORD})));
    *app.csrf.borrow_mut() = r.json()["csrf_token"].as_str().unwrap().to_owned();
    let replay = app.api("POST", "/api/v1/login/totp", Some(json!({"code": app.code(&admin.secret)})));
    assert_eq!(replay.status, 401);
    assert_eq!(replay.json()["error"]["code"], "bad_code");
}

#[test]
fn recovery_codes_work_once() {
    let app = TestApp::start();
    let admin = app.sign_in_admin();
    let code = admin.recovery_codes[3].to_uppercase().replace('-', " ");
    for (attempt, want) in [(1, 200), (2, 401)] {
        app.api("POST", "/api/v1/logout", None);
        let r = app.api("POST", "/api/v1/login", Some(json!({"email": admin.email, "password": PASSWORD})));
        *app.csrf.borrow_mut() = r.json()["csrf_token"].as_str().unwrap().to_owned();
        let r = app.api("POST", "/api/v1/login/recovery", Some(json!({"code": code})));
        assert_eq!(r.status, want, "attempt {attempt}: {}", r.body);
    }
    assert_eq!(audit_actions(&app, "identity.recovery_code_used").len(), 1);
    assert!(!audit_actions(&app, "identity.login_failed").is_empty(), "the reused code is recorded as a failure");
}

#[test]
fn wrong_passwords_lock_the_account_and_unknown_accounts_alike() {
    let app = TestApp::start();
    let admin = app.sign_in_admin();
    // Each attempt from a new browser, as an attacker's script would.
    let login = |email: &str, password: &str| {
        http::post_json(&http::agent(), &format!("{}/api/v1/login", app.base), &json!({"email": email, "password": password}))
    };
    for email in [admin.email.as_str(), "niemand@gemeente.nl"] {
        let mut statuses = Vec::new();
        for _ in 0..7 {
            statuses.push(login(email, "verkeerd wachtwoord 123").status);
        }
        assert_eq!(statuses, [401, 401, 401, 401, 401, 401, 429], "{email}");
        let blocked = login(email, PASSWORD);
        assert_eq!(blocked.status, 429, "while blocked even the right password waits");
        assert_eq!(blocked.json()["error"]["code"], "too_many_attempts");
    }
    assert!(audit_actions(&app, "identity.locked").len() >= 2);
    // The block lifts by itself...
    app.clock.advance(Duration::seconds(61));
    assert_eq!(login(&admin.email, PASSWORD).status, 200);
    // ...or when an administrator lifts it.
    for _ in 0..6 {
        login(&admin.email, "verkeerd wachtwoord 123");
    }
    assert_eq!(login(&admin.email, PASSWORD).status, 429);
    app.rt.block_on(app.identity.unlock(&veilig_identity::service::Actor::system(), &admin.email)).unwrap();
    assert_eq!(login(&admin.email, PASSWORD).status, 200);
    assert!(audit_actions(&app, "identity.unlocked").len() == 1);
}

#[test]
fn unknown_accounts_take_as_long_as_known_ones() {
    let app = TestApp::start();
    let admin = app.sign_in_admin();
    let time = |email: &str| {
        let agent = http::agent();
        let start = std::time::Instant::now();
        let r =
            http::post_json(&agent, &format!("{}/api/v1/login", app.base), &json!({"email": email, "password": "verkeerd wachtwoord 123"}));
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["error"]["code"], "bad_credentials");
        start.elapsed()
    };
    // Warm up, then compare the median of a few tries: the unknown account must also pay for
    // a password hash.
    time("warm@gemeente.nl");
    let mut known: Vec<_> = (0..3).map(|_| time(&admin.email)).collect();
    let mut unknown: Vec<_> = (0..3).map(|i| time(&format!("onbekend{i}@gemeente.nl"))).collect();
    known.sort();
    unknown.sort();
    assert!(unknown[1] * 3 > known[1], "unknown {:?} vs known {:?}", unknown[1], known[1]);
}

#[test]
fn disabling_a_user_ends_their_live_session() {
    let app = TestApp::start();
    app.sign_in_admin();
    let invited = app.api("POST", "/api/v1/users", Some(json!({"email": "Medewerker@Gemeente.nl", "name": "Mede Werker"})));
    assert_eq!(invited.status, 201, "{}", invited.body);
    let v = invited.json();
    assert_eq!(v["user"]["email"], "medewerker@gemeente.nl");
    assert_eq!(v["user"]["status"], "invited");
    let user_id = v["user"]["id"].as_str().unwrap().to_owned();
    let token = v["enrollment_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();

    // The employee enrols in their own browser.
    let employee = app.another_browser();
    let r = employee.api("POST", "/api/v1/enroll", Some(json!({"token": token, "password": "groene appel naast de kachel"})));
    assert_eq!(r.status, 200, "{}", r.body);
    *employee.csrf.borrow_mut() = r.json()["csrf_token"].as_str().unwrap().to_owned();
    assert_eq!(employee.api("GET", "/api/v1/me", None).status, 401, "enrolment is not a sign-in");
    employee.enrol_totp("medewerker@gemeente.nl");
    assert_eq!(employee.api("GET", "/api/v1/me", None).status, 200);
    assert_eq!(employee.get("/").header("location"), Some("/me"), "employees land on their own page");
    assert_eq!(employee.api("GET", "/api/v1/audit", None).status, 403);

    assert_eq!(app.api("POST", &format!("/api/v1/users/{user_id}/disable"), None).status, 204);
    assert_eq!(employee.api("GET", "/api/v1/me", None).status, 401, "the live session ended at once");
    let again =
        employee.api("POST", "/api/v1/login", Some(json!({"email": "medewerker@gemeente.nl", "password": "groene appel naast de kachel"})));
    assert_eq!(again.status, 401);
}

#[test]
fn resetting_factors_forces_enrolment_again() {
    let app = TestApp::start();
    app.sign_in_admin();
    let v = app.api("POST", "/api/v1/users", Some(json!({"email": "piet@gemeente.nl", "role": "security_officer"}))).json();
    let id = v["user"]["id"].as_str().unwrap().to_owned();
    let token = v["enrollment_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let piet = app.another_browser();
    let r = piet.api("POST", "/api/v1/enroll", Some(json!({"token": token, "password": "groene appel naast de kachel"})));
    *piet.csrf.borrow_mut() = r.json()["csrf_token"].as_str().unwrap().to_owned();
    piet.enrol_totp("piet@gemeente.nl");
    assert_eq!(piet.api("GET", "/api/v1/audit", None).status, 200, "a security officer reads the audit log");

    let reset = app.api("POST", &format!("/api/v1/users/{id}/reset-factors"), None);
    assert_eq!(reset.status, 200);
    assert_eq!(piet.api("GET", "/api/v1/me", None).status, 401);
    let user = app.api("GET", &format!("/api/v1/users/{id}"), None).json();
    assert_eq!(user["status"], "invited");
    let link = reset.json()["enrollment_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let again = app.another_browser();
    assert_eq!(
        again.api("POST", "/api/v1/enroll", Some(json!({"token": token, "password": "groene appel naast de kachel"}))).status,
        410,
        "the old link is dead"
    );
    assert_eq!(again.api("POST", "/api/v1/enroll", Some(json!({"token": link, "password": "groene appel naast de kachel"}))).status, 200);
    assert!(audit_actions(&app, "identity.factors_reset").len() == 1);
}

#[test]
fn csrf_is_required_for_browser_requests() {
    let app = TestApp::start();
    app.sign_in_admin();
    let no_header = http::send(&app.agent, "POST", &format!("{}/api/v1/groups", app.base), &[], Some(&json!({"name": "x"})));
    assert_eq!(no_header.status, 403);
    assert_eq!(no_header.json()["error"]["code"], "csrf");
    let wrong =
        http::send(&app.agent, "POST", &format!("{}/api/v1/groups", app.base), &[("x-csrf-token", "nope")], Some(&json!({"name": "x"})));
    assert_eq!(wrong.status, 403);
    let csrf = app.csrf.borrow().clone();
    let cross = http::send(
        &app.agent,
        "POST",
        &format!("{}/api/v1/groups", app.base),
        &[("x-csrf-token", &csrf), ("origin", "https://evil.example")],
        Some(&json!({"name": "x"})),
    );
    assert_eq!(cross.status, 403);
    // Forms carry the token in a field.
    let form_without = http::post_form(&app.agent, &format!("{}/admin/groups", app.base), &[("name", "Zorg")]);
    assert_eq!(form_without.status, 403);
    let form_with = http::post_form(&app.agent, &format!("{}/admin/groups", app.base), &[("name", "Zorg"), ("csrf", &csrf)]);
    assert_eq!(form_with.status, 303);
    assert!(app.rt.block_on(app.store.group_by_name("Zorg")).unwrap().is_some());
    assert!(app.rt.block_on(app.store.group_by_name("x")).unwrap().is_none());
}

#[test]
fn sessions_end_when_idle_and_at_their_limit() {
    let app = TestApp::start();
    let admin = app.sign_in_admin();
    app.clock.advance(Duration::minutes(29));
    assert_eq!(app.api("GET", "/api/v1/me", None).status, 200);
    app.clock.advance(Duration::minutes(31));
    assert_eq!(app.api("GET", "/api/v1/me", None).status, 401, "idle for 31 minutes");

    assert_eq!(app.login(&admin).status, 200);
    for _ in 0..(12 * 60 / 20) {
        app.clock.advance(Duration::minutes(20));
        if app.api("GET", "/api/v1/me", None).status != 200 {
            break;
        }
    }
    assert_eq!(app.api("GET", "/api/v1/me", None).status, 401, "no session outlives 12 hours");
}

#[test]
fn users_see_and_end_their_sessions() {
    let app = TestApp::start();
    let admin = app.sign_in_admin();
    let other = app.another_browser();
    assert_eq!(other.login(&admin).status, 200);
    let sessions = app.api("GET", "/api/v1/me/sessions", None).json();
    let list = sessions.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let theirs = list.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();
    let csrf = app.csrf.borrow().clone();
    let r = http::post_form(&app.agent, &format!("{}/me/sessions/end", app.base), &[("id", &theirs), ("csrf", &csrf)]);
    assert_eq!(r.status, 303);
    assert_eq!(other.api("GET", "/api/v1/me", None).status, 401);
    assert_eq!(app.api("GET", "/api/v1/me", None).status, 200);
}

#[test]
fn api_tokens_are_shown_once_stored_hashed_and_scoped() {
    let app = TestApp::start();
    let admin = app.sign_in_admin();
    let created = app.api("POST", "/api/v1/tokens", Some(json!({"name": "backup script", "scopes": ["read"], "days": 30})));
    assert_eq!(created.status, 201, "{}", created.body);
    let token = created.json()["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("vlg_"));
    let stored = app.rt.block_on(app.store.tokens_of_kind("api")).unwrap();
    assert!(stored.iter().all(|t| t.hash != token && !t.hash.contains(&token)));

    let bot = http::agent();
    let auth = format!("Bearer {token}");
    let list = http::send(&bot, "GET", &format!("{}/api/v1/users", app.base), &[("authorization", &auth)], None);
    assert_eq!(list.status, 200);
    let write = http::send(&bot, "POST", &format!("{}/api/v1/groups", app.base), &[("authorization", &auth)], Some(&json!({"name": "x"})));
    assert_eq!(write.status, 403, "a read token cannot write");
    let bad = http::send(&bot, "GET", &format!("{}/api/v1/users", app.base), &[("authorization", "Bearer vlg_nope")], None);
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["error"]["code"], "invalid_token");
    app.clock.advance(Duration::days(31));
    let expired = http::send(&bot, "GET", &format!("{}/api/v1/users", app.base), &[("authorization", &auth)], None);
    assert_eq!(expired.status, 401);
    assert!(audit_actions(&app, "identity.api_token_created").len() == 1);

    assert_eq!(app.login(&admin).status, 200);
    let r = app.api("POST", "/api/v1/tokens", Some(json!({"name": "x", "scopes": ["root"]})));
    assert_eq!(r.status, 422);
}

#[test]
fn addresses_are_compared_after_normalising() {
    let app = TestApp::start();
    app.sign_in_admin();
    assert_eq!(app.api("POST", "/api/v1/users", Some(json!({"email": "jan@gemeente.nl"}))).status, 201);
    for twin in ["JAN@GEMEENTE.NL", "ｊａｎ@gemeente.nl", " jan@gemeente.nl "] {
        let r = app.api("POST", "/api/v1/users", Some(json!({"email": twin})));
        assert_eq!(r.status, 409, "{twin}");
    }
    for bad in ["jan\u{200B}@gemeente.nl", "jan@", "x".repeat(600).as_str(), "<script>@x.nl"] {
        let r = app.api("POST", "/api/v1/users", Some(json!({"email": bad})));
        assert_eq!(r.status, 422, "{bad}");
    }
    assert_eq!(app.rt.block_on(app.store.users_list()).unwrap().len(), 2);
}

#[test]
fn malformed_requests_get_clear_4xx() {
    let app = TestApp::start();
    app.sign_in_admin();
    let csrf = app.csrf.borrow().clone();
    let url = format!("{}/api/v1/users", app.base);
    let send_raw = |ct: &str, body: &[u8]| {
        let req = app.agent.post(&url).header("content-type", ct).header("x-csrf-token", &csrf);
        let mut res = req.send(body).unwrap();
        let status = res.status().as_u16();
        let v: serde_json::Value = res.body_mut().read_json().unwrap_or_default();
        (status, v["error"]["code"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(send_raw("application/json", b"{not json"), (400, "invalid_json".into()));
    assert_eq!(send_raw("application/json", b"{\"email\": 5}"), (422, "invalid_fields".into()));
    assert_eq!(send_raw("text/plain", b"{}"), (415, "unsupported_media_type".into()));
    let mut big = b"{\"email\": \"".to_vec();
    big.extend(std::iter::repeat_n(b'a', 2 << 20));
    big.extend(b"\"}");
    // `connection: close`: the server may hang up after refusing the body; that connection
    // must not go back into the pool for the next request.
    let r = app
        .agent
        .post(&url)
        .header("content-type", "application/json")
        .header("x-csrf-token", &csrf)
        .header("connection", "close")
        .send(&big[..]);
    match r {
        Ok(mut res) => {
            assert_eq!(res.status().as_u16(), 413);
            let v: serde_json::Value = res.body_mut().read_json().unwrap();
            assert_eq!(v["error"]["code"], "body_too_large");
        }
        // The server may close the connection before the client finished sending.
        Err(e) => assert!(e.to_string().contains("pipe") || e.to_string().contains("reset"), "{e}"),
    }
    assert_eq!(app.api("GET", "/api/v1/users/nope", None).status, 404);
    assert_eq!(app.api("PUT", "/api/v1/users/nope/role", Some(json!({"role": "god"}))).status, 422);
}

#[test]
fn the_last_factor_cannot_be_removed() {
    let app = TestApp::start();
    app.sign_in_admin();
    let me = app.api("GET", "/api/v1/me", None).json();
    let user_id = me["id"].as_str().unwrap();
    let factors = app.rt.block_on(app.store.factors_of(user_id)).unwrap();
    assert_eq!(factors.len(), 1);
    let csrf = app.csrf.borrow().clone();
    let r = http::post_form(&app.agent, &format!("{}/me/factors/{}/remove", app.base, factors[0].id), &[("csrf", &csrf)]);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("only second factor"), "{}", r.body);
    assert_eq!(app.rt.block_on(app.store.factors_of(user_id)).unwrap().len(), 1);
}

#[test]
fn groups_can_be_managed_and_users_put_in_them() {
    let app = TestApp::start();
    app.sign_in_admin();
    assert_eq!(app.api("POST", "/api/v1/groups", Some(json!({"name": "Thuiswerkers", "description": "VPN"}))).status, 201);
    assert_eq!(app.api("POST", "/api/v1/groups", Some(json!({"name": "Thuiswerkers"}))).status, 409);
    assert_eq!(app.api("POST", "/api/v1/groups", Some(json!({"name": "<b>"}))).status, 422);
    let u = app.api("POST", "/api/v1/users", Some(json!({"email": "an@gemeente.nl", "groups": ["Thuiswerkers"]}))).json();
    assert_eq!(u["user"]["groups"], json!(["Thuiswerkers"]));
    let id = u["user"]["id"].as_str().unwrap();
    assert_eq!(app.api("DELETE", &format!("/api/v1/groups/Thuiswerkers/members/{id}"), None).status, 204);
    assert_eq!(app.api("GET", &format!("/api/v1/users/{id}"), None).json()["groups"], json!([]));
    assert_eq!(app.api("DELETE", "/api/v1/groups/Thuiswerkers", None).status, 204);
    assert_eq!(app.api("GET", "/api/v1/groups", None).json(), json!([]));
    assert_eq!(app.api("DELETE", &format!("/api/v1/users/{id}"), None).status, 204);
    assert_eq!(app.api("GET", &format!("/api/v1/users/{id}"), None).status, 404);
}

#[test]
fn users_name_add_and_remove_their_factors() {
    let app = TestApp::start();
    app.sign_in_admin();
    let factors = app.api("GET", "/api/v1/me/factors", None).json();
    let first = factors[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.api("PUT", &format!("/api/v1/me/factors/{first}"), Some(json!({"name": "Werktelefoon"}))).status, 204);
    assert_eq!(app.api("PUT", &format!("/api/v1/me/factors/{first}"), Some(json!({"name": ""}))).status, 422);
    assert_eq!(app.api("GET", "/api/v1/me/factors", None).json()[0]["name"], "Werktelefoon");
    assert_eq!(app.api("DELETE", &format!("/api/v1/me/factors/{first}"), None).status, 409, "never the last one");
    // A second app, then the first can go.
    app.next_step();
    app.enrol_totp("beheer@gemeente.nl");
    assert_eq!(app.api("GET", "/api/v1/me/factors", None).json().as_array().unwrap().len(), 2);
    assert_eq!(app.api("DELETE", &format!("/api/v1/me/factors/{first}"), None).status, 204);
    assert_eq!(app.api("GET", "/api/v1/me/factors", None).json().as_array().unwrap().len(), 1);
    let actions = audit_actions(&app, "identity.factor_");
    for a in ["identity.factor_renamed", "identity.factor_removed", "identity.factor_added"] {
        assert!(actions.iter().any(|x| x == a), "{a}");
    }
}
